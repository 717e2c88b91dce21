"""``crisislab simulate``, ``runs``, ``compare`` and ``sensitivity``: they render what
:mod:`crisislab.analysis` computes and hold no rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from crisislab.analysis.simulate import CHUNK, CHUNK_LUMPED
from crisislab.cli.llm import LLM_CACHE_OPTION
from crisislab.cli.options import (
    ADDRESS_OPTION,
    BACKEND_OPTION,
    FORMAT_OPTION,
    MAX_PASSES,
    MAX_SAMPLES,
    MAX_TOLERANCE,
    PARAMS_FILE_OPTION,
    PLOT_OPTION,
    QUIET_OPTION,
    RUNS_HELP,
    SEED_OPTION,
    WORKERS_OPTION,
    Backend,
    OutFormat,
    SweepMethod,
    _bar,
    _check_common,
    _clean_errors,
    _emit_json,
    _fail,
    _interval,
    _load,
    _outcome_names,
    _params_file,
    _pct,
    _plot_path,
    _points,
    _progress,
    _share_word,
    _store,
    _variant,
    _when,
    _who,
    err,
    out,
)
from crisislab.errors import MAX_LIMIT, MAX_RUNS, check_range
from crisislab.scenario.model import Scenario

# ---- simulate ------------------------------------------------------------------------------


def _render_simulation(sim: Any, run_id: int | None, scenario: Scenario | None = None) -> None:
    s = sim.summary
    agents = ", ".join(f"{a}={spec}" for a, spec in sim.variant.seats)
    extras = ""
    if sim.variant.what_ifs:
        extras += f"; what-ifs: {', '.join(sim.variant.what_ifs)}"
    if sim.variant.parameters:
        extras += "; " + ", ".join(f"{k}={v:g}" for k, v in sim.variant.parameters)
    out.print(
        f"[bold]{sim.scenario} {sim.version}[/bold]: {sim.runs:,} crises, seed "
        f"{sim.seed} ({agents}{extras})",
        highlight=False,
    )
    table = Table(title="How the crisis ends (95% Wilson intervals)", title_justify="left")
    for col in ("outcome", "probability", "95% interval", ""):
        table.add_column(col)
    names = _outcome_names(scenario)
    for oid, o in s["outcomes"].items():
        table.add_row(
            names.get(oid, oid),
            _pct(o["p"]),
            f"[{_pct(o['low'])}, {_pct(o['high'])}]",
            _bar(o["p"]),
        )
    out.print(table)
    if "record" in s:
        _render_record(s["record"], scenario)
    w = s["war"]
    out.print(
        f"War begins (escalation ≥ {w['threshold']:g}) in {_interval(w)} of crises", highlight=False
    )
    if "origins" in w:
        from crisislab.cli.inside import render_origins

        if scenario is not None:
            render_origins(w["origins"], scenario)
    q = s["end_day"]["quantiles"]
    out.print(
        "The crisis ends: "
        + ", ".join(f"{_share_word(k)} by {_when(scenario, v)}" for k, v in q.items()),
        highlight=False,
    )
    peak = Table(title="Peak escalation", title_justify="left")
    for col in ("level", "rung", "share", ""):
        peak.add_column(col)
    for lv in s["peak_escalation"]["distribution"]:
        peak.add_row(str(lv["level"]), lv["label"], _pct(lv["p"]), _bar(lv["p"]))
    out.print(peak)
    hz = [h for h in w["hazard"] if h["onsets"]]
    if hz:
        haz = Table(
            title="Hazard of war by date, among crises still at peace "
            "(dates with no war begun left out)",
            title_justify="left",
        )
        for col in ("date", "at peace", "war begins", "hazard", "95% interval"):
            haz.add_column(col)
        for h in hz:
            haz.add_row(
                _when(scenario, h["date"]),
                f"{h['at_risk']:,}",
                f"{h['onsets']:,}",
                _pct(h["hazard"]),
                f"[{_pct(h['low'])}, {_pct(h['high'])}]",
            )
        out.print(haz)
    for name, rep in s.get("reports", {}).items():
        _render_report(name, rep, scenario)
    out.print(
        "Mean payoffs: "
        + ", ".join(f"{_who(scenario, a)} {v:+.3g}" for a, v in s["payoffs"].items()),
        highlight=False,
    )
    if s.get("llm"):
        from crisislab.cli.llm import describe

        for line in describe(s["llm"]):
            out.print(f"Language model, {line}", highlight=False, markup=False, soft_wrap=True)
    stored = f"; stored as run {run_id}" if run_id is not None else ""
    out.print(
        f"[dim]{sim.elapsed_s:.2f} s on {sim.backend} ({sim.workers} workers){stored}[/dim]",
        highlight=False,
    )


def _render_record(r: dict[str, Any], scenario: Scenario | None = None) -> None:
    tol = r["tolerance_days"]
    out.print(
        f"The record: a crisis reproduces on average {_pct(r['mean'])} "
        f"[{_pct(r['low'])}, {_pct(r['high'])}] of the {r['documented_steps']} "
        f"documented steps, each within {tol:g} days of its date",
        highlight=False,
    )
    t = Table(title="Documented steps reproduced (share of crises)", title_justify="left")
    for col in ("date", "who", "step", "crises", "95% interval"):
        t.add_column(col, overflow="fold")
    for st in r["steps"]:
        t.add_row(
            _when(scenario, st["date"]),
            _who(scenario, st["actor"]) if st["actor"] else "chance",
            st["label"],
            _pct(st["p"]),
            f"[{_pct(st['low'])}, {_pct(st['high'])}]",
        )
    out.print(t)
    ll = r.get("log_likelihood")
    if ll:

        def show(x: float | str) -> str:
            return "minus infinity" if x == "-inf" else f"{x:.4g}"

        out.print(
            f"How likely the documented path is under this line-up (natural log): "
            f"{show(ll['total'])} (the {ll['documented_choices']} documented choices "
            f"{show(ll['choices'])}, chance {show(ll['chance'])})",
            highlight=False,
        )
        for m in ll["ruled_out"][:5]:
            instead = f"; it plays {m['agent_choice']}" if m["agent_choice"] else ""
            out.print(
                f"  ruled out: {m['actor'] or 'chance'} {m['choice']} on {m['date']}{instead}",
                highlight=False,
            )


def _render_report(name: str, rep: dict[str, Any], scenario: Scenario | None = None) -> None:
    if rep["type"] == "bool":
        ever = rep["p_ever"]
        q = rep["first_true_quantiles"]
        out.print(
            f"{rep['label']} Holds at some point in {_interval(ever)} of crises; "
            "the first time: "
            + ", ".join(
                f"{_share_word(k)} by {_when(scenario, v)}"
                if v != "never"
                else f"{_share_word(k)} never"
                for k, v in q.items()
            ),
            highlight=False,
        )
        return
    t = Table(title=f"{rep['label']} Lowest and highest value reached", title_justify="left")
    for col in ("value", "lowest reached", "highest reached"):
        t.add_column(col)
    lows = {d["label"]: d["p"] for d in rep["min_distribution"]}
    highs = {d["label"]: d["p"] for d in rep["max_distribution"]}
    for label in dict.fromkeys([*lows, *highs]):
        t.add_row(label, _pct(lows.get(label, 0.0)), _pct(highs.get(label, 0.0)))
    out.print(t)


def simulate_cmd(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    runs: int = typer.Option(100_000, "--runs", "-n", help=RUNS_HELP),
    seed: int = SEED_OPTION,
    agent: list[str] = typer.Option(
        [], "--agent", "-a", help="ACTOR=AGENT[:key=value,...]; others: historical."
    ),
    what_if: list[str] = typer.Option([], "--what-if", "-w", help="A what-if id (repeatable)."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE (repeatable)."),
    format: OutFormat = FORMAT_OPTION,
    backend: Backend = BACKEND_OPTION,
    address: str | None = ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
    chunk_size: int | None = typer.Option(
        None,
        help="Crises per chunk (default: "
        f"{CHUNK_LUMPED:,} for deterministic agents, "
        f"{CHUNK:,} otherwise; results do not depend "
        f"on it; 1 to {MAX_RUNS:,}).",
    ),
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the run database."),
    store: bool = typer.Option(True, "--store/--no-store", help="Record the run."),
    plot: Path | None = PLOT_OPTION,
    quiet: bool = QUIET_OPTION,
    report: list[str] = typer.Option(
        [],
        "--report",
        "-r",
        help="A variable to report: its lowest and highest "
        "values, or when it first holds (repeatable).",
    ),
    tolerance: float = typer.Option(
        3.0,
        "--tolerance",
        help="Days within which a crisis "
        "counts as reproducing a documented step (0 to "
        f"{MAX_TOLERANCE:,}).",
    ),
    params_file: Path | None = PARAMS_FILE_OPTION,
    sample: int = typer.Option(
        0,
        "--sample",
        help="Keep this many crises, drawn uniformly among those meeting --where (all without it).",
    ),
    where: str | None = typer.Option(
        None,
        "--where",
        help="A condition on how a crisis ends, e.g. \"outcome == 'strategic_exchange'\".",
    ),
    trace: Path | None = typer.Option(
        None,
        "--trace",
        help="Write the sampled crises' "
        "stories: .jsonl, or .csv / .parquet (a row per "
        "crisis and turn).",
    ),
    llm_cache: str = LLM_CACHE_OPTION,
) -> None:
    """Simulate many crises: each outcome's probability with a 95% interval, the day the
    crisis ends, peak escalation, the hazard of war day by day and where wars come from,
    the share of the record reproduced and the documented path's likelihood, any
    reported variables, and (--sample) a uniform sample of crises told in full."""
    from crisislab.analysis.simulate import simulate
    from crisislab.cli.inside import check_sample

    _check_common(runs, seed, workers, CHUNK if chunk_size is None else chunk_size)
    check_sample(sample, trace)
    _plot_path(plot)
    check_range("--tolerance", tolerance, 0, MAX_TOLERANCE, "e.g. --tolerance 3")
    sc = _load(scenario)
    variant = _variant(sc, agent, what_if, [*_params_file(sc, params_file), *param])
    database = _store(db, writable=True) if store else None
    from crisislab.cli.llm import llm_run, local_workers

    workers = local_workers(agent, workers, backend.value)
    with (
        _clean_errors(),
        llm_run(llm_cache, db, quiet) as models,
        _progress(runs, "simulating", quiet) as progress,
    ):
        sim = simulate(
            sc,
            runs,
            seed,
            variant,
            backend.value,
            workers,
            address,
            chunk_size,
            progress,
            reports=report,
            tolerance=tolerance,
            where=where,
            sample=sample,
        )
    if models.counts:  # what the language models did: in the JSON and the stored run
        sim.summary["llm"] = models.report()
    crises: list[Any] = []
    if sample:
        from crisislab.cli.inside import tell_sample

        crises = tell_sample(sim, sc, trace, scenario)
    run_id = None
    if database is not None:
        from crisislab import __version__

        with _clean_errors():
            row = database.add_run(
                scenario=sim.scenario,
                version=sim.version,
                content_hash=sim.content_hash,
                agents=sim.variant.agents(),
                what_ifs=list(sim.variant.what_ifs),
                parameters=dict(sim.variant.parameters),
                seed=seed,
                runs=runs,
                elapsed_s=sim.elapsed_s,
                results=sim.summary,
                crisislab_version=__version__,
            )
            run_id = row.id
        from crisislab.cli.llm import store_links

        store_links(models, db, run_id)
    if plot is not None:
        from crisislab.analysis.plots import plot_simulation

        plot_simulation(sim, plot)
        err.print(f"wrote {plot}", highlight=False, markup=False, soft_wrap=True)
    if format is OutFormat.json:
        doc = {**sim.to_json(), "run_id": run_id}
        if sample:
            from crisislab.cli.inside import sample_json

            doc["sample"] = sample_json(sim, crises, scenario)
        _emit_json(doc)
    else:
        _render_simulation(sim, run_id, sc)
        if where is not None and not sample:
            m = sim.summary["matching"]
            out.print(
                f"{m['count']:,} crises ({_interval(m)}) end where {where}",
                highlight=False,
                markup=False,
            )
        if sample:
            from crisislab.cli.inside import render_sample

            render_sample(sim, crises, trace, scenario)


# ---- runs ----------------------------------------------------------------------------------


def runs_cmd(
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the run database."),
    limit: int = typer.Option(
        50, help=f"Show at most this many, newest first (1 to {MAX_LIMIT:,})."
    ),
    format: OutFormat = FORMAT_OPTION,
) -> None:
    """List the stored simulation runs, newest first."""
    check_range("--limit", limit, 1, MAX_LIMIT)
    database = _store(db)
    with _clean_errors():
        rows, damaged = database.checked_runs(limit)
    for message in damaged:
        err.print(f"warning: {message}; left out", markup=False, highlight=False)
    listed: list[dict[str, Any]] = []
    for r in rows:
        outcomes = r.results.outcomes
        top = max(outcomes, key=lambda k: outcomes[k].count) if outcomes else ""
        listed.append(
            {
                "id": r.id,
                "date": r.created.strftime("%Y-%m-%d %H:%M"),
                "scenario": f"{r.scenario}@{r.version}",
                "content_hash": r.content_hash,
                "engine_version": r.crisislab_version or "",
                "runs": r.runs,
                "seed": r.seed,
                "agents": " ".join(f"{a}={s}" for a, s in r.agents.items()),
                "what_ifs": ",".join(r.what_ifs),
                "parameters": dict(r.parameters),
                "top_outcome": f"{top} {_pct(outcomes[top].p)}" if top else "",
            }
        )
    if format is OutFormat.json:
        _emit_json({"runs": listed})
        return
    if not listed:
        out.print(
            f"no runs stored in {database.shown}; run `crisislab simulate` first",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        return
    table = Table()
    for col in ("id", "date", "scenario", "runs", "seed", "agents", "what-ifs", "top outcome"):
        table.add_column(col, overflow="fold")
    for item in listed:
        table.add_row(
            *(
                Text(x)
                for x in (
                    str(item["id"]),
                    item["date"],
                    item["scenario"],
                    f"{item['runs']:,}",
                    str(item["seed"]),
                    item["agents"],
                    item["what_ifs"] or "-",
                    item["top_outcome"],
                )
            )
        )
    out.print(table)


# ---- compare -------------------------------------------------------------------------------


def compare_cmd(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    what_if: list[str] = typer.Option(
        [], "--what-if", "-w", help="A column with this what-if (join several with +)."
    ),
    lineup: list[str] = typer.Option(
        [], "--lineup", "-l", help="A column with these agents: 'usa=hawk;ussr=dove'."
    ),
    agent: list[str] = typer.Option(
        [], "--agent", "-a", help="ACTOR=AGENT for every column (the baseline's)."
    ),
    runs: int = typer.Option(
        100_000, "--runs", "-n", help=f"Crises per column, 1 to {MAX_RUNS:,}."
    ),
    seed: int = typer.Option(0, help="Seed, shared by every column (0 to 2**63 - 1)."),
    format: OutFormat = FORMAT_OPTION,
    backend: Backend = BACKEND_OPTION,
    address: str | None = ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
    plot: Path | None = PLOT_OPTION,
    quiet: bool = QUIET_OPTION,
    llm_cache: str = LLM_CACHE_OPTION,
) -> None:
    """Set what-ifs or agent line-ups side by side with the baseline: each outcome's
    probability, and its difference from the baseline with a 95% interval."""
    from crisislab.analysis.compare import compare

    _check_common(runs, seed, workers, CHUNK)
    _plot_path(plot)
    if not what_if and not lineup:
        _fail("nothing to compare", "give --what-if ID or --lineup 'usa=AGENT;ussr=AGENT'")
    sc = _load(scenario)
    base = _variant(sc, agent, [], [])
    variants = [base]
    for w in what_if:
        ids = [x.strip() for x in w.split("+") if x.strip()]
        variants.append(_variant(sc, agent, ids, [], label="+".join(ids)))
    for spec in lineup:
        seats = [s.strip() for s in spec.replace(";", " ").split() if s.strip()]
        if not seats:
            _fail(f"--lineup '{spec}' names no agents", "e.g. --lineup 'usa=hawk;ussr=dove'")
        merged = {s.partition("=")[0].strip(): s for s in [*agent, *seats]}
        variants.append(_variant(sc, list(merged.values()), [], [], label=" ".join(seats)))
    from crisislab.cli.llm import llm_run, local_workers

    workers = local_workers([s for v in variants for _, s in v.seats], workers, backend.value)
    with (
        _clean_errors(),
        llm_run(llm_cache, None, quiet) as models,
        _progress(runs * len(variants), "comparing", quiet) as progress,
    ):
        comp = compare(sc, variants, runs, seed, backend.value, workers, address, progress=progress)
    if plot is not None:
        from crisislab.analysis.plots import plot_comparison

        plot_comparison(comp, plot)
        err.print(f"wrote {plot}", highlight=False, markup=False, soft_wrap=True)
    if format is OutFormat.json:
        _emit_json({**comp.to_json(), **({"llm": models.report()} if models.counts else {})})
        return
    out.print(
        f"[bold]{comp.scenario} {comp.version}[/bold]: {runs:,} crises per column, "
        f"seed {seed}; differences from '{comp.baseline.label}' with 95% Newcombe "
        "intervals",
        highlight=False,
    )
    table = Table()
    table.add_column("outcome")
    for v in comp.variants:
        table.add_column(v.label, overflow="fold")
    diffs = comp.differences()
    names = _outcome_names(sc)
    for oid in comp.summaries[0]["outcomes"]:
        cells = [_interval(comp.summaries[0]["outcomes"][oid])]
        for v, s in zip(comp.variants[1:], comp.summaries[1:], strict=True):
            o, d = s["outcomes"][oid], diffs[v.label].get(oid)
            cell = _pct(o["p"])
            if d is not None:
                sig = "*" if d["low"] > 0 or d["high"] < 0 else ""
                cell += (
                    f"\n{_points(d['d'])} points [{_points(d['low'])}, {_points(d['high'])}]{sig}"
                )
            cells.append(cell)
        table.add_row(names.get(oid, oid), *cells)
    out.print(table)
    out.print("[dim]* the interval excludes 0[/dim]")


# ---- sensitivity ---------------------------------------------------------------------------


def sensitivity_cmd(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    method: SweepMethod = typer.Option(SweepMethod.oat, help="oat (default), sobol or both"),
    runs_per_point: int = typer.Option(
        16_384,
        help="Crises run at each parameter point "
        f"(the same crises at every point), 1 to {MAX_RUNS:,}.",
    ),
    samples: int = typer.Option(
        64,
        help="Sobol base samples N (a power of two, 1 to "
        f"{MAX_SAMPLES:,}); the sweep runs N x (parameters + 2) "
        "points.",
    ),
    outcome: list[str] = typer.Option(
        [], "--outcome", "-o", help="Outcome(s) to study (default: nuclear use)."
    ),
    only: list[str] = typer.Option([], "--only", help="Sweep only these parameters."),
    agent: list[str] = typer.Option([], "--agent", "-a", help="ACTOR=AGENT."),
    what_if: list[str] = typer.Option([], "--what-if", "-w", help="A what-if id."),
    param: list[str] = typer.Option([], "--param", "-p", help="Fix NAME=VALUE (not swept)."),
    seed: int = typer.Option(0, help="Seed, shared by every point (0 to 2**63 - 1)."),
    top: int = typer.Option(15, help=f"Show the top parameters (1 to {MAX_LIMIT:,})."),
    format: OutFormat = FORMAT_OPTION,
    backend: Backend = BACKEND_OPTION,
    address: str | None = ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
    plot: Path | None = PLOT_OPTION,
    quiet: bool = QUIET_OPTION,
    llm_cache: str = LLM_CACHE_OPTION,
) -> None:
    """Rank the assumptions that drive the probability of nuclear war: every parameter
    one at a time across its range, and Sobol indices (SALib)."""
    from crisislab.analysis.sensitivity import planned_points, sensitivity, target_outcomes

    _check_common(runs_per_point, seed, workers, CHUNK, "--runs-per-point")
    check_range("--samples", samples, 1, MAX_SAMPLES, "e.g. --samples 64")
    check_range("--top", top, 1, MAX_LIMIT)
    if method.value != "oat":
        from crisislab.extras import ensure

        ensure("SALib", "sensitivity")  # before the sweep, not after its first half
    _plot_path(plot)
    sc = _load(scenario)
    base = _variant(sc, agent, what_if, param)
    with _clean_errors():
        targets = target_outcomes(sc, outcome)
    ranged = sum(
        1 for p in sc.spec.parameters if p.range[0] < p.range[1] and (not only or p.id in only)
    )
    points = planned_points(ranged, samples, method.value)
    if points * runs_per_point > MAX_RUNS:
        _fail(
            f"the sweep would run {points:,} points x {runs_per_point:,} crises = "
            f"{points * runs_per_point:,} crises, more than the {MAX_RUNS:,} one command "
            "may run",
            "lower --runs-per-point or --samples, or sweep fewer parameters with --only",
        )
    if not quiet:
        err.print(
            f"sweeping {ranged} parameters: {points:,} points x {runs_per_point:,} "
            f"crises = {points * runs_per_point:,} crises",
            highlight=False,
        )
    from crisislab.cli.llm import llm_run, local_workers

    workers = local_workers(agent, workers, backend.value)
    with (
        _clean_errors(),
        llm_run(llm_cache, None, quiet),
        _progress(points * runs_per_point, "sweeping", quiet) as progress,
    ):
        sens = sensitivity(
            sc,
            base,
            runs_per_point,
            samples,
            method.value,
            targets,
            seed,
            backend.value,
            workers,
            address,
            progress,
            only or None,
        )
    if plot is not None:
        from crisislab.analysis.plots import plot_sensitivity

        plot_sensitivity(sens, plot, top=top)
        err.print(f"wrote {plot}", highlight=False, markup=False, soft_wrap=True)
    if format is OutFormat.json:
        _emit_json(sens.to_json())
        return
    b = sens.baseline
    out.print(
        f"[bold]{sens.scenario} {sens.version}[/bold]: P({' + '.join(targets)}) = "
        f"{_interval(b)} at the stated values; {sens.runs_per_point:,} crises per "
        f"point, {sens.points:,} points, seed {sens.seed}",
        highlight=False,
    )
    if sens.oat:
        t = Table(
            title="One at a time: the parameter at each end of its range", title_justify="left"
        )
        for col in (
            "rank",
            "parameter",
            "value",
            "range",
            "P at low",
            "P at high",
            "swing",
            "high - low, 95% interval",
        ):
            t.add_column(col, overflow="fold")
        for i, r in enumerate(sens.oat[:top], 1):
            d, lo, hi = r.difference(sens.runs_per_point)
            sig = "*" if lo > 0 or hi < 0 else ""
            t.add_row(
                str(i),
                r.parameter,
                f"{r.value:g}",
                escape(f"[{r.low:g}, {r.high:g}]"),
                _pct(r.p_low),
                _pct(r.p_high),
                f"{100 * r.swing:.3g} pts",
                escape(f"{100 * d:+.3g} [{100 * lo:+.3g}, {100 * hi:+.3g}]{sig}"),
            )
        out.print(t)
        still = sum(1 for r in sens.oat if r.swing == 0)
        out.print(
            f"[dim]* the interval excludes 0; {still} of {len(sens.oat)} parameters "
            "moved no crisis at all[/dim]",
            highlight=False,
        )
    if sens.sobol:
        t = Table(
            title=escape(
                f"Sobol indices (N = {sens.samples}; 95% bootstrap intervals, clipped to [0, 1])"
            ),
            title_justify="left",
        )
        for col in ("rank", "parameter", "total ST", "first-order S1", "resolved"):
            t.add_column(col, overflow="fold")
        for i, s in enumerate(sens.sobol[:top], 1):
            (st_low, st_high), (s1_low, s1_high) = s.st_interval, s.s1_interval
            t.add_row(
                str(i),
                s.parameter,
                escape(f"{min(max(s.st, 0), 1):.3f} [{st_low:.3f}, {st_high:.3f}]"),
                escape(f"{min(max(s.s1, 0), 1):.3f} [{s1_low:.3f}, {s1_high:.3f}]"),
                "yes" if s.resolved else "no: interval as wide as the index",
            )
        out.print(t)


# ---- calibrate -----------------------------------------------------------------------------


def calibrate_cmd(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    runs: int = typer.Option(100_000, "--runs", "-n", help=RUNS_HELP),
    seed: int = SEED_OPTION,
    agent: list[str] = typer.Option(
        [], "--agent", "-a", help="ACTOR=AGENT[:key=value,...]; others: historical."
    ),
    what_if: list[str] = typer.Option([], "--what-if", "-w", help="A what-if id (repeatable)."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE (repeatable)."),
    params_file: Path | None = PARAMS_FILE_OPTION,
    fit: bool = typer.Option(
        False, "--fit", help="Search the assumptions, within their ranges, to meet the targets."
    ),
    fit_runs: int = typer.Option(
        20_000, help=f"Crises per point of the search, 1 to {MAX_RUNS:,}."
    ),
    passes: int = typer.Option(
        2, help=f"Passes of the coordinate search at most (1 to {MAX_PASSES})."
    ),
    only: list[str] = typer.Option([], "--only", help="Search only these assumptions."),
    write: Path | None = typer.Option(
        None, "--write", help="Write the parameter set (YAML) that `simulate --params` reads."
    ),
    format: OutFormat = FORMAT_OPTION,
    backend: Backend = BACKEND_OPTION,
    address: str | None = ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
    quiet: bool = QUIET_OPTION,
    llm_cache: str = LLM_CACHE_OPTION,
) -> None:
    """Set the model beside the scenario's calibration targets: each target's value, its
    95% interval, the target range and whether it holds; --fit searches the assumptions."""
    from crisislab.analysis.calibrate import calibrate, write_parameter_file

    _check_common(runs, seed, workers, CHUNK)
    check_range("--fit-runs", fit_runs, 1, MAX_RUNS)
    check_range("--passes", passes, 1, MAX_PASSES)
    sc = _load(scenario)
    variant = _variant(sc, agent, what_if, [*_params_file(sc, params_file), *param])
    from crisislab.cli.llm import llm_run, local_workers

    workers = local_workers(agent, workers, backend.value)
    with (
        _clean_errors(),
        llm_run(llm_cache, None, quiet),
        _progress(runs, "calibrating", quiet or fit) as progress,
    ):
        if fit and not quiet:
            err.print(
                "searching the assumptions (coordinate search, common random "
                f"numbers, {fit_runs:,} crises a point)...",
                highlight=False,
            )
        cal = calibrate(
            sc,
            variant,
            runs,
            seed,
            backend.value,
            workers,
            address,
            fit,
            fit_runs,
            passes,
            only or None,
            progress,
        )
        if write is not None:
            write_parameter_file(write, cal)
            err.print(f"wrote {write}", highlight=False, markup=False, soft_wrap=True)
    if format is OutFormat.json:
        _emit_json(cal.to_json())
        return
    out.print(
        f"[bold]{cal.scenario} {cal.version}[/bold]: {cal.runs:,} crises, seed "
        f"{cal.seed}; {sum(r.holds for r in cal.results)} of {len(cal.results)} "
        "targets hold",
        highlight=False,
    )
    t = Table(
        title="Calibration targets (model: median or share, with its 95% interval)",
        title_justify="left",
    )
    for col in ("target", "model", "95% interval", "target range", "holds", "source"):
        t.add_column(col, overflow="fold")
    for r in cal.results:
        a, b = r.target.range
        if r.target.measure == "probability":
            rng = f"{100 * float(a):.3g}% to {100 * float(b):.3g}%"  # type: ignore[arg-type]
        elif a == b:
            rng = str(a) if not isinstance(a, float) else f"{a:g}"
        else:
            rng = f"{a} to {b}" if not isinstance(a, float) else f"{a:g} to {b:g}"
        src = "; ".join(
            [c.source for c in r.target.cite]
            + [
                f"{x.author or x.title} ({x.date})" if x.date else (x.author or x.title)
                for x in r.target.references
            ]
        )
        t.add_row(
            escape(r.target.label),
            escape(r.label),
            escape(r.interval),
            escape(rng),
            "[green]yes[/green]" if r.holds else "[red]no[/red]",
            escape(src),
        )
    out.print(t)
    out.print("[dim]Locators and notes for every source: --format json[/dim]")
    if cal.loss_before is not None:
        if cal.fitted:
            out.print(
                f"The search changed {len(cal.fitted)} assumptions (loss "
                f"{cal.loss_before:.3g} -> {cal.loss:.3g}, {cal.evaluations} points):",
                highlight=False,
            )
            for k, (was, now) in cal.fitted.items():
                out.print(f"  {k}: {was:g} -> {now:g}", highlight=False)
        else:
            out.print(
                "The search found no change within the ranges that brings the targets closer.",
                highlight=False,
            )


def register(app: typer.Typer) -> None:
    command: Callable[..., Any]
    for name, command in (
        ("simulate", simulate_cmd),
        ("runs", runs_cmd),
        ("compare", compare_cmd),
        ("sensitivity", sensitivity_cmd),
        ("calibrate", calibrate_cmd),
    ):
        app.command(name)(command)
    from crisislab.cli.inside import paths_cmd

    app.command("paths")(paths_cmd)
