"""Subgame-perfect equilibria by backward induction over subgames.

pygambit 16 has no subgame-perfect solver of its own, so this one walks the tree's
subgames from the leaves up. A subgame whose root is its only decision point (every
subgame of a perfect-information game) is solved directly, with chance averaged out and,
on ties, every best choice kept (pure backward induction, as in Kuhn's theorem). A
subgame with imperfect information is handed, with its own subgames replaced by their
values, to pygambit: ``lcp_solve`` for two players, else ``enumpure_solve``, else the
logit tracer. Combinations are capped at ``limit`` equilibria.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import pygambit as gbt

from crisislab.gt.flat import CHANCE, TERMINAL, FlatTree, exact, to_gambit

Assignment = dict[int, tuple[Fraction, ...]]  # infoset index -> action probabilities


@dataclass(frozen=True)
class Solution:
    values: tuple[Fraction, ...]
    assignment: tuple[tuple[int, tuple[Fraction, ...]], ...]


@dataclass(frozen=True)
class SPEResult:
    profiles: tuple[Assignment, ...]
    exact: bool
    subgames: int
    solvers: tuple[str, ...]  # what solved the imperfect-information subgames


def solve_spe(tree: FlatTree, limit: int = 64) -> SPEResult:
    roots = tree.subgame_roots()
    memo: dict[int, list[Solution]] = {}
    solvers: set[str] = set()
    exact_flag = [True]

    def frontier(n: int) -> tuple[list[int], list[int]]:
        """Decision nodes of the subgame at n above its own subgames, and those subgames."""
        inner, front, stack = [], [], [n]
        while stack:
            m = stack.pop()
            if m != n and roots[m]:
                front.append(m)
                continue
            inner.append(m)
            stack.extend(reversed(tree.children[m]))
        return inner, front

    def solve(n: int) -> list[Solution]:
        if n in memo:
            return memo[n]
        if tree.player[n] == TERMINAL:
            memo[n] = [Solution(tree.payoff[n], ())]
            return memo[n]
        inner, front = frontier(n)
        for f in front:
            solve(f)
        combos = itertools.islice(itertools.product(*(memo[f] for f in front)), limit)
        out: list[Solution] = []
        for combo in combos:
            below = dict(zip(front, combo, strict=True))
            inherited: tuple[tuple[int, tuple[Fraction, ...]], ...] = tuple(
                item for s in combo for item in s.assignment)
            if len(inner) == 1:
                out.extend(_one_move(tree, n, below, inherited))
            else:
                out.extend(_hand_to_gambit(tree, n, below, inherited, solvers, exact_flag))
            if len(out) >= limit:
                break
        memo[n] = _unique(out)[:limit]
        return memo[n]

    sols = solve(0)
    profiles = []
    for s in sols:
        a = dict(s.assignment)
        for k, info in enumerate(tree.infosets):  # infosets off every subgame's path
            a.setdefault(k, tuple(Fraction(1 if i == 0 else 0) for i in range(len(info.actions))))
        profiles.append(a)
    return SPEResult(tuple(profiles), exact_flag[0], sum(roots) - len(tree.leaves),
                     tuple(sorted(solvers)))


def _unique(sols: list[Solution]) -> list[Solution]:
    seen, out = set(), []
    for s in sols:
        key = tuple(sorted(s.assignment))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _one_move(tree: FlatTree, n: int, below: dict[int, Solution],
              inherited: tuple[tuple[int, tuple[Fraction, ...]], ...]) -> list[Solution]:
    kids = tree.children[n]
    if tree.player[n] == CHANCE:
        values = tuple(sum((p * below[c].values[i] for p, c in zip(tree.probs[n], kids,
                                                                     strict=True)),
                           Fraction(0)) for i in range(len(tree.players)))
        return [Solution(values, inherited)]
    who = tree.player[n]
    best = max(below[c].values[who] for c in kids)
    out = []
    for i, c in enumerate(kids):
        if below[c].values[who] == best:
            pure = tuple(Fraction(1 if j == i else 0) for j in range(len(kids)))
            out.append(Solution(below[c].values, inherited + ((tree.infoset[n], pure),)))
    return out


def _hand_to_gambit(tree: FlatTree, n: int, below: dict[int, Solution],
                    inherited: tuple[tuple[int, tuple[Fraction, ...]], ...],
                    solvers: set[str], exact_flag: list[bool]) -> list[Solution]:
    game = to_gambit(tree, n, {f: s.values for f, s in below.items()}, keyed=True)
    eqs: list = []  # type: ignore[type-arg]
    if len(tree.players) == 2:
        eqs = list(gbt.nash.lcp_solve(game, rational=True).equilibria)
        solvers.add("lcp")
    if not eqs:
        eqs = [e.as_behavior() for e in gbt.nash.enumpure_solve(game).equilibria]
        solvers.add("enumpure")
    if not eqs:
        eqs = list(gbt.nash.logit_solve(game).equilibria)
        solvers.add("logit")
        exact_flag[0] = False
    out = []
    for eq in eqs:
        assignment = list(inherited)
        for player in game.players:
            for info in player.infosets:
                k = int(info.label[1:])
                assignment.append((k, tuple(exact(eq[a]) for a in info.actions)))
        values = tuple(exact(eq.payoff(p)) for p in game.players)
        out.append(Solution(values, tuple(assignment)))
    return out
