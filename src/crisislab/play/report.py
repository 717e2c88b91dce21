"""The debrief in the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crisislab.play.debrief import Debrief, Decision, Effect, Odds


def sparkline(series: list[tuple[int, float]], top: float) -> str:
    blocks = " ▁▂▃▄▅▆▇█"
    return "".join(blocks[min(8, round(e / max(top, 1) * 8))] for _, e in series)


def render_debrief(d: Debrief, c: Console, timeline_rows: int = 60) -> None:
    c.rule(f"[bold]Debrief[/bold]: {d.title}" + (f" — game {d.game_id}" if d.game_id else ""))
    c.print(f"Seats: {', '.join(d.players)}; seed {d.seed}; chance {d.chance}.", highlight=False)
    c.print(
        f"[bold]Your crisis:[/bold] {d.outcome_label}, {d.when(d.end_label)}. {d.outcome_summary}",
        highlight=False,
    )
    c.print(
        f"[bold]The record:[/bold] {d.history_outcome_label}, {d.when(d.history_end_label)}.",
        highlight=False,
    )
    if d.first_divergence is None:
        c.print("[green]No divergence:[/green] your crisis followed the record throughout.")
    else:
        f = d.first_divergence
        c.print(
            f"[yellow]First divergence:[/yellow] {d.when(f.label)} — {f.cause}.", highlight=False
        )
    if d.terms:
        t = Table(title="Terms at the end", title_justify="left")
        t.add_column("term")
        t.add_column("your crisis")
        t.add_column("history")
        for name, mine, hist in d.terms:
            style = "yellow" if mine != hist else ""
            t.add_row(name, Text(mine, style=style), hist)
        c.print(t)
    top = max([*d.escalation_labels, 1])
    c.print("[bold]Escalation[/bold] (one character a turn)")
    c.print(f"  yours   {sparkline(d.curve_game, top)}", highlight=False)
    c.print(f"  history {sparkline(d.curve_history, top)}", highlight=False)
    if d.runs:
        _odds(d, c)
    rows = [r for r in d.rows if r.diverged] + [r for r in d.rows if not r.diverged]
    shown = sorted(rows[:timeline_rows], key=lambda r: r.turn)
    t = Table(
        title=f"Two timelines ({len(shown)} of {len(d.rows)} turns with events; "
        "diverging turns first)",
        title_justify="left",
        expand=True,
        show_lines=True,
    )
    t.add_column("when", no_wrap=True)
    t.add_column("your crisis", ratio=2)
    t.add_column("the record", ratio=3)
    for r in shown:
        record = "\n".join(
            x.text + (f"\n  [{'; '.join(x.sources)}]" if x.sources else "") for x in r.history
        )
        ours = Text("\n".join(x.text for x in r.game))
        if r.diverged:
            ours.append(("\n" if r.game else "") + f"diverged: {r.cause}", style="yellow")
        t.add_row(d.when(r.label), ours, Text(record))
    c.print(t)
    for i, e in enumerate(d.essays, start=1):
        c.rule(f"Essay {i}")
        c.print(f'[bold]{e.question}[/bold] (after "{e.quote}", {e.locator})', highlight=False)
        c.print("[bold]From your crisis[/bold]")
        for g in e.game:
            c.print(f"  • {g}", highlight=False)
        c.print("[bold]From the sources[/bold]")
        for s in e.sources:
            c.print(
                f'  • {s.text} [dim]\\[{s.source}, {s.locator}, "{s.anchor}"][/dim]',
                highlight=False,
            )


def alternative_words(x: Decision) -> str:
    """'the record's choice' or 'the stand-in's choice', for a decision's alternative."""
    return (
        "the record's choice"
        if x.alternative_from == "record"
        else "the stand-in's choice (the record is silent here)"
    )


def points(e: Effect) -> str:
    """An effect in percentage points with its interval: '+1.2 pts [-0.3, +2.7]'."""
    return f"{e.p * 100:+.1f} pts [{e.low * 100:+.1f}, {e.high * 100:+.1f}]"


def _odds(d: Debrief, c: Console) -> None:
    labels = dict(d.outcomes)
    c.print(
        f"[bold]The odds[/bold]: {d.runs} simulated crises per estimate, stand-in "
        f"'{d.stand_in}' in your seat after each decision; shares with 95% Wilson "
        "intervals. The effect of a choice compares the same simulated crises (same "
        "random streams) after your choice and after the alternative; its interval "
        "is Newcombe's for paired proportions.",
        highlight=False,
    )
    if d.start_odds:
        c.print(
            "  at the start: "
            + ", ".join(
                f"{labels[o]} {d.start_odds.p(o):.0%}"
                for o, _ in d.outcomes
                if d.start_odds.counts.get(o)
            ),
            highlight=False,
        )
    if not d.decisions:
        c.print(
            "  No decisions to weigh: every turn you followed the record or chose what "
            "following would have chosen."
        )
        return
    for x in d.decisions:
        who = d.names.get(x.actor, x.actor)
        t = Table(
            title=f"{d.when(x.label)}: {who} chose {x.choice_label}; "
            f"{alternative_words(x)} was {x.alternative_label}",
            title_justify="left",
        )
        t.add_column("outcome")
        t.add_column("before", justify="right")
        t.add_column("after your choice", justify="right")
        t.add_column(f"after {x.alternative_label}", justify="right")
        t.add_column("effect of your choice", justify="right")
        for oid, label in d.outcomes:
            if not (
                x.before.counts.get(oid)
                or x.after.counts.get(oid)
                or x.alternative_after.counts.get(oid)
            ):
                continue
            e = x.effect[oid]
            t.add_row(
                label,
                _share(x.before, oid),
                _share(x.after, oid),
                _share(x.alternative_after, oid),
                Text(points(e), style="bold" if e.low > 0 or e.high < 0 else ""),
            )
        c.print(t)


def _share(o: Odds, oid: str) -> str:
    lo, hi = o.interval(oid)
    return f"{o.p(oid):.1%} [{lo:.1%}-{hi:.1%}]"
