"""The replay as a sourced chronicle: one rendering, written out for a terminal, as
Markdown or as a self-contained HTML page.

:func:`chronicle` turns a :class:`~crisislab.replay.Replay` into days and rows of plain
text: each day once, with its weekday; each row with who acted, what happened, what it
changed (in the scenario's words) and its sources. The writers below only lay that text
out, so the three formats cannot say different things. Text from the scenario is never
read as markup: the terminal writer builds :class:`rich.text.Text` objects, the HTML
writer escapes everything.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from itertools import groupby

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from crisislab.replay import Replay, ReplayEntry, SourceInfo
from crisislab.scenario.display import long_date
from crisislab.scenario.schema import Citation


@dataclass(frozen=True)
class SourceRef:
    """One citation as a reader sees it: the document's short name, where, which words."""

    source: str  # the id, to link to the list of documents
    name: str
    locator: str
    anchor: str | None
    url: str | None

    @property
    def text(self) -> str:
        anchor = f": “{self.anchor}”" if self.anchor else ""
        return f"{self.name}, {self.locator}{anchor}"


@dataclass(frozen=True)
class Row:
    time: str  # "morning", "evening", "" (a whole day or a week)
    who: str
    what: str
    changes: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    emphasis: bool = False  # the outcome


@dataclass
class Day:
    heading: str
    rows: list[Row] = field(default_factory=list)
    date: str = ""  # the day's ISO date (the first day of a week), for links to it


@dataclass
class Section:
    title: str
    days: list[Day] = field(default_factory=list)


@dataclass
class Chronicle:
    title: str
    intro: str
    sections: list[Section]
    closing: str | None
    documents: list[SourceInfo]
    list_sources: bool


def chronicle(replay: Replay, detail: bool = False, list_sources: bool = False) -> Chronicle:
    """The replay as days and rows of plain text, the one rendering every format uses."""
    sources = {s.id: s for s in replay.sources}
    phases = {p.id: p for p in replay.phases}
    sections: list[Section] = []
    cited: dict[str, None] = {}
    steps = {
        p.id: {"week": "weeks", "day": "days", "half-day": "half-days"}[p.step]
        for p in replay.phases
    }
    from crisislab.replay import chapters

    chapter = chapters([(p.id, p.step) for p in replay.phases])
    routine = _routine_summaries(replay.entries, sources, steps, chapter) if not detail else {}

    def refs(cites: tuple[Citation, ...]) -> tuple[SourceRef, ...]:
        out = []
        for c in cites:
            s = sources.get(c.source)
            cited.setdefault(c.source)
            out.append(
                SourceRef(
                    c.source, s.short if s else c.source, c.locator, c.anchor, s.url if s else None
                )
            )
        return tuple(out)

    def section_of(e: ReplayEntry) -> str:
        if e.phase is None:
            return (
                "Before the crisis"
                if e.date < (replay.phases[0].start if replay.phases else "")
                else "Afterwards"
            )
        # the run-up's phases of daily and weekly turns read as one section
        first = chapter.get(e.phase, e.phase)
        return phases[first].label if first in phases else e.phase

    shown: dict[tuple[str | None, str, str], tuple[Day, int]] = {}
    for title, items in groupby(replay.entries, key=section_of):
        section = Section(title)
        for date, grouped in groupby(items, key=lambda e: e.date):
            day_items = list(grouped)
            dated = any(e.dated for e in day_items)
            heading = long_date(date) if dated else f"Week of {long_date(date)}"
            day = Day(heading, date=date)
            for e in day_items:
                if e.routine and not detail:
                    repeat = routine.get(id(e))
                    standing = shown.get((chapter.get(e.phase or "", e.phase), e.kind, e.id))
                    if repeat is not None and standing is not None:
                        day_of, i = standing
                        day_of.rows[i] = repeat.extend(day_of.rows[i])
                    elif repeat is not None:
                        day.rows.append(repeat.row())
                    continue
                day.rows.append(_row(e, detail, refs(e.record_citations)))
                shown[(chapter.get(e.phase or "", e.phase), e.kind, e.id)] = (
                    day,
                    len(day.rows) - 1,
                )
            if day.rows:
                section.days.append(day)
        if section.days:
            sections.append(section)
    if replay.epilogue:
        section = Section("Afterwards")
        for date, told in groupby(replay.epilogue, key=lambda e: e.date):
            section.days.append(
                Day(
                    long_date(date), [_row(e, detail, refs(e.record_citations)) for e in told], date
                )
            )
        sections.append(section)
    for repeat in routine.values():
        for ref in repeat.sources:
            cited.setdefault(ref.source)
    ended = any(e.kind == "outcome" for e in replay.entries)
    closing = (
        f"The crisis ends on {long_date(replay.end_date)}: {replay.outcome_label}."
        if ended
        else None
    )
    intro = "every step shown" if detail else "--detail shows every step"
    return Chronicle(
        title=replay.title,
        intro=intro,
        sections=sections,
        closing=closing,
        documents=[sources[s] for s in cited if s in sources],
        list_sources=list_sources,
    )


