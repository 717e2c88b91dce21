"""The ``crisislab`` command. It renders what the library computes and holds no rules.

This package's ``__init__`` holds the top-level group and the commands of its own
(version, scenarios, schema, validate, replay, sources); each other command group has its
module in the package (analysis, inside, tournament, fit, play, gt, llm, whatifs), and
all of them import what they share from :mod:`crisislab.cli.common`.

Start-up is kept short: this module imports only typer (rich when a console is first
used), and the commands of the other modules are imported when they run, not to list
them (see :class:`LazyGroup`)."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from crisislab.cli.common import err, fail, load_or_exit, out, write
from crisislab.errors import SafeGroup, check_range, check_seed, main_guard

if TYPE_CHECKING:
    from crisislab.scenario.model import Scenario

# The commands of other modules: name -> (module, first paragraph of its help, a group?).
# A module with ``register(app)`` adds its commands to a Typer; one with ``gt_app`` is a
# sub-group. The help is written here so that ``crisislab --help`` need not import the
# module (a test checks that it matches the command's own).
LAZY_COMMANDS: dict[str, tuple[str, str, bool]] = {
    "simulate": (
        "crisislab.cli.analysis",
        "Simulate many crises: each outcome's probability "
        "with a 95% interval, the day the crisis ends, peak escalation, the hazard "
        "of war day by day and where wars come from, the share of the record "
        "reproduced and the documented path's likelihood, any reported variables, "
        "and (--sample) a uniform sample of crises told in full.",
        False,
    ),
    "paths": (
        "crisislab.cli.analysis",
        "The main paths of a crisis: the matching crises "
        "grouped by the order of their key happenings and their outcome, each path "
        "with its share, a 95% interval and the day it leaves the record's own path.",
        False,
    ),
    "runs": ("crisislab.cli.analysis", "List the stored simulation runs, newest first.", False),
    "compare": (
        "crisislab.cli.analysis",
        "Set what-ifs or agent line-ups side by side with "
        "the baseline: each outcome's probability, and its difference from the "
        "baseline with a 95% interval.",
        False,
    ),
    "sensitivity": (
        "crisislab.cli.analysis",
        "Rank the assumptions that drive the "
        "probability of nuclear war: every parameter one at a time across its "
        "range, and Sobol indices (SALib).",
        False,
    ),
    "calibrate": (
        "crisislab.cli.analysis",
        "Set the model beside the scenario's calibration "
        "targets: each target's value, its 95% interval, the target range and "
        "whether it holds; --fit searches the assumptions.",
        False,
    ),
    "tournament": (
        "crisislab.cli.tournament",
        "Play agents in one seat of a "
        "scenario against chosen opponents and rank them: outcome odds, "
        "escalation scores on the common scale with bootstrap intervals, first "
        "nuclear use, where their crises left the record, and what their "
        "letters said against what they then did. Games people played can be "
        "an entrant (NAME=games).",
        False,
    ),
    "fit": (
        "crisislab.cli.fit",
        "Fit the leaders' choice model to the documented choices (maximum likelihood).",
        False,
    ),
    "play": (
        "crisislab.cli.play",
        "Play a crisis in the terminal as one leader (or several, "
        "hot seat), or from a file of moves (--moves).",
        False,
    ),
    "games": (
        "crisislab.cli.play",
        "List the saved games (newest first); a damaged row is reported and skipped.",
        False,
    ),
    "debrief": (
        "crisislab.cli.play",
        "Set a played crisis beside history: timelines, "
        "escalation, odds, essays; or, with --story, one simulated crisis from "
        "your decision point.",
        False,
    ),
    "what-ifs": (
        "crisislab.cli.whatifs",
        "List a scenario's named what-ifs: what each changes, "
        "why, and what it should do to the odds (use an id with --what-if).",
        False,
    ),
    "serve": (
        "crisislab.web.cli",
        "Run the classroom web app: a facilitator creates a class "
        "session, people join with its code, and a class plays the crisis in teams, "
        "in parallel worlds, with a debrief.",
        False,
    ),
    "new": (
        "crisislab.starter",
        "Write a small, commented starter scenario, NAME.yaml, that "
        "validates, replays and simulates as it is.",
        False,
    ),
    "gt": (
        "crisislab.cli.gt",
        "Solve the crisis as a game: Gambit trees, equilibria, the classic models.",
        True,
    ),
    "llm": (
        "crisislab.cli.llm",
        "The stored replies of language-model leaders: list them, "
        "export a study's replies to one file, import them elsewhere.",
        True,
    ),
}


def lazy_command(name: str) -> Any:
    """The real command ``name`` of :data:`LAZY_COMMANDS`, its module imported now."""
    module = importlib.import_module(LAZY_COMMANDS[name][0])
    if hasattr(module, f"{name}_app"):  # a group of commands: gt_app, llm_app
        group = typer.main.get_group(getattr(module, f"{name}_app"))
        group.name = name
        return group
    holder = typer.Typer()
    module.register(holder)
    return typer.main.get_group(holder).commands[name]


def first_paragraph(text: str) -> str:
    """A command's help as a listing shows it: the first paragraph, on one line."""
    return " ".join(inspect.cleandoc(text).split("\n\n")[0].split())


