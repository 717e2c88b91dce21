"""Solving games: one entry point over pygambit's solvers and the ones written here.

Every result is a frozen :class:`SolveResult` that records the method, its parameters and
the versions that produced it; payoffs and probabilities are exact fractions wherever the
method is exact (``enumpure``, ``enummixed``, ``lcp``, ``lp``, and ``spe`` when all its
subgames are solved exactly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pygambit as gbt

from crisislab import __version__
from crisislab.gt import GT_VERSION
from crisislab.gt.flat import FlatTree, exact, from_gambit
from crisislab.gt.regret import expected_payoffs, nash_conv

METHODS = ("auto", "enumpure", "enummixed", "lcp", "lp", "logit", "spe", "cfr")
EXACT = {"enumpure", "enummixed", "lcp", "lp"}
LCP_LEAF_LIMIT = 400  # beyond this many leaves, lcp/lp can take minutes or blow up

Number = Fraction | float


class SolveError(ValueError):
    """A method that cannot handle this game; the message says which one can."""


@dataclass(frozen=True)
class Equilibrium:
    """One equilibrium: each player's expected payoff and behaviour strategy (for a tree:
    player -> information set -> action -> probability; for a table: player -> strategy
    -> probability)."""

    payoffs: dict[str, Number]
    strategy: dict[str, dict[str, Any]]
    regret: Number | None = None  # NashConv: what best responses gain in total

    def to_json(self, exact_numbers: bool) -> dict[str, Any]:
        return {"payoffs": {k: num_json(v, exact_numbers) for k, v in self.payoffs.items()},
                "strategy": _map_json(self.strategy, exact_numbers),
                **({"regret": num_json(self.regret, exact_numbers)}
                   if self.regret is not None else {})}


@dataclass(frozen=True)
class SolveResult:
    method: str
    game: str
    kind: str  # "tree" or "table"
    players: tuple[str, ...]
    exact: bool
    equilibria: tuple[Equilibrium, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # logit path, CFR exploitability
    profiles: tuple[Any, ...] = field(default=(), repr=False, compare=False)  # per infoset
    versions: dict[str, str] = field(default_factory=lambda: {
        "crisislab": __version__, "pygambit": gbt.__version__, "gt": GT_VERSION})

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "game": self.game, "kind": self.kind,
                "players": list(self.players), "exact": self.exact,
                "parameters": self.parameters, "versions": self.versions,
                "equilibria": [e.to_json(self.exact) for e in self.equilibria],
                **({"details": self.details} if self.details else {})}


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
        out[tree.players[info.player]][info.name] = dict(zip(labels, probs, strict=True))
    return out


def _unique_labels(labels: Sequence[str]) -> list[str]:
    out: list[str] = []
    for i, a in enumerate(labels):
        name = a or f"action {i + 1}"
        while name in out:
            name += "'"
        out.append(name)
    return out


def _tree_equilibrium(tree: FlatTree, profile: Sequence[Sequence[Number]],
                      with_regret: bool = True) -> Equilibrium:
    pay = expected_payoffs(tree, profile)
    regret = nash_conv(tree, profile)[0] if with_regret else None
    return Equilibrium(dict(zip(tree.players, pay, strict=True)),
                       behaviour_names(tree, profile), regret)  # type: ignore[arg-type]


def _from_gambit_profile(game: gbt.Game, tree: FlatTree | None, eq: Any, exact_numbers: bool
                         ) -> tuple[Equilibrium, list[list[Number]] | None]:
    conv = exact if exact_numbers else float
    if game.is_tree:
        assert tree is not None
        if isinstance(eq, gbt.MixedStrategyProfile):
            eq = eq.as_behavior()
        profile: list[list[Number]] = []
        for player in game.players:
            for info in player.infosets:
                profile.append([conv(eq[a]) for a in info.actions])
        return _tree_equilibrium(tree, profile), profile
    strategy: dict[str, Any] = {}
    for player in game.players:
        labels = _unique_labels([s.label for s in player.strategies])
        strategy[player.label] = {lab: conv(eq[s]) for lab, s in
                                  zip(labels, player.strategies, strict=True)}
    payoffs = {p.label: conv(eq.payoff(p)) for p in game.players}
    return Equilibrium(payoffs, strategy, conv(eq.max_regret())), None


# ---- the entry point ----------------------------------------------------------------

def choose_method(game: gbt.Game, tree: FlatTree | None) -> str:
    """``auto``: an exact method where the game allows, else CFR."""
    two = len(game.players) == 2
    if tree is not None and tree.is_perfect_information():
        return "spe"
    if two and game.is_const_sum:
        small = tree is None or len(tree.leaves) <= LCP_LEAF_LIMIT
        return "lp" if small else "cfr"
    if two and (tree is None or len(tree.leaves) <= LCP_LEAF_LIMIT):
        return "lcp"
    if tree is not None:
        return "spe" if sum(tree.subgame_roots()) > len(tree.leaves) + 1 else "cfr"
    return "enumpure" if not two else "lcp"


def solve_game(game: gbt.Game, method: str = "auto", *, iterations: int = 2000,
               target: float = 0.0, limit: int = 64, force: bool = False) -> SolveResult:
    """Solve ``game`` by ``method`` (one of :data:`METHODS`)."""
    if method not in METHODS:
        raise SolveError(f"unknown method '{method}'; use one of: {', '.join(METHODS)}")
    tree = from_gambit(game) if game.is_tree else None
    if method == "auto":
        method = choose_method(game, tree)
    n_players = len(game.players)
    kind = "tree" if tree is not None else "table"
    params: dict[str, Any] = {}
    details: dict[str, Any] = {}
    if tree is not None and method in ("lcp", "lp") and not force \
            and len(tree.leaves) > LCP_LEAF_LIMIT:
        raise SolveError(f"the tree has {len(tree.leaves)} leaves, more than {method} "
                         f"handles well ({LCP_LEAF_LIMIT}); use --method cfr, or cut the "
                         "tree coarser (a smaller --depth), or pass --force")
    if method in ("lcp", "lp") and n_players != 2:
        raise SolveError(f"{method} solves two-player games only; this one has {n_players} "
                         "players: use enumpure, logit, spe or cfr")
    if method == "lp" and not game.is_const_sum:
        raise SolveError("lp solves constant-sum games only; use lcp for this one")
    if method == "enummixed" and (tree is not None or n_players != 2):
        raise SolveError("enummixed enumerates the equilibria of two-player tables only; "
                         "use lcp for a tree")
    if method in ("spe", "cfr") and tree is None:
        raise SolveError(f"{method} needs a game tree (.efg); this is a table: use "
                         "enumpure, enummixed, lcp or logit")
    exact_method = method in EXACT
    equilibria: list[Equilibrium] = []
    profiles: list[Any] = []
    if method in ("enumpure", "enummixed", "lcp", "lp", "logit"):
        if method == "enumpure":
            res = gbt.nash.enumpure_solve(game)
        elif method == "enummixed":
            res = gbt.nash.enummixed_solve(game, rational=True)
        elif method == "lcp":
            res = gbt.nash.lcp_solve(game, rational=True)
        elif method == "lp":
            res = gbt.nash.lp_solve(game, rational=True)
        else:
            res = gbt.nash.logit_solve(game)
            details["logit_path"] = logit_path(game)
        params = {"use_strategic": res.use_strategic, **res.parameters}
        for eq in res.equilibria:
            e, prof = _from_gambit_profile(game, tree, eq, exact_method)
            equilibria.append(e)
            profiles.append(prof)
    elif method == "spe":
        assert tree is not None
        spe = solve_spe(tree, limit=limit)
        exact_method = spe.exact
        params = {"limit": limit}
        details = {"subgames": spe.subgames, "subgame_solvers": list(spe.solvers)}
        for a in spe.profiles:
            prof = [list(a[k]) for k in range(len(tree.infosets))]
            if not exact_method:
                prof = [[float(x) for x in row] for row in prof]  # type: ignore[misc]
            equilibria.append(_tree_equilibrium(tree, prof))
            profiles.append(prof)
    else:
        assert tree is not None
        from crisislab.gt.cfr import solve_cfr

        r = solve_cfr(tree, iterations=iterations, target=target)
        params = {"iterations": r.iterations, "target": target, "variant": "CFR+"}
        details = {"nash_conv": r.nash_conv, "gains": dict(zip(tree.players, r.gains,
                                                                strict=True)),
                   "exploitability": r.nash_conv / n_players,
                   "history": [list(h) for h in r.history]}
        equilibria.append(_tree_equilibrium(tree, r.profile))
        profiles.append(r.profile)
    return SolveResult(method, game.title, kind, tuple(p.label for p in game.players),
                       exact_method, tuple(equilibria), params, details, profiles=tuple(profiles))


def solve_spe(tree: FlatTree, limit: int = 64):  # type: ignore[no-untyped-def]
    from crisislab.gt.spe import solve_spe as run

    return run(tree, limit=limit)


def logit_path(game: gbt.Game, points: int = 12) -> list[dict[str, Any]]:
    """A few points of the logit QRE's principal branch: λ and the probabilities (in the
    order of the game's actions, or strategies for a table)."""
    from pygambit import qre

    branch = qre.logit_solve_branch(game)
    if not branch:
        return []
    step = max(1, len(branch) // points)
    picked = branch[::step]
    if picked[-1] is not branch[-1]:
        picked.append(branch[-1])
    return [{"lambda": float(b.lam), "probabilities": [round(float(b[i]), 6)
                                                      for i in range(len(b))]}
            for b in picked]