def _row(e: ReplayEntry, detail: bool, sources: tuple[SourceRef, ...]) -> Row:
    time = {"am": "morning", "pm": "evening"}.get(e.half or "", "")
    changes = tuple(
        c.text for c in e.changes if (detail or c.chronicle) and c.before_text != c.after_text
    )
    if e.kind == "outcome":
        return Row(time, "", f"The crisis ends: {e.summary}", changes, sources, emphasis=True)
    return Row(time, e.who, e.summary, changes, sources)


@dataclass(frozen=True)
class _Repeat:
    """A mechanic that recurs within a phase, summed up once: how often, over which days,
    and the net change of the variables a chronicle shows."""

    who: str
    title: str
    count: int
    unit: str  # weeks, days, half-days
    days: str
    changes: tuple[str, ...]
    sources: tuple[SourceRef, ...]

    def row(self) -> Row:
        return Row(
            "",
            self.who,
            f"{self.title} ({self.count} {self.unit}, {self.days})",
            self.changes,
            self.sources,
        )

    def extend(self, row: Row) -> Row:
        """A documented row that went on as a standing choice: say for how long, once,
        with the change over the whole stretch."""
        merged: dict[str, tuple[str, str]] = {}
        for text in row.changes + self.changes:
            label, _, values = text.rpartition(": ")
            before, _, after = values.partition(" → ")
            merged[label] = (merged.get(label, (before, after))[0], after)
        changes = tuple(f"{label}: {b} → {a}" for label, (b, a) in merged.items() if b != a)
        return Row(
            row.time,
            row.who,
            f"{row.what} Kept up {self.count} more {self.unit}, {self.days}.",
            changes,
            row.sources,
        )


def _routine_summaries(
    entries: tuple[ReplayEntry, ...],
    sources: dict[str, SourceInfo],
    steps: dict[str, str],
    chapter: dict[str, str],
) -> dict[int, _Repeat]:
    """One summary per recurring mechanic and chapter (see :func:`replay.chapters`),
    keyed by its first occurrence."""
    groups: dict[tuple[str | None, str, str], list[ReplayEntry]] = {}
    for e in entries:
        if e.routine:
            groups.setdefault((chapter.get(e.phase or "", e.phase), e.kind, e.id), []).append(e)
    out: dict[int, _Repeat] = {}
    for items in groups.values():
        first, last = items[0], items[-1]
        net: dict[str, tuple[str, str, str]] = {}
        for e in items:
            for c in e.changes:
                if c.chronicle:
                    label, before, _ = net.get(c.variable, (c.label, c.before_text, ""))
                    net[c.variable] = (label, before, c.after_text)
        changes = tuple(f"{label}: {b} → {a}" for label, b, a in net.values() if b != a)
        days = (
            _short_date(first.date)
            if first.date == last.date
            else f"{_short_date(first.date)} to {_short_date(last.date)}"
        )
        refs = tuple(
            SourceRef(
                c.source,
                sources[c.source].short if c.source in sources else c.source,
                c.locator,
                c.anchor,
                sources[c.source].url if c.source in sources else None,
            )
            for c in first.record_citations
        )
        count, unit = len(items), steps.get(first.phase or "", "turns")
        if len({e.phase for e in items}) > 1:  # turns of different lengths: count days
            span = dt.date.fromisoformat(last.date) - dt.date.fromisoformat(first.date)
            count, unit = span.days + 1, "days"
        out[id(first)] = _Repeat(
            first.who, first.title or first.summary, count, unit, days, changes, refs
        )
    return out


