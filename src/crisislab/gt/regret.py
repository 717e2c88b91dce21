"""Expected payoffs, best responses and exploitability of behaviour profiles on a
:class:`FlatTree`, computed exactly (with fractions when the profile is exact), and the
same for strategic-form tables: the checks every solver's answer passes before it is
shown."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, TypeVar

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


def profile_problem(tree: FlatTree, profile: Profile, tol: float = 0.0) -> str | None:
    """Why ``profile`` is not a behaviour profile of ``tree`` (None if it is): a missing
    or short row, a negative probability, or a row that does not sum to one (within
    ``tol``; exactly for exact profiles)."""
    if len(profile) != len(tree.infosets):
        return (
            f"it gives {len(profile)} rows of probabilities for "
            f"{len(tree.infosets)} information sets"
        )
    for k, info in enumerate(tree.infosets):
        row = profile[k]
        where = f"at {tree.players[info.player]}'s information set '{info.name}'"
        if len(row) != len(info.actions):
            return f"{where} it gives {len(row)} probabilities for {len(info.actions)} actions"
        if any(x != x for x in row):  # NaN
            return f"{where} a probability is not a number"
        if any(x < -tol for x in row):
            return f"{where} a probability is negative"
        total = sum(row, 0 * row[0]) if row else 0
        if abs(total - 1) > tol:
            return f"{where} the probabilities add up to {float(total):.6g}, not 1"
    return None


def best_response(
    tree: FlatTree, profile: Profile, player: int, root: int = 0, end: int | None = None
) -> tuple[object, list[int]]:
    """The value of ``player``'s best response to the others' part of ``profile`` in the
    subgame at ``root`` (the whole game by default; ``end`` is one past its last node in
    pre-order), and the action it takes at each of the player's infosets (-1 where never
    reached)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * tree.n_nodes + 1000))
    stop = tree.n_nodes if end is None else end
    one = profile[0][0] * 0 + 1 if profile and profile[0] else Fraction(1)
    # reach of each node by everyone but `player` (chance included), within the subgame
    reach: dict[int, Any] = {root: one}
    for n in range(root, stop):
        p = tree.player[n]
        if p == TERMINAL:
            continue
        probs = (
            tree.probs[n] if p == CHANCE else (None if p == player else profile[tree.infoset[n]])
        )
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
                if reach.get(h):
                    total = total + reach[h] * val(tree.children[h][a])
            if best is None or total > best:
                best, best_i = total, a
        choice[k] = best_i
        return best_i

    v = val(root)
    acts = [
        choice.get(k, -1) if info.player == player else -1 for k, info in enumerate(tree.infosets)
    ]
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


def subgame_gains(
    tree: FlatTree, profile: Profile, tol: float = 0.0, max_nodes: int = 2_000_000
) -> tuple[list[tuple[int, list[object]]], bool]:
    """The proper subgames in which ``profile`` is not a Nash equilibrium: (root, each
    player's gain) where some gain exceeds ``tol``. The second value is False when the
    check stopped after visiting ``max_nodes`` nodes in all (the answer is then partial).
    A profile is subgame-perfect exactly when the list is empty and the check complete."""
    roots = tree.subgame_roots()
    end = tree.subtree_end()
    values = node_values(tree, profile)
    bad: list[tuple[int, list[object]]] = []
    visited = 0
    for r in range(1, tree.n_nodes):
        if not roots[r] or tree.player[r] == TERMINAL:
            continue
        visited += end[r] - r
        if visited > max_nodes:
            return bad, False
        gains = [
            best_response(tree, profile, i, r, end[r])[0] - values[r][i]  # type: ignore[operator]
            for i in range(len(tree.players))
        ]
        if any(g > tol for g in gains):
            bad.append((r, gains))
    return bad, True


def table_payoffs(game: Any) -> tuple[list[int], dict[tuple[int, ...], tuple[Fraction, ...]]]:
    """A pygambit strategic game's payoffs as exact fractions: strategy counts per player,
    and each pure profile's payoff vector."""
    from crisislab.gt.flat import exact

    players = list(game.players)
    strats = [list(p.strategies) for p in players]
    cells: dict[tuple[int, ...], tuple[Fraction, ...]] = {}
    for idx in itertools.product(*(range(len(s)) for s in strats)):
        outcome = game[[strats[i][j] for i, j in enumerate(idx)]]
        cells[idx] = tuple(
            exact(outcome[p]) if outcome is not None else Fraction(0) for p in players
        )
    return [len(s) for s in strats], cells


def table_gains(
    sizes: Sequence[int],
    cells: dict[tuple[int, ...], tuple[Fraction, ...]],
    mix: Sequence[Sequence[Num]],
) -> tuple[list[Any], list[Any]]:
    """Brute force over every pure profile: each player's expected payoff under the mixed
    profile ``mix`` and what its best pure strategy gains over it."""
    n = len(sizes)
    zero = 0 * mix[0][0] if mix and mix[0] else Fraction(0)
    base = [zero] * n
    dev = [[zero] * sizes[i] for i in range(n)]  # player i playing j, the others mixing
    for idx, pay in cells.items():
        w = zero + 1
        for i, j in enumerate(idx):
            w = w * mix[i][j]
        for i in range(n):
            if w:
                base[i] = base[i] + w * pay[i]
            others = zero + 1
            for m, j in enumerate(idx):
                if m != i:
                    others = others * mix[m][j]
            if others:
                dev[i][idx[i]] = dev[i][idx[i]] + others * pay[i]
    gains = [max(dev[i]) - base[i] for i in range(n)]
    return base, gains


def table_problem(
    sizes: Sequence[int], mix: Sequence[Sequence[Any]], labels: Sequence[str], tol: float = 0.0
) -> str | None:
    """Why ``mix`` is not a mixed profile (None if it is)."""
    for i, (k, row) in enumerate(zip(sizes, mix, strict=True)):
        if len(row) != k:
            return f"{labels[i]} gets {len(row)} probabilities for {k} strategies"
        if any(x != x for x in row):  # NaN
            return f"a probability of {labels[i]}'s is not a number"
        if any(x < -tol for x in row):
            return f"a probability of {labels[i]}'s is negative"
        total = sum(row, 0 * row[0]) if row else 0
        if abs(total - 1) > tol:
            return f"{labels[i]}'s probabilities add up to {float(total):.6g}, not 1"
    return None
