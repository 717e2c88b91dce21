"""Expected payoffs, best responses and exploitability of behaviour profiles on a
:class:`FlatTree`, computed exactly (with fractions when the profile is exact)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from fractions import Fraction
from typing import TypeVar

from crisislab.gt.flat import CHANCE, TERMINAL, FlatTree

Num = TypeVar("Num", Fraction, float)
Profile = Sequence[Sequence[Num]]  # infoset index -> action probabilities


def expected_payoffs(tree: FlatTree, profile: Profile) -> list:  # type: ignore[type-arg]
    """Each player's expected payoff under ``profile``."""
    values = node_values(tree, profile)
    return list(values[0])


def node_values(tree: FlatTree, profile: Profile) -> list[list]:  # type: ignore[type-arg]
    """Per node, the vector of expected payoffs of play from that node."""
    out: list[list] = [[] for _ in range(tree.n_nodes)]  # type: ignore[type-arg]
    k = len(tree.players)
    for n in range(tree.n_nodes - 1, -1, -1):
        p = tree.player[n]
        if p == TERMINAL:
            out[n] = list(tree.payoff[n])
            continue
        probs = tree.probs[n] if p == CHANCE else profile[tree.infoset[n]]
        acc = [0 * probs[0]] * k if probs else [Fraction(0)] * k
        for pr, c in zip(probs, tree.children[n], strict=True):
            if pr:
                acc = [a + pr * v for a, v in zip(acc, out[c], strict=True)]
        out[n] = acc
    return out


def best_response(tree: FlatTree, profile: Profile, player: int) -> tuple[object, list[int]]:
    """The value of ``player``'s best response to the others' part of ``profile``, and
    the action it takes at each of the player's infosets (-1 where never reached)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * tree.n_nodes + 1000))
    # reach of each node by everyone but `player` (chance included)
    reach: list = [None] * tree.n_nodes  # type: ignore[type-arg]
    one = profile[0][0] * 0 + 1 if profile and profile[0] else Fraction(1)
    reach[0] = one
    for n in range(tree.n_nodes):
        p = tree.player[n]
        if p == TERMINAL:
            continue
        probs = tree.probs[n] if p == CHANCE else (
            None if p == player else profile[tree.infoset[n]])
        for i, c in enumerate(tree.children[n]):
            reach[c] = reach[n] if probs is None else reach[n] * probs[i]
    choice: dict[int, int] = {}
    value: dict[int, object] = {}

    def val(n: int):  # type: ignore[no-untyped-def]
        if n in value:
            return value[n]
        p = tree.player[n]
        if p == TERMINAL:
            v = tree.payoff[n][player]
        elif p == player:
            v = val(tree.children[n][choose(tree.infoset[n])])
        else:
            probs = tree.probs[n] if p == CHANCE else profile[tree.infoset[n]]
            v = 0 * one
            for pr, c in zip(probs, tree.children[n], strict=True):
                if pr:
                    v = v + pr * val(c)
        value[n] = v
        return v

    def choose(k: int) -> int:
        if k in choice:
            return choice[k]
        info = tree.infosets[k]
        best, best_i = None, 0
        for a in range(len(info.actions)):
            total = 0 * one
            for h in info.nodes:
                if reach[h]:
                    total = total + reach[h] * val(tree.children[h][a])
            if best is None or total > best:
                best, best_i = total, a
        choice[k] = best_i
        return best_i

    v = val(0)
    acts = [choice.get(k, -1) if info.player == player else -1
            for k, info in enumerate(tree.infosets)]
    return v, acts


def nash_conv(tree: FlatTree, profile: Profile) -> tuple[object, list[object]]:
    """Sum over players of what a best response gains over ``profile`` (zero exactly at a
    Nash equilibrium), and each player's gain. For two-player zero-sum games this is the
    usual exploitability times two."""
    base = expected_payoffs(tree, profile)
    gains = []
    for i in range(len(tree.players)):
        br, _ = best_response(tree, profile, i)
        gains.append(br - base[i])  # type: ignore[operator]
    total = gains[0]
    for g in gains[1:]:
        total = total + g  # type: ignore[operator]
    return total, gains