def _short_date(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d:%B}"


def sources_text(refs: tuple[SourceRef, ...]) -> str:
    """Citations on one line, naming a document once for consecutive places in it."""
    parts: list[str] = []
    previous = None
    for r in refs:
        where = r.locator + (f": “{r.anchor}”" if r.anchor else "")
        parts.append(where if r.source == previous else f"{r.name}, {where}")
        previous = r.source
    return "; ".join(parts)


# ---- the terminal ------------------------------------------------------------------


def render_text(
    replay: Replay, console: Console, detail: bool = False, list_sources: bool = False
) -> None:
    """Write the chronicle to a rich console: day headings, then rows with a hanging
    indent; nothing from the scenario is read as markup."""
    ch = chronicle(replay, detail=detail, list_sources=list_sources)
    console.print(
        Text.assemble(
            (ch.title, "bold"), (f" ({replay.scenario} {replay.version}; {ch.intro})", "dim")
        )
    )
    for i, section in enumerate(ch.sections):
        if i:
            console.print()
        console.print(Text(section.title, style="bold underline"))
        for day in section.days:
            console.print(Text(day.heading, style="bold"))
            for row in day.rows:
                lead = Text.assemble(
                    (row.time + " ", "dim") if row.time else "",
                    (row.who, "bold"),
                    ": " if row.who else "",
                )
                lead.append(row.what, style="bold" if row.emphasis else "")
                console.print(Padding(lead, (0, 0, 0, 2)))
                if row.changes:
                    console.print(Padding(Text("; ".join(row.changes), style="cyan"), (0, 0, 0, 4)))
                console.print(
                    Padding(Text("Source: " + sources_text(row.sources), style="dim"), (0, 0, 0, 4))
                )
    if ch.closing:
        console.print()
        console.print(Text(ch.closing, style="bold"))
    if ch.list_sources:
        console.print()
        console.print(Text("Sources cited", style="bold underline"))
        for s in ch.documents:
            console.print(Text(f"- {s.title}" + (f" <{s.url}>" if s.url else "")))


# ---- Markdown ----------------------------------------------------------------------


def _md(text: str) -> str:
    """Keep scenario text literal in Markdown (no accidental emphasis or links)."""
    for ch in "\\`*_[]<>":
        text = text.replace(ch, "\\" + ch)
    return text


def render_markdown(replay: Replay, detail: bool = False, list_sources: bool = False) -> str:
    ch = chronicle(replay, detail=detail, list_sources=list_sources)
    lines = [
        f"# {_md(ch.title)}",
        "",
        f"Replay of {_md(replay.scenario)} version {replay.version} (content hash "
        f"{replay.content_hash[:12]}), seed {replay.seed}; {_md(ch.intro)}.",
        "",
    ]
    for section in ch.sections:
        lines += [f"## {_md(section.title)}", ""]
        for day in section.days:
            lines += [f"### {day.heading}", ""]
            for row in day.rows:
                lead = " · ".join(x for x in (row.time, _md(row.who)) if x)
                what = f"**{_md(row.what)}**" if row.emphasis else _md(row.what)
                lines.append(f"- **{lead}**: {what}" if lead else f"- {what}")
                if row.changes:
                    lines.append(f"  - Changed: {_md('; '.join(row.changes))}")
                refs = "; ".join(
                    f"[{_md(s.name)}]({s.url}), {_md(s.locator)}"
                    + (f": “{_md(s.anchor)}”" if s.anchor else "")
                    if s.url
                    else _md(s.text)
                    for s in row.sources
                )
                lines.append(f"  - Sources: {refs}")
            lines.append("")
    if ch.closing:
        lines += ["## Outcome", "", _md(ch.closing), ""]
    if ch.list_sources:
        lines += ["## Sources cited", ""]
        lines += [f"- {_md(s.title)}" + (f" <{s.url}>" if s.url else "") for s in ch.documents]
        lines.append("")
    return "\n".join(lines)


