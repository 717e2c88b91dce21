"""What ``simulate --sample`` and ``crisislab paths`` print, and where wars come from: they
render what :mod:`crisislab.analysis.sample` computes and hold no rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from crisislab.cli.llm import LLM_CACHE_OPTION
from crisislab.cli.options import (
    ADDRESS_OPTION,
    BACKEND_OPTION,
    FORMAT_OPTION,
    PLOT_OPTION,
    QUIET_OPTION,
    WORKERS_OPTION,
    Backend,
    OutFormat,
    _check_common,
    _clean_errors,
    _emit_json,
    _fail,
    _load,
    _pct,
    _plot_path,
    _progress,
    _variant,
    err,
    out,
)
from crisislab.engine.version import engine_version
from crisislab.scenario.display import actor_name, label_words, long_date, variable_label
from crisislab.scenario.model import Scenario

MAX_SAMPLE = 1000


# ---- where wars come from ----------------------------------------------------------------


def render_origins(origins: dict[str, Any], scenario: Scenario) -> None:
    """The table of what began the wars of a run, in words."""
    wars = origins["wars"]
    if not wars:
        return
    facts = origins["key_facts"]
    t = Table(
        title=f"Where wars come from ({wars:,} crises ending in war: what first "
        "brought the fighting, on which day, and the state at the end of that day)",
        title_justify="left",
    )
    for col in (
        "what began it",
        "who",
        "share of wars",
        "95% interval",
        "median day",
        *(variable_label(scenario, f) for f in facts),
    ):
        t.add_column(col, overflow="fold")
    for h in origins["happenings"]:
        who = (
            actor_name(scenario, h["actor"])
            if h["actor"]
            else ("an incident" if h["kind"] == "incident" else "chance")
        )
        cells = []
        for f in facts:
            top = max(h["facts"][f], key=lambda v: v["count"])
            cells.append(f"{top['value']} in {_pct(top['p'])}")
        t.add_row(
            h["label"],
            who,
            _pct(h["p"]),
            f"[{_pct(h['low'])}, {_pct(h['high'])}]",
            label_words(scenario, h["median_onset"]) if h["median_onset"] else "",
            *cells,
        )
    out.print(t)


# ---- simulate --sample -------------------------------------------------------------------


def check_sample(sample: int, trace: Path | None) -> None:
    """Options of simulate's sample, checked before any crisis is run."""
    if sample < 0 or sample > MAX_SAMPLE:
        _fail(f"--sample takes 1 to {MAX_SAMPLE:,} crises, not {sample}", "e.g. --sample 20")
    if trace is not None and sample == 0:
        _fail(
            "--trace writes the sampled crises: give --sample K too",
            "e.g. --sample 20 --trace wars.jsonl",
        )
    if trace is not None:
        from crisislab.stories import StoryError, trace_format

        try:
            trace_format(trace)
        except StoryError as e:
            _fail(str(e))


def tell_sample(sim: Any, scenario: Scenario, trace: Path | None, scenario_ref: str) -> list[Any]:
    """Play each sampled crisis again alone, check it ends as it did in the run, and
    write the stories to ``trace``; returns them."""
    from crisislab.analysis.simulate import build
    from crisislab.replay import simulated
    from crisislab.stories import StoryError, write_trace

    variant_scenario, agents = build(scenario, sim.variant)
    crises = []
    for index, outcome, end_turn in sim.sample:
        crisis = simulated(variant_scenario, agents, sim.seed, index)
        if (crisis.outcome, crisis.end_turn) != (variant_scenario.outcomes[outcome].id, end_turn):
            _fail(
                f"crisis {sim.seed}:{index} ended differently when played alone "
                f"({crisis.outcome} on turn {crisis.end_turn}, against "
                f"{variant_scenario.outcomes[outcome].id} on turn {end_turn} in the run)",
                "this is a bug in crisislab; please report it with the command you ran",
                code=1,
            )
        crises.append(crisis)
    if trace is not None:
        meta = {
            "scenario": sim.scenario,
            "version": sim.version,
            "engine_version": engine_version(),
            "content_hash": sim.content_hash,
            "runs": sim.runs,
            **_line_up(sim),
            "where": sim.summary.get("matching", {}).get("where"),
        }
        try:
            write_trace(trace, crises, meta, variant_scenario.players, scenario_ref)
        except StoryError as e:
            _fail(str(e), code=1)
    return crises


def _line_up(sim: Any) -> dict[str, Any]:
    return {
        "agents": sim.variant.agents(),
        "what_ifs": list(sim.variant.what_ifs),
        "parameters": dict(sim.variant.parameters),
    }


def sample_json(sim: Any, crises: list[Any], scenario_ref: str) -> list[dict[str, Any]]:
    from crisislab.stories import replay_command

    return [
        {
            "crisis": c.ref,
            "index": c.index,
            "outcome": c.outcome,
            "end_date": c.story.end_date,
            "replay": replay_command(scenario_ref, c, _line_up(sim)),
        }
        for c in crises
    ]


