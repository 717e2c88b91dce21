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

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from crisislab import __version__
from crisislab.extras import missing_extra
from crisislab.gt import GT_VERSION, LCP_LEAF_LIMIT
from crisislab.gt.check import (
    Equilibrium,
    Number,
    behaviour_names,  # noqa: F401  (re-exported: part of this module's interface)
    check_table_profile,
    check_tree_profile,
    complete_unreached,
    num_json,  # noqa: F401  (re-exported)
    payoff_range,
)
from crisislab.gt.flat import FlatTree, exact, from_gambit, recall_problem
from crisislab.gt.regret import nash_conv, table_gains, table_payoffs

with missing_extra("gt"):
    import pygambit as gbt

METHODS = ("auto", "enumpure", "enummixed", "lcp", "lp", "logit", "spe", "cfr")
EXACT = {"enumpure", "enummixed", "lcp", "lp"}
FLOAT_TOLERANCE = 1e-6  # approximate methods: gains up to this times the payoff range
# what each method finds: all equilibria of its kind, or some
FINDS = {
    "enumpure": "all pure-strategy equilibria",
    "enummixed": "all extreme equilibria (every equilibrium is a mixture of them)",
    "lcp": "some equilibria (Lemke's algorithm follows one path per start), not all",
    "lp": "one equilibrium (in a zero-sum game any other has the same value)",
    "logit": "one equilibrium, the limit of the logit quantal-response branch",
    "cfr": "one approximate equilibrium",
    "enumpoly": "the equilibria of each support it searches, to floating-point accuracy",
}


class SolveError(ValueError):
    """A method that cannot handle this game; the message says which one can."""


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
    versions: dict[str, str] = field(
        default_factory=lambda: {
            "crisislab": __version__,
            "pygambit": gbt.__version__,
            "gt": GT_VERSION,
        }
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "requested_method": self.requested or self.method,
            "game": self.game,
            "kind": self.kind,
            "players": list(self.players),
            "exact": self.exact,
            "complete": self.complete,
            "finds": self.finds,
            **({"limit": self.parameters["limit"]} if "limit" in self.parameters else {}),
            "left_out": self.details.get("left_out", []) if not self.complete else [],
            "tolerance": self.tolerance,
            "notes": list(self.notes),
            "solver_failures": [dict(f) for f in self.failures],
            "parameters": _plain_json(self.parameters),
            "versions": self.versions,
            "equilibria": [e.to_json(self.exact) for e in self.equilibria],
            **({"details": self.details} if self.details else {}),
        }


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
        return [
            [conv(eq[a]) for a in info.actions]
            for player in game.players
            for info in player.infosets
        ]
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
    run = _Run(
        method,
        exact_numbers,
        [_gambit_rows(game, eq, exact_numbers) for eq in res.equilibria],
        {"use_strategic": res.use_strategic, **res.parameters},
        details,
        method in ("enumpure", "enummixed"),
        finds=FINDS[method],
    )
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
        left_out.append(
            f"equilibria of {spe.imperfect_subgames} imperfect-information "
            "subgames that the subgame solver does not find"
        )
        finds = (
            "some subgame-perfect equilibria: pure backward induction where a "
            "subgame has one decision point, and the equilibria "
            f"{' or '.join(spe.solvers)} finds (some, not all) in each of the "
            f"{spe.imperfect_subgames} subgames with imperfect information"
        )
        notes.append(
            f"not every subgame-perfect equilibrium: {spe.imperfect_subgames} "
            "subgames have imperfect information, and for those the solver "
            f"({', '.join(spe.solvers)}) returns some equilibria, not all"
        )
    else:
        finds = (
            "all pure-strategy subgame-perfect equilibria, by backward induction "
            "(where a player is indifferent, mixtures of the tied choices are "
            "subgame-perfect too)"
        )
    if spe.truncated:
        if spe.total is not None:
            left = (
                f"{spe.total:,} pure-strategy subgame-perfect equilibria exist; "
                f"{spe.total - len(profiles):,} are left out"
            )
            left_out.append(
                f"{spe.total - len(profiles)} pure-strategy subgame-perfect "
                f"equilibria past --limit {limit}"
            )
        else:
            left = "more exist than are listed; how many was not counted"
            left_out.append(
                f"pure-strategy subgame-perfect equilibria past --limit {limit} (not counted)"
            )
        notes.append(f"capped at --limit {limit}: {left} (raise --limit to see more)")
    return _Run(
        "spe",
        spe.exact,
        profiles,
        {"limit": limit},
        {
            "subgames": spe.subgames,
            "subgame_solvers": list(spe.solvers),
            "imperfect_information_subgames": spe.imperfect_subgames,
            **({"total_pure_spe": spe.total} if spe.total is not None else {}),
            **({"left_out": left_out} if left_out else {}),
        },
        spe.complete,
        notes,
        finds,
    )


