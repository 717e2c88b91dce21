"""Solving games: one entry point over pygambit's solvers and the ones written here.

Every result is a frozen :class:`SolveResult` that records the method, its parameters and
the versions that produced it; payoffs and probabilities are exact fractions wherever the
method is exact (``enumpure``, ``enummixed``, ``lcp``, ``lp``, and ``spe`` when all its
subgames are solved exactly).

No profile is shown unchecked. Each one a method returns is verified here, by best
responses computed independently of the solver (exactly for exact methods): it must be a
profile (probabilities that are non-negative and add up to one) and no player may gain by
deviating beyond the method's tolerance (zero for exact methods). A profile that fails is
a *solver failure*, reported with its regret; the answer then comes from a method that is
correct for the game (backward induction for perfect information, the strategic-form lp
or lcp for two players, enumeration otherwise), and the result says so. Profiles on trees
are also checked for subgame perfection. Whatever the answer leaves out (a cap, a solver
that finds some equilibria rather than all) is stated in ``complete`` and ``notes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import pygambit as gbt

from crisislab import __version__
from crisislab.gt import GT_VERSION
from crisislab.gt.flat import TERMINAL, FlatTree, exact, from_gambit, recall_problem
from crisislab.gt.regret import (
    expected_payoffs,
    nash_conv,
    node_values,
    profile_problem,
    subgame_gains,
    table_gains,
    table_payoffs,
    table_problem,
)

METHODS = ("auto", "enumpure", "enummixed", "lcp", "lp", "logit", "spe", "cfr")
EXACT = {"enumpure", "enummixed", "lcp", "lp"}
LCP_LEAF_LIMIT = 400  # beyond this many leaves, lcp/lp can take minutes or blow up
FLOAT_TOLERANCE = 1e-6  # approximate methods: gains up to this times the payoff range
# what each method finds: all equilibria of its kind, or some
FINDS = {"enumpure": "all pure-strategy equilibria", "enummixed": "all extreme equilibria "
         "(every equilibrium is a mixture of them)", "lcp": "some equilibria (Lemke's "
         "algorithm follows one path per start), not all", "lp": "one equilibrium (in "
         "a zero-sum game any other has the same value)", "logit": "one "
         "equilibrium, the limit of the logit quantal-response branch",
         "cfr": "one approximate equilibrium", "enumpoly": "the equilibria of each "
         "support it searches, to floating-point accuracy"}

Number = Fraction | float


class SolveError(ValueError):
    """A method that cannot handle this game; the message says which one can."""


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
        return {"payoffs": {k: num_json(v, exact_numbers) for k, v in self.payoffs.items()},
                "strategy": _map_json(self.strategy, exact_numbers),
                **({"regret": num_json(self.regret, exact_numbers)}
                   if self.regret is not None else {}),
                "regret_by_player": {k: num_json(v, exact_numbers)
                                     for k, v in self.gains.items()},
                "verified": self.verified,
                **({"subgame_perfect": self.subgame_perfect}
                   if self.subgame_perfect is not None else {}),
                **({"not_subgame_perfect_at": [
                    {**f, "gains": {k: num_json(v, exact_numbers)
                                    for k, v in f["gains"].items()}}
                    for f in self.subgame_failures]} if self.subgame_failures else {})}


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
    requested: str = ""  # the method asked for ("auto" resolved), before any fallback
    complete: bool = True  # every equilibrium of the kind the method promises is here
    finds: str = ""  # what the method finds, in words
    notes: tuple[str, ...] = ()  # caps, partial answers, fallbacks, in words
    failures: tuple[dict[str, Any], ...] = ()  # profiles that failed the check
    tolerance: float = 0.0
    versions: dict[str, str] = field(default_factory=lambda: {
        "crisislab": __version__, "pygambit": gbt.__version__, "gt": GT_VERSION})

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "requested_method": self.requested or self.method,
                "game": self.game, "kind": self.kind,
                "players": list(self.players), "exact": self.exact,
                "complete": self.complete, "finds": self.finds,
                **({"limit": self.parameters["limit"]} if "limit" in self.parameters else {}),
                "left_out": self.details.get("left_out", []) if not self.complete else [],
                "tolerance": self.tolerance, "notes": list(self.notes),
                "solver_failures": [dict(f) for f in self.failures],
                "parameters": _plain_json(self.parameters), "versions": self.versions,
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


def _plain_json(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain_json(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain_json(v) for v in x]
    if isinstance(x, Fraction):
        return str(x)
    if isinstance(x, str | int | float | bool) or x is None:
        return x
    return str(x)


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

def payoff_range(tree: FlatTree | None, cells: dict[tuple[int, ...], tuple[Fraction, ...]]
                 | None) -> Fraction:
    values = ([v for n in (tree.leaves if tree else []) for v in tree.payoff[n]]  # type: ignore[union-attr]
              + [v for pay in (cells or {}).values() for v in pay])
    return (max(values) - min(values)) if values else Fraction(0)


def check_tree_profile(tree: FlatTree, profile: list[list[Number]], tol: float,
                       subgames: bool = True) -> tuple[Equilibrium, str | None]:
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
    return Equilibrium(dict(zip(tree.players, pay, strict=True)), strategy, total,  # type: ignore[arg-type]
                       dict(zip(tree.players, gains, strict=True)), verified,  # type: ignore[arg-type]
                       spe, tuple(fails)), None


def _subgame_where(tree: FlatTree, root: int, gains: list[Any]) -> dict[str, Any]:
    """A subgame in words: its first decision and who gains there by deviating."""
    n = root
    while tree.player[n] < 0 and tree.player[n] != TERMINAL and tree.children[n]:
        n = tree.children[n][0]  # a chance root: name the first decision below it
    info = tree.infosets[tree.infoset[n]] if tree.player[n] >= 0 else None
    where = (f"the subgame that starts at {tree.players[info.player]}'s information set "
             f"'{info.name}'" if info else "a subgame of chance moves")
    return {"node": root, "where": where,
            "gains": {p: g for p, g in zip(tree.players, gains, strict=True) if g > 0}}


def complete_unreached(tree: FlatTree, profile: list[list[Number]]) -> tuple[
        list[list[Number]], int]:
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
        if len(row) == len(info.actions) and row and all(x == 0 for x in row) \
                and all(reach[h] == 0 for h in info.nodes):
            zero = row[0]
            out[k] = [zero + 1 if i == 0 else zero for i in range(len(row))]
            filled += 1
    return out, filled


def check_table_profile(game: gbt.Game, sizes: list[int],
                        cells: dict[tuple[int, ...], tuple[Fraction, ...]],
                        mix: list[list[Number]], tol: float) -> tuple[Equilibrium, str | None]:
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
    return Equilibrium(dict(zip(labels, base, strict=True)), strategy, total,
                       dict(zip(labels, gains, strict=True)),
                       all(g <= tol for g in gains)), None


# ---- running one method --------------------------------------------------------------

@dataclass
class _Run:
    method: str
    exact: bool
    profiles: list[list[list[Number]]]  # per equilibrium: per infoset (or player) a row
    params: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    finds: str = ""


def _gambit_rows(game: gbt.Game, eq: Any, exact_numbers: bool) -> list[list[Number]]:
    conv = exact if exact_numbers else float
    if game.is_tree:
        if isinstance(eq, gbt.MixedStrategyProfile):
            eq = eq.as_behavior()
        return [[conv(eq[a]) for a in info.actions]
                for player in game.players for info in player.infosets]
    return [[conv(eq[s]) for s in player.strategies] for player in game.players]


def _run_gambit(game: gbt.Game, method: str, strategic: bool) -> _Run:
    kw: dict[str, Any] = {"use_strategic": True} if strategic and game.is_tree else {}
    details: dict[str, Any] = {}
    if method == "enumpure":
        res = gbt.nash.enumpure_solve(game)
    elif method == "enummixed":
        res = gbt.nash.enummixed_solve(game, rational=True)
    elif method == "lcp":
        res = gbt.nash.lcp_solve(game, rational=True, **kw)
    elif method == "lp":
        res = gbt.nash.lp_solve(game, rational=True, **kw)
    elif method == "enumpoly":
        res = gbt.nash.enumpoly_solve(game, use_strategic=True)
    else:
        res = gbt.nash.logit_solve(game)
        details = logit_details(game, res)
    exact_numbers = method in EXACT
    run = _Run(method, exact_numbers, [_gambit_rows(game, eq, exact_numbers)
                                       for eq in res.equilibria],
               {"use_strategic": res.use_strategic, **res.parameters}, details,
               method in ("enumpure", "enummixed"), finds=FINDS[method])
    if method == "enumpoly":
        run.complete = False
    return run


def _run_spe(tree: FlatTree, limit: int) -> _Run:
    from crisislab.gt.spe import solve_spe

    spe = solve_spe(tree, limit=limit)
    profiles: list[list[list[Number]]] = []
    for a in spe.profiles:
        prof: list[list[Number]] = [list(a[k]) for k in range(len(tree.infosets))]
        if not spe.exact:
            prof = [[float(x) for x in row] for row in prof]
        profiles.append(prof)
    notes: list[str] = []
    left_out: list[str] = []
    if spe.imperfect_subgames:
        left_out.append(f"equilibria of {spe.imperfect_subgames} imperfect-information "
                        "subgames that the subgame solver does not find")
        finds = ("some subgame-perfect equilibria: pure backward induction where a "
                 "subgame has one decision point, and the equilibria "
                 f"{' or '.join(spe.solvers)} finds (some, not all) in each of the "
                 f"{spe.imperfect_subgames} subgames with imperfect information")
        notes.append(f"not every subgame-perfect equilibrium: {spe.imperfect_subgames} "
                     "subgames have imperfect information, and for those the solver "
                     f"({', '.join(spe.solvers)}) returns some equilibria, not all")
    else:
        finds = ("all pure-strategy subgame-perfect equilibria, by backward induction "
                 "(where a player is indifferent, mixtures of the tied choices are "
                 "subgame-perfect too)")
    if spe.truncated:
        if spe.total is not None:
            left = (f"{spe.total:,} pure-strategy subgame-perfect equilibria exist; "
                    f"{spe.total - len(profiles):,} are left out")
            left_out.append(f"{spe.total - len(profiles)} pure-strategy subgame-perfect "
                            f"equilibria past --limit {limit}")
        else:
            left = "more exist than are listed; how many was not counted"
            left_out.append(f"pure-strategy subgame-perfect equilibria past --limit {limit} "
                            "(not counted)")
        notes.append(f"capped at --limit {limit}: {left} (raise --limit to see more)")
    return _Run("spe", spe.exact, profiles,
                {"limit": limit}, {"subgames": spe.subgames,
                                   "subgame_solvers": list(spe.solvers),
                                   "imperfect_information_subgames": spe.imperfect_subgames,
                                   **({"total_pure_spe": spe.total}
                                      if spe.total is not None else {}),
                                   **({"left_out": left_out} if left_out else {})},
                spe.complete, notes, finds)


def _run_cfr(tree: FlatTree, iterations: int, target: float) -> _Run:
    from crisislab.gt.cfr import solve_cfr

    r = solve_cfr(tree, iterations=iterations, target=target)
    n = len(tree.players)
    return _Run("cfr", False, [r.profile],  # type: ignore[list-item]
                {"iterations": r.iterations, "target": target, "variant": "CFR+"},
                {"nash_conv": r.nash_conv, "gains": dict(zip(tree.players, r.gains,
                                                             strict=True)),
                 "exploitability": r.nash_conv / n,
                 "history": [list(h) for h in r.history]}, False, [], FINDS["cfr"])


def _run(game: gbt.Game, tree: FlatTree | None, method: str, *, strategic: bool = False,
         iterations: int = 2000, target: float = 0.0, limit: int = 64) -> _Run:
    if method == "spe":
        assert tree is not None
        return _run_spe(tree, limit)
    if method == "cfr":
        assert tree is not None
        return _run_cfr(tree, iterations, target)
    run = _run_gambit(game, method, strategic)
    if strategic and game.is_tree:
        run.method = f"{method} (strategic form)"
    return run


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


def fallback_methods(game: gbt.Game, tree: FlatTree | None, failed: str) -> list[
        tuple[str, bool]]:
    """Methods correct for this game, in the order to try them after ``failed``: (method,
    on the strategic form)."""
    two = len(game.players) == 2
    out: list[tuple[str, bool]] = []
    small = tree is None or len(tree.leaves) <= LCP_LEAF_LIMIT
    if tree is not None and tree.is_perfect_information():
        out.append(("spe", False))
    if two and small:
        if game.is_const_sum:
            out += [("lp", True), ("lcp", True)]
        else:
            out += [("lcp", False), ("lcp", True)]
        if tree is None:
            out.append(("enummixed", False))
    if not two and small and _strategic_size(game) <= 4096:
        out += [("enumpoly", True), ("enumpure", False)]
    return [(m, s) for m, s in out if not (m == failed and (not s or tree is None))]


def _strategic_size(game: gbt.Game) -> int:
    size = 1
    for p in game.players:
        size *= len(p.strategies)
        if size > 10**6:
            break
    return size


def solve_game(game: gbt.Game, method: str = "auto", *, iterations: int = 2000,
               target: float = 0.0, limit: int = 64, force: bool = False,
               fallback: bool = True) -> SolveResult:
    """Solve ``game`` by ``method`` (one of :data:`METHODS`), verify every profile, and
    fall back to a method correct for the game when a profile fails (unless
    ``fallback`` is False: the failing profiles are then shown, marked)."""
    if method not in METHODS:
        raise SolveError(f"unknown method '{method}'; use one of: {', '.join(METHODS)}")
    tree = from_gambit(game) if game.is_tree else None
    if tree is not None:
        problem = recall_problem(tree)
        if problem:
            raise SolveError(f"this game has imperfect recall ({problem}); the solvers "
                             "here (and Nash equilibrium in behaviour strategies) need "
                             "perfect recall: give the player separate information sets "
                             "for moves it can tell apart")
    if method == "auto":
        method = choose_method(game, tree)
    n_players = len(game.players)
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
    sizes, cells = table_payoffs(game) if tree is None else ([], {})
    scale = float(max(payoff_range(tree, cells), Fraction(1)))
    opts = {"iterations": iterations, "target": target, "limit": limit}
    run = _run(game, tree, method, **opts)  # type: ignore[arg-type]
    keep = not fallback or method == "cfr"
    result, failures = _checked(game, tree, run, sizes, cells, scale, target, keep)
    if not failures or keep:
        return replace(result, requested=method, failures=tuple(failures))
    first_words = _failure_words(failures)
    if method == "logit" and "final_lambda" in run.details:
        first_words = (f"did not converge: the tracer stopped at lambda "
                       f"{run.details['final_lambda']:.4g} with NashConv "
                       f"{run.details['final_regret']:.3g}, and {first_words}")
    failures[0]["words"] = first_words
    for alt, strategic in fallback_methods(game, tree, method):
        try:
            run2 = _run(game, tree, alt, strategic=strategic, **opts)  # type: ignore[arg-type]
        except (RuntimeError, ValueError):
            continue
        res2, fails2 = _checked(game, tree, run2, sizes, cells, scale, target, False)
        if res2.equilibria and not fails2:
            note = (f"{method} failed the check, so the answer shown is that of "
                    f"{res2.method}, a method correct for this game; every profile of it "
                    "passed the check")
            details = {**res2.details, "failed": {"method": method, **{
                k: v for k, v in run.details.items() if k in ("final_lambda",
                                                              "final_regret")}}}
            return replace(res2, requested=method, failures=tuple(failures),
                           notes=(note, *res2.notes), details=details)
        failures += fails2
    note = (f"{method} failed the check and no other method gave a profile that passes: "
            "no equilibrium can be shown")
    return replace(result, requested=method, equilibria=(), profiles=(),
                   failures=tuple(failures), complete=False, notes=(note, *result.notes))


def _failure_words(failures: list[dict[str, Any]]) -> str:
    f = failures[0]
    more = f", and {len(failures) - 1} more" if len(failures) > 1 else ""
    if f.get("problem"):
        return f"returned something that is not a strategy profile: {f['problem']}{more}"
    worst = max(f["regret_by_player"].items(), key=lambda kv: kv[1])
    return (f"returned a profile that is not an equilibrium: {worst[0]} gains "
            f"{worst[1]:.6g} by deviating{more}")


def _checked(game: gbt.Game, tree: FlatTree | None, run: _Run, sizes: list[int],
             cells: dict[tuple[int, ...], tuple[Fraction, ...]], scale: float,
             target: float, keep: bool) -> tuple[SolveResult, list[dict[str, Any]]]:
    """Verify every profile of ``run``: the result with the checked equilibria, and the
    failures (as plain data). With ``keep``, failing profiles stay in the result, marked
    (``verified`` False)."""
    tol = 0.0 if run.exact else FLOAT_TOLERANCE * scale
    if run.method == "cfr" and target > 0:
        tol = max(tol, target)
    equilibria: list[Equilibrium] = []
    profiles: list[Any] = []
    failures: list[dict[str, Any]] = []
    notes = list(run.notes)
    filled_total = 0
    for prof in run.profiles:
        if tree is not None:
            prof, filled = complete_unreached(tree, prof)
            filled_total += filled
            eq, problem = check_tree_profile(tree, prof, tol,
                                             subgames=not run.method.startswith("spe"))
            if run.method.startswith("spe") and eq.verified and problem is None:
                eq = replace(eq, subgame_perfect=True)
        else:
            eq, problem = check_table_profile(game, sizes, cells, prof, tol)
        if problem is not None or not eq.verified:
            failures.append({"method": run.method, "problem": problem,
                             "regret": float(eq.regret) if eq.regret is not None else None,
                             "regret_by_player": {k: float(v) for k, v in eq.gains.items()},
                             "tolerance": tol})
            if keep and problem is None:  # shown, marked as not an equilibrium
                equilibria.append(eq)
                profiles.append(prof)
            continue
        equilibria.append(eq)
        profiles.append(prof)
    if filled_total:
        notes.append(f"{run.method} gave no probabilities at {filled_total} information "
                     "sets that its equilibria never reach; the first action is shown "
                     "there (any action keeps the profile a Nash equilibrium)")
    if any(e.subgame_perfect is False for e in equilibria):
        k = sum(1 for e in equilibria if e.subgame_perfect is False)
        which = ("this equilibrium is a Nash equilibrium that is not subgame-perfect: off "
                 "the path of play it relies" if len(equilibria) == 1 else
                 f"{k} of the {len(equilibria)} equilibria are Nash equilibria that are not "
                 "subgame-perfect: off the path of play they rely")
        notes.append(f"{which} on threats a player would not carry out (use --method spe "
                     "for subgame-perfect ones)")
    if tree is not None and any(e.subgame_perfect is None and e.verified
                                for e in equilibria) and not run.method.startswith("spe"):
        notes.append("the tree is too large to check every subgame: whether these "
                     "equilibria are subgame-perfect is not known (use --method spe)")
    if run.method == "logit":
        d = run.details
        if failures:
            notes.append(f"logit did not converge: the tracer stopped at lambda "
                         f"{d['final_lambda']:.4g} with NashConv {d['final_regret']:.3g}, "
                         "so its profile is not an equilibrium")
    if run.method == "cfr" and failures:
        nc = run.details["nash_conv"]
        notes.append(f"approximate: after {run.params['iterations']} iterations a best "
                     f"response still gains {nc:.3g} in total (NashConv); this is an "
                     "approximate equilibrium, not an exact one")
    result = SolveResult(run.method, game.title, "tree" if tree is not None else "table",
                         tuple(p.label for p in game.players), run.exact, tuple(equilibria),
                         run.params, run.details, tuple(profiles), "",
                         run.complete and not failures, run.finds, tuple(notes), (), tol)
    return result, failures


def logit_details(game: gbt.Game, res: Any) -> dict[str, Any]:
    """The logit tracer's final lambda and regret, and a few points of its branch."""
    from pygambit import qre

    out: dict[str, Any] = {}
    branch = qre.logit_solve_branch(game)
    if branch:
        step = max(1, len(branch) // 12)
        picked = branch[::step]
        if picked[-1] is not branch[-1]:
            picked.append(branch[-1])
        out["logit_path"] = [{"lambda": float(b.lam), "probabilities": [
            round(float(b[i]), 6) for i in range(len(b))]} for b in picked]
        out["final_lambda"] = float(branch[-1].lam)
    eqs = list(res.equilibria)
    if eqs:
        out["final_regret"] = float(_gambit_nash_conv(game, eqs[0]))
        if "final_lambda" not in out:
            out["final_lambda"] = float("nan")
    return out


def _gambit_nash_conv(game: gbt.Game, eq: Any) -> float:
    """NashConv of a pygambit profile, by pygambit (for logit's own report)."""
    if game.is_tree:
        tree = from_gambit(game)
        return float(nash_conv(tree, _gambit_rows(game, eq, False))[0])  # type: ignore[arg-type]
    sizes, cells = table_payoffs(game)
    _, gains = table_gains(sizes, cells, _gambit_rows(game, eq, False))  # type: ignore[type-var]
    return float(sum(gains))


def logit_path(game: gbt.Game, points: int = 12) -> list[dict[str, Any]]:
    """A few points of the logit QRE's principal branch (kept for callers)."""
    return logit_details(game, gbt.nash.logit_solve(game)).get("logit_path", [])


def node_value_vectors(tree: FlatTree, profile: Sequence[Sequence[Number]]) -> list[list[Any]]:
    """Per node, the expected payoffs of play from there (for describing ties)."""
    return node_values(tree, profile)