def render_sample(sim: Any, crises: list[Any], trace: Path | None, scenario_ref: str) -> None:
    matching = sim.summary.get("matching", {})
    where = matching.get("where")
    among = (
        f"the {matching['count']:,} crises where {where}" if where else f"all {sim.runs:,} crises"
    )
    out.print(f"A uniform sample of {len(crises)} of {among}:", highlight=False)
    for c in crises:
        out.print(
            f"  crisis {c.ref}: {c.story.outcome_label}, {long_date(c.story.end_date)}",
            highlight=False,
        )
    if crises:
        from crisislab.stories import replay_command

        out.print(
            "Retell one: " + replay_command(scenario_ref, crises[0], _line_up(sim)),
            highlight=False,
            markup=False,
        )
    if trace is not None:
        err.print(f"wrote {len(crises)} crises to {trace}", highlight=False)


# ---- crisislab paths ---------------------------------------------------------------------


def _path_text(scenario: Scenario, row: dict[str, Any]) -> str:
    steps = [
        f"{actor_name(scenario, s['actor'])}: {s['label']}" if s["actor"] else s["label"]
        for s in row["steps"]
    ]
    return " → ".join([*steps, row.get("outcome_label") or row["outcome"]])


def paths_cmd(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    runs: int = typer.Option(20_000, "--runs", "-n", help="How many crises to simulate."),
    seed: int = typer.Option(0, help="Seed: the same seed gives the same result."),
    agent: list[str] = typer.Option(
        [], "--agent", "-a", help="ACTOR=AGENT[:key=value,...]; others: historical."
    ),
    what_if: list[str] = typer.Option([], "--what-if", "-w", help="A what-if id (repeatable)."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE (repeatable)."),
    where: str | None = typer.Option(
        None,
        "--where",
        help="Only crises whose end meets this condition, e.g. \"outcome == 'settlement'\".",
    ),
    top: int = typer.Option(10, "--top", help="How many paths to list."),
    format: OutFormat = FORMAT_OPTION,
    backend: Backend = BACKEND_OPTION,
    address: str | None = ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
    plot: Path | None = PLOT_OPTION,
    quiet: bool = QUIET_OPTION,
    llm_cache: str = LLM_CACHE_OPTION,
) -> None:
    """The main paths of a crisis: the matching crises grouped by the order of their key
    happenings and their outcome, each path with its share, a 95% interval and the day it
    leaves the record's own path."""
    from crisislab.analysis.sample import summarise_paths
    from crisislab.analysis.simulate import simulate

    _check_common(runs, seed, workers, 1)
    if top < 1:
        _fail(f"--top must be at least 1, not {top}", "e.g. --top 10")
    _plot_path(plot)
    sc = _load(scenario)
    variant = _variant(sc, agent, what_if, param)
    from crisislab.cli.llm import llm_run, local_workers

    workers = local_workers(agent, workers, backend.value)
    with (
        _clean_errors(),
        llm_run(llm_cache, None, quiet),
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
            progress=progress,
            where=where,
            keys=True,
        )
    from crisislab.analysis.simulate import build, tracking_of

    variant_scenario, _ = build(sc, variant)
    with _clean_errors():
        tracking = tracking_of(variant_scenario, (), False, where=where, keys=True)
    assert tracking is not None
    paths = summarise_paths(sim.aggregate, variant_scenario, tracking, top)
    if plot is not None:
        from crisislab.analysis.plots import plot_paths

        plot_paths(paths, variant_scenario, plot)
        err.print(f"wrote {plot}", highlight=False)
    if format is OutFormat.json:
        _emit_json(
            {
                "scenario": sim.scenario,
                "version": sim.version,
                "engine_version": engine_version(),
                "content_hash": sim.content_hash,
                "runs": runs,
                "seed": seed,
                "where": where,
                "agents": sim.variant.agents(),
                "what_ifs": list(sim.variant.what_ifs),
                "parameters": dict(sim.variant.parameters),
                **paths,
            }
        )
        return
    among = (
        f"the {paths['crises']:,} crises where {where}" if where else f"{paths['crises']:,} crises"
    )
    out.print(
        f"[bold]{sim.scenario} {sim.version}[/bold]: the paths of {among} (seed "
        f"{seed}); {paths['paths']:,} different paths",
        highlight=False,
    )
    t = Table(
        title="The most frequent paths (key happenings in order, then the outcome)",
        title_justify="left",
    )
    for col in ("share", "95% interval", "leaves the record", "path"):
        t.add_column(col, overflow="fold")
    for row in paths["top"]:
        leaves = row["leaves_record"] or "never: the record's path"
        t.add_row(
            _pct(row["p"]),
            f"[{_pct(row['low'])}, {_pct(row['high'])}]",
            leaves,
            _path_text(sc, row),
        )
    other = paths["other"]
    if other["count"]:
        t.add_row(
            _pct(other["p"]),
            f"[{_pct(other['low'])}, {_pct(other['high'])}]",
            "",
            f"{other['paths']:,} other paths",
        )
    out.print(t)
    rec = paths["record_path"]
    out.print(
        f"The record's own path ({len(rec['steps'])} key happenings, then "
        f"{variant_scenario.outcome(rec['outcome']).label if rec['outcome'] else '?'})"
        f": {_pct(rec['p'])} [{_pct(rec['low'])}, {_pct(rec['high'])}] of crises",
        highlight=False,
    )