def _run_cfr(tree: FlatTree, iterations: int, target: float) -> _Run:
    from crisislab.gt.cfr import solve_cfr

    r = solve_cfr(tree, iterations=iterations, target=target)
    n = len(tree.players)
    return _Run(
        "cfr",
        False,
        [r.profile],  # type: ignore[list-item]
        {"iterations": r.iterations, "target": target, "variant": "CFR+"},
        {
            "nash_conv": r.nash_conv,
            "gains": dict(zip(tree.players, r.gains, strict=True)),
            "exploitability": r.nash_conv / n,
            "history": [list(h) for h in r.history],
        },
        False,
        [],
        FINDS["cfr"],
    )


def _run(
    game: gbt.Game,
    tree: FlatTree | None,
    method: str,
    *,
    strategic: bool = False,
    iterations: int = 2000,
    target: float = 0.0,
    limit: int = 64,
) -> _Run:
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


def fallback_methods(game: gbt.Game, tree: FlatTree | None, failed: str) -> list[tuple[str, bool]]:
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


def solve_game(
    game: gbt.Game,
    method: str = "auto",
    *,
    iterations: int = 2000,
    target: float = 0.0,
    limit: int = 64,
    force: bool = False,
    fallback: bool = True,
) -> SolveResult:
    """Solve ``game`` by ``method`` (one of :data:`METHODS`), verify every profile, and
    fall back to a method correct for the game when a profile fails (unless
    ``fallback`` is False: the failing profiles are then shown, marked)."""
    if method not in METHODS:
        raise SolveError(f"unknown method '{method}'; use one of: {', '.join(METHODS)}")
    tree = from_gambit(game) if game.is_tree else None
    if tree is not None:
        problem = recall_problem(tree)
        if problem:
            raise SolveError(
                f"this game has imperfect recall ({problem}); the solvers "
                "here (and Nash equilibrium in behaviour strategies) need "
                "perfect recall: give the player separate information sets "
                "for moves it can tell apart"
            )
    if method == "auto":
        method = choose_method(game, tree)
    n_players = len(game.players)
    if (
        tree is not None
        and method in ("lcp", "lp")
        and not force
        and len(tree.leaves) > LCP_LEAF_LIMIT
    ):
        raise SolveError(
            f"the tree has {len(tree.leaves)} leaves, more than {method} "
            f"handles well ({LCP_LEAF_LIMIT}); use --method cfr, or cut the "
            "tree coarser (a smaller --depth), or pass --force"
        )
    if method in ("lcp", "lp") and n_players != 2:
        raise SolveError(
            f"{method} solves two-player games only; this one has {n_players} "
            "players: use enumpure, logit, spe or cfr"
        )
    if method == "lp" and not game.is_const_sum:
        raise SolveError("lp solves constant-sum games only; use lcp for this one")
    if method == "enummixed" and (tree is not None or n_players != 2):
        raise SolveError(
            "enummixed enumerates the equilibria of two-player tables only; use lcp for a tree"
        )
    if method in ("spe", "cfr") and tree is None:
        raise SolveError(
            f"{method} needs a game tree (.efg); this is a table: use "
            "enumpure, enummixed, lcp or logit"
        )
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
        first_words = (
            f"did not converge: the tracer stopped at lambda "
            f"{run.details['final_lambda']:.4g} with NashConv "
            f"{run.details['final_regret']:.3g}, and {first_words}"
        )
    failures[0]["words"] = first_words
    for alt, strategic in fallback_methods(game, tree, method):
        try:
            run2 = _run(game, tree, alt, strategic=strategic, **opts)  # type: ignore[arg-type]
        except (RuntimeError, ValueError):
            continue
        res2, fails2 = _checked(game, tree, run2, sizes, cells, scale, target, False)
        if res2.equilibria and not fails2:
            note = (
                f"{method} failed the check, so the answer shown is that of "
                f"{res2.method}, a method correct for this game; every profile of it "
                "passed the check"
            )
            details = {
                **res2.details,
                "failed": {
                    "method": method,
                    **{
                        k: v
                        for k, v in run.details.items()
                        if k in ("final_lambda", "final_regret")
                    },
                },
            }
            return replace(
                res2,
                requested=method,
                failures=tuple(failures),
                notes=(note, *res2.notes),
                details=details,
            )
        failures += fails2
    note = (
        f"{method} failed the check and no other method gave a profile that passes: "
        "no equilibrium can be shown"
    )
    return replace(
        result,
        requested=method,
        equilibria=(),
        profiles=(),
        failures=tuple(failures),
        complete=False,
        notes=(note, *result.notes),
    )


