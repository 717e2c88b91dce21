"""Checking a profile before it is shown: that it is a profile at all, what a best
response gains each player (exactly, for exact profiles), and whether it is an
equilibrium in every subgame; computed here, independently of the solver that produced
it. :mod:`crisislab.gt.solve` runs these on every answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from crisislab.extras import missing_extra
from crisislab.gt.flat import TERMINAL, FlatTree
from crisislab.gt.regret import (
    expected_payoffs,
    nash_conv,
    profile_problem,
    subgame_gains,
    table_gains,
    table_problem,
)

with missing_extra("gt"):
    import pygambit as gbt

Number = Fraction | float


@dataclass(frozen=True)
class Equilibrium:
    """One equilibrium: each player's expected payoff and behaviour strategy (for a tree:
    player -> information set -> action -> probability; for a table: player -> strategy
    -> probability), with what a best response would gain for each player (``gains``;
    ``regret`` is their sum, NashConv) and, for trees, whether it is subgame-perfect
    (None: not checked)."""

    payoffs: dict[str, Number]
    strategy: dict[str, dict[str, Any]]
    regret: Number | None = None  # NashConv: what best responses gain in total
    gains: dict[str, Number] = field(default_factory=dict)
    verified: bool = True  # every gain within the method's tolerance
    subgame_perfect: bool | None = None
    subgame_failures: tuple[dict[str, Any], ...] = ()  # where it is not, and by how much

    def to_json(self, exact_numbers: bool) -> dict[str, Any]:
        return {
            "payoffs": {k: num_json(v, exact_numbers) for k, v in self.payoffs.items()},
            "strategy": _map_json(self.strategy, exact_numbers),
            **({"regret": num_json(self.regret, exact_numbers)} if self.regret is not None else {}),
            "regret_by_player": {k: num_json(v, exact_numbers) for k, v in self.gains.items()},
            "verified": self.verified,
            **(
                {"subgame_perfect": self.subgame_perfect}
                if self.subgame_perfect is not None
                else {}
            ),
            **(
                {
                    "not_subgame_perfect_at": [
                        {
                            **f,
                            "gains": {k: num_json(v, exact_numbers) for k, v in f["gains"].items()},
                        }
                        for f in self.subgame_failures
                    ]
                }
                if self.subgame_failures
                else {}
            ),
        }


def num_json(x: Any, exact_numbers: bool) -> Any:
    """Exact numbers as strings of fractions ("1/3"); others as floats."""
    if isinstance(x, Fraction) and exact_numbers:
        return str(x)
    return float(x)


def _map_json(m: Any, exact_numbers: bool) -> Any:
    if isinstance(m, dict):
        return {k: _map_json(v, exact_numbers) for k, v in m.items()}
    return num_json(m, exact_numbers)


# ---- turning profiles into named strategies ---------------------------------------------


def behaviour_names(tree: FlatTree, profile: Sequence[Sequence[Number]]) -> dict[str, Any]:
    out: dict[str, Any] = {p: {} for p in tree.players}
    for k, info in enumerate(tree.infosets):
        probs = profile[k]
        labels = _unique_labels(info.actions)
        out[tree.players[info.player]][info.name] = dict(zip(labels, probs, strict=False))
    return out


def _unique_labels(labels: Sequence[str]) -> list[str]:
    out: list[str] = []
    for i, a in enumerate(labels):
        name = a or f"action {i + 1}"
        while name in out:
            name += "'"
        out.append(name)
    return out


# ---- checking a profile -------------------------------------------------------------------


def payoff_range(
    tree: FlatTree | None, cells: dict[tuple[int, ...], tuple[Fraction, ...]] | None
) -> Fraction:
    values = (
        [v for n in (tree.leaves if tree else []) for v in tree.payoff[n]]  # type: ignore[union-attr]
        + [v for pay in (cells or {}).values() for v in pay]
    )
    return (max(values) - min(values)) if values else Fraction(0)


def check_tree_profile(
    tree: FlatTree, profile: list[list[Number]], tol: float, subgames: bool = True
) -> tuple[Equilibrium, str | None]:
    """Verify a behaviour profile: a problem with the profile itself (returned as text),
    else each player's gain from a best response and, with ``subgames``, the proper
    subgames where it is not an equilibrium."""
    problem = profile_problem(tree, profile, tol)
    strategy = behaviour_names(tree, profile)
    if problem is not None:
        return Equilibrium({p: 0 for p in tree.players}, strategy, None, {}, False), problem
    pay = expected_payoffs(tree, profile)
    total, gains = nash_conv(tree, profile)
    verified = all(g <= tol for g in gains)  # type: ignore[operator]
    spe: bool | None = None
    fails: list[dict[str, Any]] = []
    if subgames and verified:
        bad, checked = subgame_gains(tree, profile, tol)
        spe = (not bad) if checked else (False if bad else None)
        for root, g in bad[:5]:
            fails.append(_subgame_where(tree, root, g))
    return Equilibrium(
        dict(zip(tree.players, pay, strict=True)),
        strategy,
        total,  # type: ignore[arg-type]
        dict(zip(tree.players, gains, strict=True)),  # type: ignore[arg-type]
        verified,
        spe,
        tuple(fails),
    ), None


def _subgame_where(tree: FlatTree, root: int, gains: list[Any]) -> dict[str, Any]:
    """A subgame in words: its first decision and who gains there by deviating."""
    n = root
    while tree.player[n] < 0 and tree.player[n] != TERMINAL and tree.children[n]:
        n = tree.children[n][0]  # a chance root: name the first decision below it
    info = tree.infosets[tree.infoset[n]] if tree.player[n] >= 0 else None
    where = (
        f"the subgame that starts at {tree.players[info.player]}'s information set '{info.name}'"
        if info
        else "a subgame of chance moves"
    )
    return {
        "node": root,
        "where": where,
        "gains": {p: g for p, g in zip(tree.players, gains, strict=True) if g > 0},
    }


def complete_unreached(
    tree: FlatTree, profile: list[list[Number]]
) -> tuple[list[list[Number]], int]:
    """Rows a solver left empty (all zero) at information sets the profile never reaches:
    any action is a best reply there as far as Nash equilibrium goes, so the first one is
    put in. Returns the profile and how many rows were filled."""
    filled = 0
    reach: list[Any] = [0] * tree.n_nodes
    reach[0] = 1
    out = [list(r) for r in profile]
    for n in range(tree.n_nodes):
        p = tree.player[n]
        if p == TERMINAL:
            continue
        probs = tree.probs[n] if p < 0 else out[tree.infoset[n]]
        for i, c in enumerate(tree.children[n]):
            reach[c] = reach[n] * probs[i] if i < len(probs) else 0
    for k, info in enumerate(tree.infosets):
        row = out[k]
        if (
            len(row) == len(info.actions)
            and row
            and all(x == 0 for x in row)
            and all(reach[h] == 0 for h in info.nodes)
        ):
            zero = row[0]
            out[k] = [zero + 1 if i == 0 else zero for i in range(len(row))]
            filled += 1
    return out, filled


def check_table_profile(
    game: gbt.Game,
    sizes: list[int],
    cells: dict[tuple[int, ...], tuple[Fraction, ...]],
    mix: list[list[Number]],
    tol: float,
) -> tuple[Equilibrium, str | None]:
    labels = [p.label for p in game.players]
    strategy: dict[str, Any] = {}
    for player, row in zip(game.players, mix, strict=True):
        names = _unique_labels([s.label for s in player.strategies])
        strategy[player.label] = dict(zip(names, row, strict=False))
    problem = table_problem(sizes, mix, labels, tol)
    if problem is not None:
        return Equilibrium({p: 0 for p in labels}, strategy, None, {}, False), problem
    base, gains = table_gains(sizes, cells, mix)  # type: ignore[type-var]
    total = gains[0]
    for g in gains[1:]:
        total = total + g
    return Equilibrium(
        dict(zip(labels, base, strict=True)),
        strategy,
        total,
        dict(zip(labels, gains, strict=True)),
        all(g <= tol for g in gains),
    ), None