class LazyGroup(SafeGroup):
    """The top-level group: commands of :data:`LAZY_COMMANDS` are imported when invoked;
    listing them in the help uses the help written there. An optional package that is
    missing ends the command with one line saying which extra to install."""

    _listing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # this group's own help in click's plain layout: the rich one would import a
        # markdown renderer and half of rich first (commands keep the rich layout)
        self.rich_markup_mode = None

    def list_commands(self, ctx: Any) -> list[str]:
        own = list(self.commands)
        groups = [n for n in own if isinstance(self.commands[n], TyperGroup)]
        lazy = [n for n in LAZY_COMMANDS if n not in self.commands]
        return (
            [n for n in own if n not in groups]
            + [n for n in lazy if not LAZY_COMMANDS[n][2]]
            + groups
            + [n for n in lazy if LAZY_COMMANDS[n][2]]
        )

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return TyperCommand(cmd_name, help=LAZY_COMMANDS[cmd_name][1])
        return lazy_command(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, first_paragraph(command.short_help or command.help or "")))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=LazyGroup,
    help="crisislab: a laboratory for nuclear crises. Replay, play, measure and solve a "
    "historical crisis as a source-grounded stochastic game.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sources_app = typer.Typer(
    help="Check a scenario's citations against its source documents.",
    no_args_is_help=True,
    cls=SafeGroup,
)
app.add_typer(sources_app, name="sources")


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class ReplayFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


@app.command()
def version() -> None:
    """Print crisislab's version."""
    from crisislab import __version__

    out.print(__version__)


