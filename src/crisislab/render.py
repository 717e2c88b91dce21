"""Rendering a replay for people: a rich terminal table per day, or Markdown."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.table import Table

from crisislab.replay import Replay, ReplayEntry
from crisislab.scenario.schema import Citation


def cite_text(c: Citation) -> str:
    anchor = f' "{c.anchor}"' if c.anchor else ""
    return f"[{c.source}, {c.locator}{anchor}]"


def _changes(e: ReplayEntry) -> str:
    return "; ".join(f"{v}: {b} → {a}" for v, b, a in e.changes)


def _visible(replay: Replay, show_all: bool) -> list[ReplayEntry]:
    return [e for e in replay.entries if show_all or not e.routine]


def render_text(replay: Replay, console: Console, show_all: bool = False) -> None:
    console.print(f"[bold]{replay.title}[/bold] ({replay.scenario} {replay.version}, "
                  f"seed {replay.seed})")
    for day, items in groupby(_visible(replay, show_all), key=lambda e: e.date):
        table = Table(title=day, title_justify="left", show_lines=False, expand=True)
        table.add_column("when", no_wrap=True)
        table.add_column("actor", no_wrap=True)
        table.add_column("what happened", ratio=3)
        table.add_column("state", ratio=2)
        table.add_column("source", ratio=2)
        for e in items:
            half = e.label.split(" ")[-1] if " " in e.label else ""
            what = e.summary if e.kind != "outcome" else f"[bold]Outcome: {e.summary}[/bold]"
            table.add_row(half, e.actor or e.kind, what, _changes(e),
                          " ".join(cite_text(c) for c in e.citations[:2]))
        console.print(table)
    console.print(f"[bold]Outcome:[/bold] {replay.outcome_label} ({replay.outcome}) on "
                  f"{replay.end_date}. {replay.outcome_summary}")


def render_markdown(replay: Replay, show_all: bool = False) -> str:
    lines = [f"# {replay.title}", "",
             f"Replay of `{replay.scenario}` version {replay.version} "
             f"(content hash `{replay.content_hash[:12]}`), seed {replay.seed}. Every step is "
             "a documented choice or occurrence, or a rule of the model, with its sources.", ""]
    for day, items in groupby(_visible(replay, show_all), key=lambda e: e.date):
        lines += [f"## {day}", ""]
        for e in items:
            half = e.label.split(" ")[-1] if " " in e.label else e.label
            who = e.actor or e.kind
            lines.append(f"- **{half} · {who}** · {e.summary}")
            if e.changes:
                lines.append(f"  - State: {_changes(e)}")
            lines.append(f"  - Sources: {'; '.join(cite_text(c) for c in e.citations)}")
        lines.append("")
    lines += ["## Outcome", "",
              f"{replay.outcome_label} (`{replay.outcome}`), {replay.end_date}: "
              f"{replay.outcome_summary}", ""]
    return "\n".join(lines)
