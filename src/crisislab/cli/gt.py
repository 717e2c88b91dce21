"""``crisislab gt``: game trees, equilibria and the classic models. Renders only."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from crisislab.errors import SafeGroup, check_range, check_seed, fail, problems

gt_app = typer.Typer(
    help="Solve the crisis as a game: Gambit trees, equilibria, the classic models.",
    no_args_is_help=True,
    cls=SafeGroup,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)


class Fmt(StrEnum):
    text = "text"
    json = "json"


def _fail(message: str, hint: str = "", code: int = 2) -> NoReturn:
    fail(message, hint, code)


def _scenario(ref: str):  # type: ignore[no-untyped-def]
    from crisislab.scenario.loader import load_scenario
    from crisislab.scenario.problems import ScenarioError

    try:
        return load_scenario(ref)
    except ScenarioError as e:
        problems(list(e.problems))
        raise typer.Exit(1) from None


def _start_turn(sc: Any, start: str | None) -> int | None:
    start = start or sc.tree_start
    if not start:
        return None
    phases = sc.clock.phases
    if start in phases:
        return int(sc.clock.first_of_phase(start))
    try:
        day = dt.date.fromisoformat(start)
    except ValueError:
        _fail(
            f"--from '{start}' is neither a date nor a phase",
            f"give a date (YYYY-MM-DD) or one of: {', '.join(phases)}",
        )
    turn = sc.clock.turn_of(day)
    if turn is None:
        _fail(f"{start} is outside {sc.id}'s clock", "choose a date within the scenario")
    return int(turn)


def _build(
    scenario: str,
    start: str | None,
    depth: int,
    horizon: int,
    choices: list[str],
    players: list[str],
    samples: int,
    seed: int,
    chance_min: float,
) -> Any:
    from crisislab.gt.tree import TreeTooLarge, build_tree

    _check_tree_options(depth, horizon, samples, seed, chance_min)
    sc = _scenario(scenario)
    flat_choices = [c for item in choices for c in item.split(",") if c]
    flat_players = [p for item in players for p in item.split(",") if p]
    bad = [p for p in flat_players if p not in sc.players]
    if bad:
        _fail(
            f"not an acting actor of {sc.id}: {', '.join(bad)}",
            f"use some of: {', '.join(sc.players)}",
        )
    try:
        return build_tree(
            sc,
            start_turn=_start_turn(sc, start),
            depth=depth,
            horizon=horizon,
            choices=flat_choices or None,
            players=flat_players or None,
            samples=samples,
            seed=seed,
            chance_min=chance_min,
        )
    except TreeTooLarge as e:
        _fail(str(e))
    except KeyError as e:
        _fail(str(e).strip("'\""), "list the scenario's actions with `crisislab validate`")


PLOT_FORMATS = (".png", ".svg", ".pdf")
MAX_DEPTH = 64  # decisions on a path
MAX_HORIZON = 10_000  # turns
MAX_SAMPLES = 1_000_000  # crises per cut
MAX_ITERATIONS = 10_000_000  # CFR iterations
MAX_EQUILIBRIA = 100_000

_DEPTH = typer.Option(
    3, "--depth", "-k", help=f"Decisions on a path before the tree is cut (1 to {MAX_DEPTH})."
)
_FROM = typer.Option(None, "--from", help="Start date (YYYY-MM-DD) or phase id.")
_HORIZON = typer.Option(
    40, "--horizon", help=f"Turns before the tree is cut (1 to {MAX_HORIZON:,})."
)
_CHOICES = typer.Option([], "--choices", help="Key actions to branch on (ids, comma list).")
_PLAYERS = typer.Option([], "--players", help="Actors who decide in the tree (comma list).")
_SAMPLES = typer.Option(
    100, "--samples", help=f"Simulated crises per cut, for its value (1 to {MAX_SAMPLES:,})."
)
_SEED = typer.Option(0, "--seed", help="Seed of the continuation simulations (0 to 2**63 - 1).")
_CMIN = typer.Option(
    0.05, "--chance-min", help="Branch on chance events at least this likely (0 to 1)."
)


def _check_tree_options(
    depth: int, horizon: int, samples: int, seed: int, chance_min: float
) -> None:
    check_range("--depth", depth, 1, MAX_DEPTH, "e.g. --depth 3")
    check_range("--horizon", horizon, 1, MAX_HORIZON, "e.g. --horizon 40")
    check_range("--samples", samples, 1, MAX_SAMPLES, "e.g. --samples 100")
    check_seed(seed)
    check_range("--chance-min", chance_min, 0, 1, "e.g. --chance-min 0.05")


@gt_app.command("tree")
def tree_cmd(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    start: str | None = _FROM,
    depth: int = _DEPTH,
    horizon: int = _HORIZON,
    choices: list[str] = _CHOICES,
    players: list[str] = _PLAYERS,
    samples: int = _SAMPLES,
    seed: int = _SEED,
    chance_min: float = _CMIN,
    efg: Path | None = typer.Option(None, "--efg", help="Write Gambit's .efg here."),
    format: Fmt = typer.Option(Fmt.text, "--format", "-f"),
) -> None:
    """Abstract a scenario into a finite extensive-form game and report its size."""
    from crisislab.gt import LCP_LEAF_LIMIT
    from crisislab.gt.flat import to_gambit

    st = _build(scenario, start, depth, horizon, choices, players, samples, seed, chance_min)
    size = st.size
    if efg is not None:
        try:
            to_gambit(st.tree).to_efg(str(efg))
        except OSError as e:
            _fail(f"cannot write {efg}: {e.strerror}")
    if format is Fmt.json:
        print(
            json.dumps(
                {
                    "scenario": st.scenario,
                    "version": st.version,
                    "start": st.start,
                    "size": size,
                    "parameters": st.parameters,
                    "players": list(st.tree.players),
                    **({"efg": str(efg)} if efg else {}),
                },
                indent=2,
            )
        )
        return
    out.print(
        f"{st.scenario} {st.version}, from {st.start}: {size['nodes']} nodes, "
        f"{size['leaves']} leaves ({size['cuts']} cut), {size['decision_nodes']} "
        f"decision nodes in {size['infosets']} information sets, {size['chance_nodes']} "
        f"chance nodes; players {', '.join(st.tree.players)}",
        highlight=False,
    )
    if size["leaves"] > LCP_LEAF_LIMIT:
        out.print(
            f"too large for lcp/lp (more than {LCP_LEAF_LIMIT} leaves): solve it with "
            "--method cfr, or cut coarser (smaller --depth, fewer --choices)",
            highlight=False,
        )
    if efg is not None:
        err.print(f"wrote {efg}", highlight=False, markup=False, soft_wrap=True)


SHOW = 10  # beyond this many equilibria the text summarises (see --all)


@gt_app.command("solve")
def solve_cmd(
    source: str = typer.Argument(..., help="A .efg or .nfg file, or a scenario."),
    method: str = typer.Option(
        "auto", "--method", "-m", help="auto, enumpure, enummixed, lcp, lp, logit, spe or cfr."
    ),
    format: Fmt = typer.Option(Fmt.text, "--format", "-f"),
    iterations: int = typer.Option(
        2000, "--iterations", help=f"CFR iterations (1 to {MAX_ITERATIONS:,})."
    ),
    limit: int = typer.Option(
        64, "--limit", help=f"At most this many SPE equilibria (1 to {MAX_EQUILIBRIA:,})."
    ),
    force: bool = typer.Option(False, "--force", help="Run lcp/lp even on large trees."),
    show_all: bool = typer.Option(
        False, "--all", help=f"List every equilibrium (past {SHOW} the text summarises them)."
    ),
    fallback: bool = typer.Option(
        True,
        "--fallback/--no-fallback",
        help="When a method's "
        "profile fails the check, solve with a method correct "
        "for the game (default), or show the failing profile, "
        "marked.",
    ),
    start: str | None = _FROM,
    depth: int = _DEPTH,
    horizon: int = _HORIZON,
    choices: list[str] = _CHOICES,
    players: list[str] = _PLAYERS,
    samples: int = _SAMPLES,
    seed: int = _SEED,
    chance_min: float = _CMIN,
) -> None:
    """Compute equilibria of a game file, or of a scenario through its abstraction.
    Every profile shown has been checked: no player gains by deviating (exactly, for the
    exact methods), or the output says by how much one does."""
    from crisislab.gt.flat import to_gambit
    from crisislab.gt.gamefile import GameFileError, ReadNotes, read_game
    from crisislab.gt.solve import SolveError, solve_game
    from crisislab.gt.tree import describe_path

    check_range("--iterations", iterations, 1, MAX_ITERATIONS, "e.g. --iterations 2000")
    check_range("--limit", limit, 1, MAX_EQUILIBRIA, "e.g. --limit 64")
    path = Path(source)
    st = None
    if path.suffix.lower() in (".efg", ".nfg"):
        notes = ReadNotes()
        try:
            game = read_game(path, notes)
        except GameFileError as e:
            _fail(str(e), code=1)
        for w in notes.warnings:
            err.print(f"warning: {w}", highlight=False, markup=False, soft_wrap=True)
    else:
        st = _build(source, start, depth, horizon, choices, players, samples, seed, chance_min)
        game = to_gambit(st.tree)
    try:
        result = solve_game(
            game, method, iterations=iterations, limit=limit, force=force, fallback=fallback
        )
    except SolveError as e:
        _fail(str(e))
    except RuntimeError as e:
        _fail(f"the solver failed: {e}", "try another --method")
    paths = [describe_path(st, p) for p in result.profiles] if st is not None else []
    if format is Fmt.json:
        doc = result.to_json()
        if paths:
            for eq, p in zip(doc["equilibria"], paths, strict=True):
                eq["path"] = p
            doc["tree"] = {
                "scenario": st.scenario,  # type: ignore[union-attr]
                "start": st.start,  # type: ignore[union-attr]
                "size": st.size,  # type: ignore[union-attr]
                "parameters": st.parameters,  # type: ignore[union-attr]
            }
        doc["summary"] = _summary(result, paths)
        print(json.dumps(doc, indent=2))
        return
    _render_solve(result, paths, show_all, _words_for(st))


def _words_for(st: Any) -> dict[str, str]:
    """For a scenario tree: action ids and player ids as the scenario names them."""
    if st is None:
        return {}
    words: dict[str, str] = dict(st.names)
    for note in st.notes:
        words.update(zip(note.options, note.labels, strict=False))
    return words


def _summary(result: Any, paths: list[list[str]]) -> dict[str, Any]:
    """Distinct payoff vectors (and paths) with how many equilibria give each."""
    pays: dict[tuple[str, ...], int] = {}
    for eq in result.equilibria:
        key = tuple(f"{p} {_num(v)}" for p, v in eq.payoffs.items())
        pays[key] = pays.get(key, 0) + 1
    out: dict[str, Any] = {
        "equilibria": len(result.equilibria),
        "payoff_vectors": [{"payoffs": ", ".join(k), "equilibria": c} for k, c in pays.items()],
    }
    if paths:
        seen: dict[tuple[str, ...], int] = {}
        for p in paths:
            seen[tuple(p)] = seen.get(tuple(p), 0) + 1
        out["paths"] = [{"path": list(k), "equilibria": c} for k, c in seen.items()]
    return out


def _render_solve(
    result: Any, paths: list[list[str]], show_all: bool, words: dict[str, str] | None = None
) -> None:
    p = out.print
    w = words or {}
    n = len(result.equilibria)
    verified = all(e.verified for e in result.equilibria)
    noun = (
        ("equilibrium" if n == 1 else "equilibria")
        if verified
        else ("profile" if n == 1 else "profiles")
    )
    kind = (
        ""
        if verified
        else (
            ", NOT all of them equilibria: see the regrets below"
            if n > 1
            else ", which is NOT an equilibrium: see below"
        )
    )
    total = result.details.get("total_pure_spe")
    of = f" of {total:,}" if total is not None and total > n else ""
    p(
        f"{result.game}: {n}{of} {noun} by {result.method}"
        f"{' (exact)' if result.exact else ''}{kind}",
        highlight=False,
    )
    if result.finds:
        p(
            f"  {result.method} finds {result.finds}; "
            + (
                "this answer is complete"
                if result.complete
                else "this answer is not complete: "
                + ("see the notes below" if result.notes else "other equilibria may exist")
            ),
            highlight=False,
        )
    for f in result.failures:
        what = f.get("words") or (
            f"returned something that is not a strategy profile: {f['problem']}"
            if f["problem"]
            else "returned a profile that is not an equilibrium: regret "
            + ", ".join(f"{k} {v:.6g}" for k, v in f["regret_by_player"].items())
        )
        p(f"  solver failure: {f['method']} {what}", highlight=False)
    for note in result.notes:
        p(f"  note: {note}", highlight=False)
    if result.method == "logit" and "final_lambda" in result.details:
        d = result.details
        state = "converged" if verified and n else "did NOT converge"
        p(
            f"  logit {state}: it stopped at lambda {d['final_lambda']:.4g}, where NashConv "
            f"is {d.get('final_regret', float('nan')):.3g}",
            highlight=False,
        )
    if "nash_conv" in result.details:
        p(
            f"  CFR+ after {result.parameters['iterations']} iterations: exploitability "
            f"(NashConv) {result.details['nash_conv']:.6g}",
            highlight=False,
        )
    shown = result.equilibria if show_all or n <= SHOW else result.equilibria[:3]
    if len(shown) < n:
        summ = _summary(result, paths)
        p(
            f"\n{n} equilibria give {len(summ['payoff_vectors'])} distinct payoff "
            f"vector{'s' if len(summ['payoff_vectors']) != 1 else ''}:",
            highlight=False,
        )
        for row in summ["payoff_vectors"]:
            p(
                f"  {row['payoffs']}  ({row['equilibria']} equilibri"
                f"{'um' if row['equilibria'] == 1 else 'a'})",
                highlight=False,
            )
        if paths:
            p(
                f"and {len(summ['paths'])} distinct path{'s' if len(summ['paths']) != 1 else ''}"
                " of play:",
                highlight=False,
            )
            for k, row in enumerate(summ["paths"], 1):
                p(
                    f"  path {k} ({row['equilibria']} equilibri"
                    f"{'um' if row['equilibria'] == 1 else 'a'}):",
                    highlight=False,
                )
                for line in row["path"]:
                    p(f"    {line}", highlight=False)
        p(f"\nthe first {len(shown)} in full (all {n}: --all, or -f json):", highlight=False)
    for i, eq in enumerate(shown, 1):
        pay = ", ".join(f"{w.get(pl, pl)} {_num(v)}" for pl, v in eq.payoffs.items())
        p(f"\nequilibrium {i}: payoffs {pay}", highlight=False)
        p(f"  {_check_words(eq, result, w)}", highlight=False)
        for player, strat in eq.strategy.items():
            for info, acts in strat.items():
                if isinstance(acts, dict):
                    shown_acts = ", ".join(f"{w.get(a, a)} {_num(x)}" for a, x in acts.items() if x)
                    where = info if not w else info.replace(f"{player} ", "", 1)
                    p(f"  {w.get(player, player)} at {where}: {shown_acts}", highlight=False)
                elif acts:
                    p(f"  {player}: {info} {_num(acts)}", highlight=False)
        if paths and (len(shown) == n or show_all):
            p("  path:", highlight=False)
            for line in paths[i - 1]:
                p(f"    {line}", highlight=False)


def _check_words(eq: Any, result: Any, w: dict[str, str] | None = None) -> str:
    w = w or {}
    gains = ", ".join(f"{w.get(k, k)} {_num(v)}" for k, v in eq.gains.items())
    if not eq.verified:
        text = (
            f"NOT AN EQUILIBRIUM: a best response gains {gains} (tolerance {result.tolerance:.3g})"
        )
    elif result.exact:
        text = "checked exactly: no player gains by deviating"
    else:
        text = f"checked: what a best response gains is within {result.tolerance:.3g} ({gains})"
    if eq.subgame_perfect is True:
        text += "; subgame-perfect"
    elif eq.subgame_perfect is False:

        def place(text: str) -> str:
            for pid in result.players:
                if pid in w:
                    text = text.replace(f"{pid}'s", f"{w[pid]}'s").replace(f"'{pid} ", "'")
            return text

        where = "; ".join(
            f"in {place(f['where'])}, "
            + ", ".join(f"{w.get(k, k)} gains {_num(v)}" for k, v in f["gains"].items())
            for f in eq.subgame_failures[:2]
        )
        text += f"; a Nash equilibrium that is NOT subgame-perfect ({where})"
    return text


def _num(x: Any) -> str:
    if isinstance(x, Fraction):
        return str(x)
    return f"{float(x):.4g}"


def _params(items: list[str], cls: type) -> Any:
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or key not in fields:
            _fail(f"bad --param '{item}'", f"use key=value with key one of: {', '.join(fields)}")
        try:
            if "," in value:
                values[key] = tuple(int(v) for v in value.split(","))
            elif isinstance(getattr(cls(), key), str):
                values[key] = value
            else:
                values[key] = Fraction(value)
        except (ValueError, ZeroDivisionError):
            _fail(f"--param {key}: '{value}' is not a number (use 1/3 or 0.25)")
    return cls(**values)


def _plain(x: Any) -> Any:
    if isinstance(x, Fraction):
        return str(x)
    if isinstance(x, dict):
        return {
            (",".join(map(str, k)) if isinstance(k, tuple) else str(k)): _plain(v)
            for k, v in x.items()
        }
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


MODEL_NAMES = ("chicken", "prisoners_dilemma", "brinkmanship", "zagare")


@gt_app.command("model")
def model_cmd(
    name: str = typer.Argument(..., help="chicken, prisoners_dilemma, brinkmanship or zagare."),
    param: list[str] = typer.Option([], "--param", "-p", help="key=value, e.g. p=1/3."),
    format: Fmt = typer.Option(Fmt.text, "--format", "-f"),
    plot: Path | None = typer.Option(
        None, "--plot", help="brinkmanship: write the (p, q) diagram here (.png or .svg)."
    ),
    efg: Path | None = typer.Option(
        None,
        "--efg",
        help="Write the model's game here: a "
        ".efg tree (brinkmanship, zagare) or, for the 2x2 "
        "tables, a .nfg.",
    ),
    check: bool = typer.Option(
        True,
        "--check/--no-check",
        help="Also solve the same game with pygambit and show its equilibria.",
    ),
) -> None:
    """A classic model of the crisis: its equilibria and the conditions for each."""
    from crisislab.gt.models import brinkmanship, chicken, ordinal, zagare
    from crisislab.gt.solve import solve_game

    if plot is not None:
        if plot.suffix.lower() not in PLOT_FORMATS:
            _fail(
                f"--plot: cannot tell the format of '{plot}'",
                f"end the file name with {', '.join(PLOT_FORMATS)}",
            )
        if not plot.parent.is_dir():
            _fail(f"--plot: the folder {plot.parent} does not exist", "create it first")
    if name in ("chicken", "prisoners_dilemma"):
        base = chicken.PRISONERS_DILEMMA if name == "prisoners_dilemma" else chicken.Params()
        prm: Any = _params(param, chicken.Params) if param else base
        for cell in ("cc", "cd", "dc", "dd"):
            v = getattr(prm, cell)
            if not (isinstance(v, tuple) and len(v) == 2):
                _fail(
                    f"--param {cell}: give the two players' ranks, e.g. {cell}=3,3",
                    "ranks are integers, row player's first",
                )
        res: Any = chicken.analyse(prm)
        game = chicken.game(prm)
    elif name == "brinkmanship":
        prm = _params(param, brinkmanship.Params)
        try:
            res = brinkmanship.analyse(prm)
        except brinkmanship.ParamsError as e:
            _fail(f"brinkmanship: {e}", "the parameters and defaults: docs/game-theory.md")
        check_q = brinkmanship.check_q(res)
        game = brinkmanship.game(prm, check_q)
        if plot is not None:
            brinkmanship.plot(prm, plot)
            err.print(f"wrote {plot}", highlight=False, markup=False, soft_wrap=True)
    elif name == "zagare":
        try:
            prm = _params(param, zagare.Params)
        except zagare.ParamsError as e:
            _fail(f"zagare: {e}", "the orderings and defaults: docs/game-theory.md")
        res = zagare.analyse(prm)
        game = zagare.game(prm)
    else:
        _fail(f"no model '{name}'", f"use one of: {', '.join(MODEL_NAMES)}")
    if efg is not None:
        try:
            if game.is_tree:
                game.to_efg(str(efg))
            else:
                game.to_nfg(str(efg))
        except OSError as e:
            _fail(f"cannot write {efg}: {e.strerror}")
        err.print(f"wrote {efg}", highlight=False, markup=False, soft_wrap=True)
    if name == "zagare":
        doc = {
            "source": res.source,
            "concept": res.concept,
            "params": _plain(asdict(prm)),
            "thresholds": _plain(res.thresholds),
            "equilibria": [_plain(zagare.describe(f)) for f in res.equilibria],
            "families": [_plain(zagare.describe(f)) for f in res.families],
        }
    else:
        doc = _plain(asdict(res))
    if name in ("chicken", "prisoners_dilemma"):
        doc["metagame"] = _plain(asdict(ordinal.analyse(prm)))
        doc["metagame_concept"] = (
            "Howard's metaequilibria: equilibrium outcomes of the "
            "metagames in which a player answers the other's "
            "choice (or policy)"
        )
    if check:
        gres = solve_game(game, "lcp")
        doc["pygambit"] = gres.to_json()["equilibria"]
        doc["pygambit_check"] = {
            "method": gres.method,
            "finds": gres.finds,
            "notes": list(gres.notes),
            **({"q": str(check_q)} if name == "brinkmanship" else {}),
        }
    if format is Fmt.json:
        print(json.dumps(doc, indent=2))
        return
    _render_model(name, res, doc)


def _render_model(name: str, res: Any, doc: dict[str, Any]) -> None:
    p = out.print
    p(f"{name} — source: {res.source}", highlight=False)
    p(f"equilibrium concept: {res.concept}", highlight=False)
    if name in ("chicken", "prisoners_dilemma"):
        s = res.params.strategies
        cell = lambda c: f"({s[c[0]]}, {s[c[1]]})"  # noqa: E731
        p(
            "pure equilibria: "
            + "; ".join(f"{cell(c)} -> {res.params.payoff(c)}" for c in res.pure),
            highlight=False,
        )
        for (y, x), pay in zip(res.mixed, res.mixed_payoffs, strict=True):
            p(
                f"mixed equilibrium: row plays {s[0]} with {y}, column with {x}; payoffs "
                f"{pay[0]}, {pay[1]}",
                highlight=False,
            )
        p(
            "non-myopic equilibria (theory of moves): "
            + "; ".join(cell(c) for c in res.non_myopic),
            highlight=False,
        )
        meta = doc["metagame"]
        p(
            "symmetric metaequilibria (Howard): "
            + "; ".join(cell(tuple(c)) for c in meta["symmetric"])
            + f" (each player gets at least what "
            f"it secures answering the other: {meta['answering'][0]}, {meta['answering'][1]})",
            highlight=False,
        )
    elif name == "brinkmanship":
        pr = res.params
        p(f"effectiveness: q > {res.q_effective} ({float(res.q_effective):.3f})", highlight=False)
        if res.q_acceptable is not None:
            p(
                f"acceptability at p = {pr.p}: q < {res.q_acceptable} "
                f"({float(res.q_acceptable):.3f})",
                highlight=False,
            )
        p(
            f"window: {res.window[0]} < q < {res.window[1]}"
            if res.window
            else "no effective and acceptable threat at this p",
            highlight=False,
        )
        p(f"a window exists iff p < {res.p_max} ({float(res.p_max):.3f})", highlight=False)
    else:
        _render_zagare(res)
    if "pygambit" in doc:
        at = (
            f" at q = {doc['pygambit_check']['q']} (the middle of the window, or 1/2 without one)"
            if "q" in doc.get("pygambit_check", {})
            else ""
        )
        p(
            f"pygambit lcp on the same game{at}: {len(doc['pygambit'])} equilibri"
            f"{'um' if len(doc['pygambit']) == 1 else 'a'}; payoffs "
            + "; ".join(
                ", ".join(f"{k} {v}" for k, v in e["payoffs"].items()) for e in doc["pygambit"]
            ),
            highlight=False,
        )


def _render_zagare(res: Any) -> None:
    p = out.print
    p("thresholds: " + ", ".join(f"{k} = {v}" for k, v in res.thresholds.items()), highlight=False)
    eqs = res.equilibria
    p(
        f"{len(eqs)} of {len(res.families)} derived equilibrium families exist under passive "
        "off-path beliefs (priors kept after an unexpected move; other beliefs can support "
        "other families, deterrence among them)"
        + ("" if eqs else ": none of the derived families; see pygambit's equilibria below"),
        highlight=False,
    )
    for i, f in enumerate(eqs, 1):
        r = f.response
        p(f"\n{i}. {f.name}", highlight=False)
        p(
            "   USSR initiates: "
            + ", ".join(f"{t} {v}" for t, v in f.initiate.items())
            + "; US when challenged: "
            + ", ".join(
                f"{t} " + "/".join(f"{a} {x}" for a, x in acts.items() if x)
                for t, acts in r.defender.items()
            )
            + "; USSR escalates after a response in kind: "
            + ", ".join(f"{t} {v}" for t, v in r.escalate.items()),
            highlight=False,
        )
        p(
            f"   beliefs: q = {r.q} (USSR hard, when challenged), s = {r.s} (US strategically "
            "hard, after a response in kind)",
            highlight=False,
        )
        p(
            "   outcomes: "
            + ", ".join(f"{o} {x}" for o, x in f.outcomes.items() if x)
            + "; expected payoffs "
            + ", ".join(f"{k} {v}" for k, v in f.payoffs.items()),
            highlight=False,
        )
        for c in (*r.conditions, *f.conditions):
            p(
                f"   {'holds' if c.holds else 'FAILS'}: {c.text} ({c.lhs} {c.op} {c.rhs})",
                highlight=False,
            )
    crisis = [(i, f.outcomes["DD"]) for i, f in enumerate(eqs, 1) if f.outcomes["DD"]]
    if crisis:
        p(
            "\nthe 1962 path as read here (USSR initiates, US responds in kind, USSR does "
            "not escalate: DD) is on the path of "
            + "; ".join(f"equilibrium {i} (probability {x})" for i, x in crisis),
            highlight=False,
        )
