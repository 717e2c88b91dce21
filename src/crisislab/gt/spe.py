"""Subgame-perfect equilibria by backward induction over subgames.

pygambit 16 has no subgame-perfect solver of its own, so this one walks the tree's
subgames from the leaves up. A subgame whose root is its only decision point (every
subgame of a perfect-information game) is solved directly, with chance averaged out and,
on ties, every best choice kept (pure backward induction, as in Kuhn's theorem). A
subgame with imperfect information is handed, with its own subgames replaced by their
values, to pygambit: ``lcp_solve`` for two players, else ``enumpure_solve``, else the
logit tracer. Combinations are capped at ``limit`` equilibria.

What the answer covers is part of the result: where every subgame has one decision point
the pure-strategy subgame-perfect equilibria are enumerated (and counted, even past
``limit``, by :func:`count_pure_spe`); where a subgame has imperfect information the
solver handed it returns some of its equilibria, not all, and the result says so.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from fractions import Fraction

from crisislab.extras import missing_extra
from crisislab.gt.flat import CHANCE, TERMINAL, FlatTree, exact, to_gambit

with missing_extra("gt"):
    import pygambit as gbt

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
    truncated: bool = False  # the limit cut the enumeration somewhere
    imperfect_subgames: int = 0  # subgames handed to pygambit (some equilibria, not all)
    total: int | None = None  # pure SPE in all, when every subgame has one decision point

    @property
    def complete(self) -> bool:
        """Every pure-strategy subgame-perfect equilibrium is in ``profiles``."""
        return not self.truncated and self.imperfect_subgames == 0


def solve_spe(tree: FlatTree, limit: int = 64) -> SPEResult:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * tree.n_nodes + 1000))
    roots = tree.subgame_roots()
    memo: dict[int, list[Solution]] = {}
    solvers: set[str] = set()
    exact_flag = [True]
    cut = [False]
    handed: set[int] = set()

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
        size = 1
        for f in front:
            size *= len(memo[f])
        if size > limit:
            cut[0] = True
        combos = itertools.islice(itertools.product(*(memo[f] for f in front)), limit)
        out: list[Solution] = []
        seen = 0
        for combo in combos:
            seen += 1
            below = dict(zip(front, combo, strict=True))
            inherited: tuple[tuple[int, tuple[Fraction, ...]], ...] = tuple(
                item for s in combo for item in s.assignment
            )
            if len(inner) == 1:
                out.extend(_one_move(tree, n, below, inherited))
            else:
                handed.add(n)
                out.extend(_hand_to_gambit(tree, n, below, inherited, solvers, exact_flag))
            if len(out) >= limit:
                break
        unique = _unique(out)
        if len(unique) > limit or seen < size:
            cut[0] = True
        memo[n] = unique[:limit]
        return memo[n]

    sols = solve(0)
    profiles = []
    for s in sols:
        a = dict(s.assignment)
        for k, info in enumerate(tree.infosets):  # infosets off every subgame's path
            a.setdefault(k, tuple(Fraction(1 if i == 0 else 0) for i in range(len(info.actions))))
        profiles.append(a)
    total = count_pure_spe(tree) if not handed else None
    truncated = cut[0] or (total is not None and total > len(profiles))
    return SPEResult(
        tuple(profiles),
        exact_flag[0],
        sum(roots) - len(tree.leaves),
        tuple(sorted(solvers)),
        truncated,
        len(handed),
        total,
    )


def count_pure_spe(tree: FlatTree, budget: int = 500_000) -> int | None:
    """How many pure-strategy subgame-perfect equilibria a game in which every subgame has
    one decision point (perfect information, chance allowed) has, by backward induction
    over payoff vectors: a subtree's equilibria are its children's, combined, times the
    best choices at its root. None for other games, or past ``budget`` combinations."""
    if not tree.is_perfect_information():
        return None
    memo: dict[int, dict[tuple[Fraction, ...], int]] = {}
    work = 0
    for n in range(tree.n_nodes - 1, -1, -1):  # children come after parents in pre-order
        who = tree.player[n]
        if who == TERMINAL:
            memo[n] = {tuple(tree.payoff[n]): 1}
            continue
        kids = tree.children[n]
        acc: dict[tuple[Fraction, ...], int] = {}
        for combo in itertools.product(*(list(memo[c].items()) for c in kids)):
            work += 1
            if work > budget:
                return None
            mult = 1
            for _, count in combo:
                mult *= count
            if who == CHANCE:
                v = tuple(
                    sum(
                        (pr * vals[i] for pr, (vals, _) in zip(tree.probs[n], combo, strict=True)),
                        Fraction(0),
                    )
                    for i in range(len(tree.players))
                )
                acc[v] = acc.get(v, 0) + mult
            else:
                best = max(vals[who] for vals, _ in combo)
                for vals, _ in combo:
                    if vals[who] == best:
                        acc[vals] = acc.get(vals, 0) + mult
        for c in kids:
            del memo[c]
        memo[n] = acc
    return sum(memo[0].values())


def _unique(sols: list[Solution]) -> list[Solution]:
    seen, out = set(), []
    for s in sols:
        key = tuple(sorted(s.assignment))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _one_move(
    tree: FlatTree,
    n: int,
    below: dict[int, Solution],
    inherited: tuple[tuple[int, tuple[Fraction, ...]], ...],
) -> list[Solution]:
    kids = tree.children[n]
    if tree.player[n] == CHANCE:
        values = tuple(
            sum(
                (p * below[c].values[i] for p, c in zip(tree.probs[n], kids, strict=True)),
                Fraction(0),
            )
            for i in range(len(tree.players))
        )
        return [Solution(values, inherited)]
    who = tree.player[n]
    best = max(below[c].values[who] for c in kids)
    out = []
    for i, c in enumerate(kids):
        if below[c].values[who] == best:
            pure = tuple(Fraction(1 if j == i else 0) for j in range(len(kids)))
            out.append(Solution(below[c].values, inherited + ((tree.infoset[n], pure),)))
    return out


def _hand_to_gambit(
    tree: FlatTree,
    n: int,
    below: dict[int, Solution],
    inherited: tuple[tuple[int, tuple[Fraction, ...]], ...],
    solvers: set[str],
    exact_flag: list[bool],
) -> list[Solution]:
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