@app.command()
def scenarios() -> None:
    """List the scenarios shipped with crisislab."""
    from crisislab.scenario.loader import builtin_ids

    for ref in builtin_ids():
        sc = load_or_exit(ref)
        out.print(f"{sc.id}  {sc.version}  {sc.title}", highlight=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    from crisislab.scenario.schema import ScenarioSpec

    doc = ScenarioSpec.model_json_schema()
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "crisislab scenario"
    print(json.dumps(doc, indent=2))


@app.command()
def validate(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    deep: bool = typer.Option(
        False,
        "--deep",
        help="Also run the conformance kit on it: "
        "determinism, batches, lumping, reuse, information hiding, "
        "bounds and a time bound (docs/agents.md).",
    ),
    time_limit: float = typer.Option(
        120.0,
        "--time-limit",
        help="With --deep: seconds "
        "10,000 crises may take (0 to 86,400; 0 leaves the "
        "time check out).",
    ),
) -> None:
    """Check a scenario file; print every problem with file, line, column and a fix."""
    check_range("--time-limit", time_limit, 0, 86_400)
    sc = load_or_exit(scenario)
    out.print(
        f"[green]valid:[/green] {sc.id} {sc.version}: {len(sc.actors)} actors, "
        f"{len(sc.variables)} variables, {len(sc.parameters)} parameters, {len(sc.actions)} "
        f"actions, {len(sc.events)} events, {len(sc.outcomes)} outcomes, "
        f"{len(sc.clock)} turns, {len(sc.spec.history)} documented steps",
        highlight=False,
    )
    from rich.markup import escape

    for w in sc.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(str(w))}", highlight=False)
    if deep:
        from crisislab.testing import ConformanceError, check_scenario

        try:
            report = check_scenario(sc, runs=32, large_batch=10_000, time_limit=time_limit or None)
        except ConformanceError as e:
            fail(f"{sc.id}: the {e.check} check failed: {e.what}", e.fix, code=1)
        out.print(
            f"conformance: {len(report.passed)} checks passed ({', '.join(report.passed)})",
            highlight=False,
            markup=False,
        )
        for name, why in report.skipped.items():
            out.print(f"  skipped {name}: {why}", highlight=False, markup=False)


@app.command()
def replay(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    format: ReplayFormat = typer.Option(
        ReplayFormat.text, "--format", "-f", help="text, markdown, html or json"
    ),
    seed: int = typer.Option(
        0, help="Seed, 0 to 2**63 - 1 (recorded; the historical replay uses no chance)."
    ),
    start: str | None = typer.Option(
        None, "--from", help="Start at this date (YYYY-MM-DD) or phase."
    ),
    until: str | None = typer.Option(None, "--to", help="End at this date or phase."),
    actor: str | None = typer.Option(
        None, "--actor", help="Only this actor's steps (id or name, e.g. Castro)."
    ),
    sources: bool = typer.Option(False, "--sources", help="List the documents cited at the end."),
    detail: bool = typer.Option(
        False, "--detail", "--all", help="Every step and every change of state, not a summary."
    ),
    pager: bool = typer.Option(
        True, "--pager/--no-pager", help="Page long text output in an interactive terminal."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    crisis: str | None = typer.Option(
        None,
        "--crisis",
        help="SEED:INDEX: tell simulated crisis INDEX of `simulate --seed SEED` instead.",
    ),
    agent: list[str] = typer.Option(
        [], "--agent", "-a", help="With --crisis: ACTOR=AGENT, as given to simulate."
    ),
    what_if: list[str] = typer.Option(
        [], "--what-if", "-w", help="With --crisis: a what-if, as given to simulate."
    ),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="With --crisis: NAME=VALUE, as given to simulate."
    ),
) -> None:
    """Tell the crisis as it happened, day by day, each step with its sources; or, with
    --crisis, one simulated crisis as it went."""
    from crisislab.render import render_html, render_markdown, render_text
    from crisislab.replay import replay as run_replay

    check_seed(seed)
    sc = load_or_exit(scenario)
    for w in sc.warnings:
        err.print(f"warning: {w}", highlight=False, markup=False, emoji=False)
    first = replay_bound(sc, start, "--from", last=False)
    last = replay_bound(sc, until, "--to", last=True)
    if first is not None and last is not None and first > last:
        fail(f"--from {start} comes after --to {until}", "swap them")
    who = replay_actor(sc, actor) if actor is not None else None
    if crisis is not None:
        result = replay_crisis(sc, crisis, agent, what_if, param).between(first, last, who)
    else:
        if agent or what_if or param:
            fail(
                "--agent, --what-if and --param choose how a simulated crisis is played",
                "give them with --crisis SEED:INDEX",
            )
        result = run_replay(sc, seed=seed).between(first, last, who)
    if format is ReplayFormat.json:
        text = json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    elif format is ReplayFormat.markdown:
        text = render_markdown(result, detail=detail, list_sources=sources)
    elif format is ReplayFormat.html:
        text = render_html(result, detail=detail)
    else:
        if output is None:
            if pager and out.is_terminal:
                os.environ.setdefault("LESS", "-R")  # less shows the styles, not their codes
                with out.pager(styles=True):
                    render_text(result, out, detail=detail, list_sources=sources)
            else:
                render_text(result, out, detail=detail, list_sources=sources)
            return
        from rich.console import Console

        console = Console(record=True, width=100, file=open(os.devnull, "w"))  # noqa: SIM115
        render_text(result, console, detail=detail, list_sources=sources)
        text = "\n".join(line.rstrip() for line in console.export_text().splitlines())
    write(text, output)