# ---- HTML --------------------------------------------------------------------------

_CSS = """
body{font-family:Georgia,serif;max-width:46em;margin:2em auto;padding:0 1em;
line-height:1.45;color:#111}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #999;margin-top:2em}
h3{font-size:1.05em;margin:1.2em 0 .3em}ul.rows{list-style:none;padding-left:0}
ul.rows li{margin:.4em 0 .7em}.who{font-weight:bold}.time{color:#555}
.changes{color:#035}.sources{color:#444;font-size:.9em}.outcome{font-weight:bold}
.intro{color:#444}a{color:#035}sup a{text-decoration:none}
@media print{body{max-width:none;margin:0}a{color:#000;text-decoration:none}
h2,h3{page-break-after:avoid}li{page-break-inside:avoid}}
"""


def render_html(replay: Replay, detail: bool = False) -> str:
    """A self-contained, printable page; each citation links to its document in the list
    of sources at the end (and from there to the document itself where it is public)."""
    ch = chronicle(replay, detail=detail, list_sources=True)
    number = {s.id: i + 1 for i, s in enumerate(ch.documents)}
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(ch.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(ch.title)}</h1>",
        f'<p class="intro">Replay of {e(replay.scenario)} version {e(replay.version)}, '
        f"seed {replay.seed}; {e(ch.intro)}.</p>",
    ]
    for section in ch.sections:
        out.append(f"<h2>{e(section.title)}</h2>")
        for day in section.days:
            out.append(f"<h3>{e(day.heading)}</h3>")
            out.append('<ul class="rows">')
            for row in day.rows:
                lead = ""
                if row.time:
                    lead += f'<span class="time">{e(row.time)}</span> '
                if row.who:
                    lead += f'<span class="who">{e(row.who)}</span>: '
                cls = ' class="outcome"' if row.emphasis else ""
                item = f"<li><span{cls}>{lead}{e(row.what)}</span>"
                if row.changes:
                    item += f'<br><span class="changes">{e("; ".join(row.changes))}</span>'
                refs = "; ".join(
                    f'{e(s.text)}<sup><a href="#source-{number.get(s.source, 0)}">'
                    f"[{number.get(s.source, 0)}]</a></sup>"
                    for s in row.sources
                )
                item += f'<br><span class="sources">Sources: {refs}</span></li>'
                out.append(item)
            out.append("</ul>")
    if ch.closing:
        out.append(f'<h2>Outcome</h2><p class="outcome">{e(ch.closing)}</p>')
    out.append("<h2>Sources</h2><ol>")
    for s in ch.documents:
        title = (
            f'<a href="{e(s.url, quote=True)}">{e(s.title)}</a>'
            if s.url
            else e(s.title) + " (a document supplied with the scenario)"
        )
        out.append(f'<li id="source-{number[s.id]}">{title}</li>')
    out += ["</ol>", "</body></html>", ""]
    return "\n".join(out)


def cite_text(c: Citation) -> str:
    """A citation on one line (kept for callers that print a bare citation)."""
    anchor = f' "{c.anchor}"' if c.anchor else ""
    return f"[{c.source}, {c.locator}{anchor}]"