def _failure_words(failures: list[dict[str, Any]]) -> str:
    f = failures[0]
    more = f", and {len(failures) - 1} more" if len(failures) > 1 else ""
    if f.get("problem"):
        return f"returned something that is not a strategy profile: {f['problem']}{more}"
    worst = max(f["regret_by_player"].items(), key=lambda kv: kv[1])
    return (
        f"returned a profile that is not an equilibrium: {worst[0]} gains "
        f"{worst[1]:.6g} by deviating{more}"
    )


def _checked(
    game: gbt.Game,
    tree: FlatTree | None,
    run: _Run,
    sizes: list[int],
    cells: dict[tuple[int, ...], tuple[Fraction, ...]],
    scale: float,
    target: float,
    keep: bool,
) -> tuple[SolveResult, list[dict[str, Any]]]:
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
            eq, problem = check_tree_profile(
                tree, prof, tol, subgames=not run.method.startswith("spe")
            )
            if run.method.startswith("spe") and eq.verified and problem is None:
                eq = replace(eq, subgame_perfect=True)
        else:
            eq, problem = check_table_profile(game, sizes, cells, prof, tol)
        if problem is not None or not eq.verified:
            failures.append(
                {
                    "method": run.method,
                    "problem": problem,
                    "regret": float(eq.regret) if eq.regret is not None else None,
                    "regret_by_player": {k: float(v) for k, v in eq.gains.items()},
                    "tolerance": tol,
                }
            )
            if keep and problem is None:  # shown, marked as not an equilibrium
                equilibria.append(eq)
                profiles.append(prof)
            continue
        equilibria.append(eq)
        profiles.append(prof)
    if filled_total:
        notes.append(
            f"{run.method} gave no probabilities at {filled_total} information "
            "sets that its equilibria never reach; the first action is shown "
            "there (any action keeps the profile a Nash equilibrium)"
        )
    if any(e.subgame_perfect is False for e in equilibria):
        k = sum(1 for e in equilibria if e.subgame_perfect is False)
        which = (
            "this equilibrium is a Nash equilibrium that is not subgame-perfect: off "
            "the path of play it relies"
            if len(equilibria) == 1
            else f"{k} of the {len(equilibria)} equilibria are Nash equilibria that are not "
            "subgame-perfect: off the path of play they rely"
        )
        notes.append(
            f"{which} on threats a player would not carry out (use --method spe "
            "for subgame-perfect ones)"
        )
    if (
        tree is not None
        and any(e.subgame_perfect is None and e.verified for e in equilibria)
        and not run.method.startswith("spe")
    ):
        notes.append(
            "the tree is too large to check every subgame: whether these "
            "equilibria are subgame-perfect is not known (use --method spe)"
        )
    if run.method == "logit":
        d = run.details
        if failures:
            notes.append(
                f"logit did not converge: the tracer stopped at lambda "
                f"{d['final_lambda']:.4g} with NashConv {d['final_regret']:.3g}, "
                "so its profile is not an equilibrium"
            )
    if run.method == "cfr" and failures:
        nc = run.details["nash_conv"]
        notes.append(
            f"approximate: after {run.params['iterations']} iterations a best "
            f"response still gains {nc:.3g} in total (NashConv); this is an "
            "approximate equilibrium, not an exact one"
        )
    result = SolveResult(
        run.method,
        game.title,
        "tree" if tree is not None else "table",
        tuple(p.label for p in game.players),
        run.exact,
        tuple(equilibria),
        run.params,
        run.details,
        tuple(profiles),
        "",
        run.complete and not failures,
        run.finds,
        tuple(notes),
        (),
        tol,
    )
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
        out["logit_path"] = [
            {
                "lambda": float(b.lam),
                "probabilities": [round(float(b[i]), 6) for i in range(len(b))],
            }
            for b in picked
        ]
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