def replay_crisis(
    sc: Scenario, ref: str, agent: list[str], what_if: list[str], param: list[str]
) -> Any:
    """Simulated crisis ``SEED:INDEX``, played again with the given line-up."""
    from crisislab.analysis.simulate import build
    from crisislab.cli.llm import uses_llm
    from crisislab.cli.options import _clean_errors, _variant
    from crisislab.replay import simulated

    seed_text, colon, index_text = ref.partition(":")
    if not colon or not seed_text.strip().isdigit() or not index_text.strip().isdigit():
        fail(
            f"--crisis '{ref}' should be SEED:INDEX, two whole numbers",
            "e.g. --crisis 1:6071, as `simulate --sample` lists them",
        )
    variant = _variant(sc, agent, what_if, param)
    with _clean_errors():
        variant_scenario, agents = build(sc, variant)
    if not uses_llm(agent):
        return simulated(variant_scenario, agents, int(seed_text), int(index_text)).story
    from crisislab.cli.llm import llm_run

    with llm_run("use", None, quiet=True):  # the models' replies, as simulate stored them
        return simulated(variant_scenario, agents, int(seed_text), int(index_text)).story


def replay_bound(sc: Scenario, value: str | None, option: str, last: bool) -> dt.date | None:
    """A date (YYYY-MM-DD) or a phase of the clock: its first day, or its last for --to."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    phases = {p.id: p for p in sc.spec.clock.phases}
    if value in phases:
        return phases[value].end if last else phases[value].start
    fail(
        f"{option}: no phase '{value}' in {sc.id}, and not a date",
        f"give a date like 1962-10-14 or a phase: {', '.join(phases)}",
    )
    return None


def replay_actor(sc: Scenario, name: str) -> str:
    """An actor named by id, name, short name or leader, in any case."""
    wanted = name.strip().lower()
    for a in sc.spec.actors:
        names = {a.id, a.name, a.leader or "", a.short_name or "", a.display_name}
        if wanted in {n.lower() for n in names if n}:
            return a.id
    fail(
        f"--actor: no actor '{name}' in {sc.id}",
        "use one of: " + ", ".join(f"{a.display_name} ({a.id})" for a in sc.spec.actors),
    )
    return ""


@sources_app.command("check")
def sources_check(
    scenario: str = typer.Argument(..., help="A scenario file or built-in id."),
    sources: Path = typer.Option(..., "--sources", help="Folder holding the seed documents."),
    threshold: float = typer.Option(85.0, help="Fuzzy match score needed (0-100)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List every citation."),
) -> None:
    """Find every citation's anchor phrase in the source documents; exit 1 if any fails."""
    from crisislab.sources import check_sources, render_report

    check_range("--threshold", threshold, 0, 100, "e.g. --threshold 85")
    if not sources.is_dir():
        fail(f"{sources} is not a folder", "give the folder that holds the seed documents")
    sc = load_or_exit(scenario)
    report = check_sources(sc.spec, sources, threshold=threshold)
    render_report(report, out, verbose=verbose)
    if report.unresolved:
        raise typer.Exit(1)


def main() -> None:
    """Entry point: no input may end in a traceback."""
    main_guard(app)


if __name__ == "__main__":
    main()
