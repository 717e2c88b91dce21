"""Check a scenario's citations against its seed documents.

Every citation of a scenario names a source, a locator in it (a card of the revision
notes, a section heading of the memorandum) and a short anchor phrase. For each seed
source this module finds the anchor in the document, tolerating what scanned and copied
text does to words: OCR noise ("tbe" for "the"), hyphenation broken across lines
("diplo-\\nmatic"), line breaks, odd punctuation and case. It then checks that the anchor
lies in the passage the locator names.

Both the document and the anchor are *normalised* the same way: words split by a hyphen
at a line end are joined, letters are lower-cased and stripped of accents, every other
character becomes a space, and runs of spaces collapse to one. The normalised document
keeps, for each of its characters, the offset of the original character, so a match is
reported with its line in the file as a person would open it.

An anchor is first looked for as an exact run of whole words, then fuzzily (rapidfuzz's
``partial_ratio``, a sliding window of the anchor's length) with a score of at least the
threshold; always in the located span first, and in the whole document only to explain a
failure (``outside_locator``) or to point at the nearest passage (``not_found``).

Scanned pages interleave columns, so a few lines of a memorandum's section can sit just
before its heading; a section (not a card) therefore also accepts an anchor within
:data:`SECTION_SLACK_LINES` lines of its bounds, and says so in the check's message.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from rapidfuzz import fuzz
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crisislab.scenario.schema import Citation, ScenarioSpec, Source

Status = Literal[
    "resolved",
    "not_found",
    "outside_locator",
    "unknown_locator",
    "missing_file",
    "unknown_source",
    "reference",
]

DEFAULT_THRESHOLD = 85.0
SECTION_MATCH_THRESHOLD = 80.0  # how closely a locator must match a section heading
SECTION_SLACK_LINES = 40  # OCR column fragments displaced around a section's bounds
EXCERPT_WORDS = 12
SUMMARY_LOCATORS = frozenset({"summary", "cover", "cover summary", "cover and summary"})

# A word broken at a line end: a letter, a hyphen (or soft hyphen, or "¬"), spaces, one
# newline, spaces, then a lower-case letter continuing the word.
_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_])[-\u00ad\u2010\u2011\u00ac][ \t]*\n[ \t]*(?=[a-z])")
_CARD_MARKER = re.compile(r"^\s*(\d{1,3})\s+of\s+(\d{1,3})\s*$")
_CARD_LOCATOR = re.compile(
    r"^(?:(cards?)\s*)?(?:no\.?\s*|#\s*)?(\d{1,3})"
    r"(?:\s*(?:-|\u2013|\u2014|to)\s*(\d{1,3}))?"
    r"(?:\s*(?:of|/)\s*(\d{1,3}))?$"
)
_SECTION_PREFIX = re.compile(r"^\s*(?:section|heading|\u00a7)\s*[:.\-]?\s*", re.IGNORECASE)
_HEADING_CHARS = re.compile(r"^[A-Za-z0-9 '\u2019`&\-]+$")


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class AnchorCheck:
    """The verdict on one citation."""

    path: str  # where the citation sits in the scenario, e.g. "actions[3].cite[0]"
    source: str  # source id
    locator: str
    anchor: str | None
    status: Status
    score: float  # 0..100 match score (the best found, even when below the threshold)
    line: int | None  # 1-based line in the document where the best match starts
    excerpt: str | None  # a few words of the document around the match (<= 12 words)
    message: str = ""  # what went wrong and where to look, in a sentence

    @property
    def is_seed(self) -> bool:
        return self.status != "reference"

    @property
    def ok(self) -> bool:
        return self.status in ("resolved", "reference")


@dataclass(frozen=True)
class SourcesReport:
    """Every citation of a scenario with its verdict, in file order."""

    checks: tuple[AnchorCheck, ...]

    @property
    def resolved(self) -> tuple[AnchorCheck, ...]:
        return tuple(c for c in self.checks if c.status == "resolved")

    @property
    def unresolved(self) -> tuple[AnchorCheck, ...]:
        """Seed citations that did not resolve (references are not counted)."""
        return tuple(c for c in self.checks if not c.ok)

    @property
    def references(self) -> tuple[AnchorCheck, ...]:
        """Citations of public references: not checkable offline."""
        return tuple(c for c in self.checks if c.status == "reference")

    @property
    def seed(self) -> tuple[AnchorCheck, ...]:
        return tuple(c for c in self.checks if c.is_seed)

    @property
    def rate(self) -> float:
        """Resolved / seed citations, in [0, 1] (1.0 when there are no seed citations)."""
        total = len(self.seed)
        return len(self.resolved) / total if total else 1.0

    @property
    def ok(self) -> bool:
        return not self.unresolved

    def summary(self) -> str:
        line = (
            f"{len(self.resolved)} of {len(self.seed)} seed citations resolved "
            f"({100.0 * self.rate:.1f}%)"
        )
        if self.references:
            line += f"; {len(self.references)} reference citations not checkable offline"
        return line


# ---------------------------------------------------------------------------------------
# Normalisation


def normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and return, for each normalised character, its original offset.

    Words split by a hyphen and a line break are joined; letters and digits are
    lower-cased and stripped of accents; anything else separates words by one space.
    """
    skips = [(m.start(), m.end()) for m in _HYPHEN_BREAK.finditer(text)]
    out: list[str] = []
    offsets: list[int] = []
    pending_space = False
    gap_at = 0
    skip_index = 0
    i = 0
    n = len(text)
    while i < n:
        if skip_index < len(skips) and i == skips[skip_index][0]:
            i = skips[skip_index][1]
            skip_index += 1
            continue
        ch = text[i]
        if ch.isascii():
            kept = ch.lower() if ch.isalnum() else ""
        else:
            kept = "".join(c.lower() for c in unicodedata.normalize("NFKD", ch) if c.isalnum())
        if kept:
            if pending_space:
                if out:
                    out.append(" ")
                    offsets.append(gap_at)
                pending_space = False
            for c in kept:
                out.append(c)
                offsets.append(i)
        elif not pending_space:
            pending_space = True
            gap_at = i
        i += 1
    return "".join(out), offsets


def normalise(text: str) -> str:
    """The normalised form of ``text``: what the checker compares."""
    return normalise_with_offsets(text)[0]


# ---------------------------------------------------------------------------------------
# Documents


@dataclass(frozen=True)
class Span:
    """A located passage: normalised offsets ``[start, end)`` and its original lines."""

    label: str  # "card 6 of 9", "section 'Background'", "Summary"
    kind: Literal["card", "section", "summary"]
    start: int
    end: int
    first_line: int  # 1-based, inclusive
    last_line: int  # 1-based, inclusive


@dataclass(frozen=True)
class Match:
    start: int  # normalised offsets [start, end)
    end: int
    score: float


@dataclass(eq=False)
class Document:
    """A seed document: its text, normalised text, and the passages locators can name."""

    path: Path
    text: str
    norm: str
    offsets: list[int] = field(repr=False)
    line_starts: list[int] = field(repr=False)
    cards: dict[int, Span] = field(default_factory=dict)
    card_total: int | None = None
    sections: tuple[tuple[str, Span], ...] = ()  # (normalised heading, span)
    summary: Span | None = None
    _located: dict[str, Span | None] = field(default_factory=dict, repr=False)

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    # -- coordinates --------------------------------------------------------------------

    def line_of(self, index: int) -> int:
        """The 1-based line of normalised offset ``index``."""
        if not self.offsets:
            return 1
        index = min(max(index, 0), len(self.offsets) - 1)
        return bisect_right(self.line_starts, self.offsets[index])

    def _norm_at_line(self, line: int) -> int:
        """The normalised offset where 1-based ``line`` begins (clipped to the text)."""
        if line <= 1:
            return 0
        if line > self.line_count:
            return len(self.norm)
        return bisect_left(self.offsets, self.line_starts[line - 1])

    def _span(
        self, label: str, kind: Literal["card", "section", "summary"], first: int, last: int
    ) -> Span:
        return Span(
            label, kind, self._norm_at_line(first), self._norm_at_line(last + 1), first, last
        )

    def widen(self, span: Span, lines: int) -> Span:
        """``span`` grown by ``lines`` lines on both sides."""
        first = max(1, span.first_line - lines)
        last = min(self.line_count, span.last_line + lines)
        return self._span(span.label, span.kind, first, last)

    # -- locators -----------------------------------------------------------------------

    def locate(self, locator: str) -> Span | None:
        """The passage ``locator`` names, or None if it names nothing in this document.

        ``card N of T``, ``N of T``, ``card N``, ``cards N-M``: cards of revision notes
        (each ends with a line ``N of T``). A section heading, matched fuzzily (OCR
        noise, case, a leading "The" and a ``section:`` prefix are tolerated): from the
        heading to the next one. ``Summary``: the text before the first heading.
        """
        key = locator.strip()
        if key not in self._located:
            self._located[key] = self._locate(key)
        return self._located[key]

    def _locate(self, locator: str) -> Span | None:
        lowered = " ".join(locator.lower().split())
        m = _CARD_LOCATOR.match(lowered)
        if m and (m.group(1) or m.group(4)):
            return self._locate_cards(int(m.group(2)), m.group(3), m.group(4))
        wanted = normalise(_SECTION_PREFIX.sub("", locator))
        if not wanted:
            return None
        if wanted in SUMMARY_LOCATORS:
            return self.summary
        best: tuple[float, Span] | None = None
        for heading, span in self.sections:
            score = max(
                fuzz.ratio(wanted, heading),
                fuzz.ratio(_drop_article(wanted), _drop_article(heading)),
            )
            if score >= SECTION_MATCH_THRESHOLD and (best is None or score > best[0]):
                best = (score, span)
        return best[1] if best else None

    def _locate_cards(
        self, first: int, last_text: str | None, total_text: str | None
    ) -> Span | None:
        if not self.cards or self.card_total is None:
            return None
        if total_text is not None and int(total_text) != self.card_total:
            return None
        last = int(last_text) if last_text is not None else first
        if first > last or first not in self.cards or last not in self.cards:
            return None
        a, b = self.cards[first], self.cards[last]
        if first == last:
            return a
        return Span(
            f"cards {first}-{last} of {self.card_total}",
            "card",
            a.start,
            b.end,
            a.first_line,
            b.last_line,
        )

    def where(self, index: int) -> str | None:
        """A label for the passage holding normalised offset ``index``."""
        for span in self.cards.values():
            if span.start <= index < span.end:
                return span.label
        for _, span in self.sections:
            if span.start <= index < span.end:
                return span.label
        if self.summary is not None and self.summary.start <= index < self.summary.end:
            return self.summary.label
        return None

    # -- searching ----------------------------------------------------------------------

    def search(self, anchor: str, threshold: float, span: Span | None = None) -> Match | None:
        """The first exact whole-word occurrence of normalised ``anchor`` in ``span`` (the
        whole document if None), else the best fuzzy one scoring at least ``threshold``."""
        start, end = (span.start, span.end) if span else (0, len(self.norm))
        hay = self.norm[start:end]
        found = f" {hay} ".find(f" {anchor} ")
        if found >= 0:
            return Match(start + found, start + found + len(anchor), 100.0)
        if not hay:
            return None
        aligned = fuzz.partial_ratio_alignment(anchor, hay, score_cutoff=threshold)
        if aligned is None or aligned.score < threshold:
            return None
        return self._trimmed(start + aligned.dest_start, start + aligned.dest_end, aligned.score)

    def best(self, anchor: str) -> Match | None:
        """The best fuzzy match of ``anchor`` anywhere, however poor."""
        if not self.norm:
            return None
        aligned = fuzz.partial_ratio_alignment(anchor, self.norm)
        if aligned is None:
            return None
        return self._trimmed(aligned.dest_start, aligned.dest_end, aligned.score)

    def _trimmed(self, start: int, end: int, score: float) -> Match:
        while start < end and self.norm[start] == " ":
            start += 1
        while end > start and self.norm[end - 1] == " ":
            end -= 1
        return Match(start, max(end, start + 1), float(score))

    def excerpt(self, match: Match, words: int = EXCERPT_WORDS) -> tuple[int, str]:
        """The 1-based line where ``match`` starts, and a few words around it."""
        o_start = self.offsets[min(match.start, len(self.offsets) - 1)]
        o_end = self.offsets[min(match.end, len(self.offsets)) - 1] + 1
        while o_start > 0 and not self.text[o_start - 1].isspace():
            o_start -= 1
        while o_end < len(self.text) and not self.text[o_end].isspace():
            o_end += 1
        line = bisect_right(self.line_starts, o_start)
        core = self.text[o_start:o_end].split()
        if len(core) > words:
            core = core[:words]
            core[-1] += "\u2026"
        room = words - len(core)
        before_n = min(2, room // 2 + room % 2)
        before = self.text[max(0, o_start - 120) : o_start].split()[-before_n:] if before_n else []
        after_n = min(2, words - len(core) - len(before))
        after = self.text[o_end : o_end + 120].split()[:after_n] if after_n > 0 else []
        return line, " ".join([*before, *core, *after])


def _drop_article(text: str) -> str:
    return text[4:] if text.startswith("the ") else text


def _build_document(path: Path, text: str) -> Document:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    norm, offsets = normalise_with_offsets(text)
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # a final newline ends the last line; it does not start another
    line_starts: list[int] = []
    pos = 0
    for raw in lines:
        line_starts.append(pos)
        pos += len(raw) + 1
    doc = Document(path=path, text=text, norm=norm, offsets=offsets, line_starts=line_starts)

    # Cards: each ends with a line "N of T"; card 1 starts at the top.
    markers: dict[int, dict[int, int]] = {}
    for number, raw in enumerate(lines, start=1):
        m = _CARD_MARKER.match(raw)
        if m:
            markers.setdefault(int(m.group(2)), {}).setdefault(int(m.group(1)), number)
    if markers:
        total = max(markers, key=lambda t: len(markers[t]))
        ends = markers[total]
        doc.card_total = total
        for n in range(1, total + 1):
            if n not in ends or (n > 1 and n - 1 not in ends):
                continue
            first = 1 if n == 1 else ends[n - 1] + 1
            if first <= ends[n]:
                doc.cards[n] = doc._span(f"card {n} of {total}", "card", first, ends[n])

    # Section headings: a short stand-alone line of words, followed by a paragraph.
    headings: list[tuple[int, str]] = []
    for i, raw in enumerate(lines):
        if _is_heading(lines, i):
            headings.append((i + 1, raw.strip()))
    sections: list[tuple[str, Span]] = []
    for k, (number, heading) in enumerate(headings):
        last = headings[k + 1][0] - 1 if k + 1 < len(headings) else len(lines)
        sections.append(
            (normalise(heading), doc._span(f"section '{heading}'", "section", number, last))
        )
    doc.sections = tuple(sections)
    if headings and headings[0][0] > 1:
        doc.summary = doc._span("Summary", "summary", 1, headings[0][0] - 1)
    return doc


def _is_heading(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if not line or not line[0].isupper() or not _HEADING_CHARS.match(line):
        return False
    words = line.split()
    if not 1 <= len(words) <= 7 or not any(sum(c.isalpha() for c in w) >= 4 for w in words):
        return False
    if _CARD_MARKER.match(line):
        return False
    if i > 0 and lines[i - 1].strip():
        return False
    if i + 1 < len(lines) and lines[i + 1].strip():
        return False
    # The next block of text must be a paragraph, not a caption or a stray fragment.
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    block: list[str] = []
    while j < len(lines) and lines[j].strip():
        block.append(lines[j].strip())
        j += 1
    return len(" ".join(block)) >= 60


_CACHE: dict[Path, tuple[tuple[int, int], Document]] = {}


def load_document(path: Path) -> Document:
    """Read and index a seed document (cached until the file changes)."""
    path = Path(path).resolve()
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    doc = _build_document(path, path.read_text(encoding="utf-8", errors="replace"))
    _CACHE[path] = (stamp, doc)
    return doc


# ---------------------------------------------------------------------------------------
# Walking a scenario


def iter_citations(spec: BaseModel) -> Iterator[tuple[str, Citation]]:
    """Every citation of a scenario with its path, e.g. ``("actions[3].cite[0]", c)``,
    in file order. Walks the models generically, so any field that holds citations
    (``cite`` everywhere in the format) is found."""
    yield from _walk(spec, "")


def _walk(value: object, path: str) -> Iterator[tuple[str, Citation]]:
    if isinstance(value, Citation):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}[{key}]")


# ---------------------------------------------------------------------------------------
# Checking


def check_sources(
    spec: ScenarioSpec, sources_dir: Path, threshold: float = DEFAULT_THRESHOLD
) -> SourcesReport:
    """Check every citation of ``spec`` against the seed documents in ``sources_dir``."""
    sources = {source.id: source for source in spec.sources}
    documents: dict[str, Document | None] = {}
    done: dict[tuple[str, str, str | None], AnchorCheck] = {}
    checks: list[AnchorCheck] = []
    for path, cite in iter_citations(spec):
        key = (cite.source, cite.locator, cite.anchor)
        if key in done:
            checks.append(replace(done[key], path=path))
            continue
        check = _check_citation(
            path, cite, sources.get(cite.source), Path(sources_dir), documents, threshold
        )
        done[key] = check
        checks.append(check)
    return SourcesReport(tuple(checks))


def _check_citation(
    path: str,
    cite: Citation,
    source: Source | None,
    sources_dir: Path,
    documents: dict[str, Document | None],
    threshold: float,
) -> AnchorCheck:
    def verdict(
        status: Status, message: str, match: Match | None = None, doc: Document | None = None
    ) -> AnchorCheck:
        line: int | None = None
        excerpt: str | None = None
        score = 0.0
        if match is not None and doc is not None:
            line, excerpt = doc.excerpt(match)
            score = match.score
        return AnchorCheck(
            path, cite.source, cite.locator, cite.anchor, status, score, line, excerpt, message
        )

    if source is None:
        return verdict("unknown_source", f"source '{cite.source}' is not declared under `sources`")
    if source.kind == "reference":
        return verdict("reference", f"public reference ({source.url}): not checkable offline")
    file_name = source.file or ""
    if source.id not in documents:
        file_path = sources_dir / file_name
        documents[source.id] = load_document(file_path) if file_path.is_file() else None
    doc = documents[source.id]
    if doc is None:
        return verdict(
            "missing_file",
            f"seed file '{file_name}' of source '{source.id}' is not in "
            f"{sources_dir}; pass the folder that holds it with --sources",
        )
    if cite.anchor is None:
        return verdict(
            "not_found",
            "a seed citation needs an anchor phrase to check; add "
            "a few words that occur in the passage",
        )
    anchor = normalise(cite.anchor)
    if not anchor:
        return verdict("not_found", "the anchor has no letters or digits to look for")

    span = doc.locate(cite.locator)
    if span is None:
        found = doc.search(anchor, threshold)
        message = f"locator '{cite.locator}' names no {_locator_hint(doc)} of {file_name}"
        if found is not None:
            place = doc.where(found.start)
            message += f"; the anchor occurs at line {doc.line_of(found.start)}" + (
                f", in {place}" if place else ""
            )
        return verdict("unknown_locator", message, found, doc)

    found = doc.search(anchor, threshold, span)
    if found is not None:
        return verdict("resolved", "", found, doc)
    if span.kind != "card":
        found = doc.search(anchor, threshold, doc.widen(span, SECTION_SLACK_LINES))
        if found is not None:
            return verdict(
                "resolved",
                f"found at line {doc.line_of(found.start)}, just outside {span.label} "
                f"(lines {span.first_line}-{span.last_line}): tolerated as OCR page layout",
                found,
                doc,
            )
    found = doc.search(anchor, threshold)
    if found is not None:
        place = doc.where(found.start) or "another part of the document"
        return verdict(
            "outside_locator",
            f"anchor found at line {doc.line_of(found.start)}, in {place}, not in "
            f"{span.label} (lines {span.first_line}-{span.last_line}); fix the locator",
            found,
            doc,
        )
    near = doc.best(anchor)
    message = f"anchor not found in {file_name} (threshold {threshold:.0f})"
    if near is not None:
        message += f"; nearest passage scores {near.score:.0f}, at line {doc.line_of(near.start)}"
    return verdict("not_found", message, near, doc)


def _locator_hint(doc: Document) -> str:
    kinds = []
    if doc.cards:
        kinds.append(f"card (1-{doc.card_total} of {doc.card_total})")
    if doc.sections:
        kinds.append("section heading")
    return " or ".join(kinds) if kinds else "card or section"


# ---------------------------------------------------------------------------------------
# Rendering

_STATUS_STYLE: dict[str, str] = {
    "resolved": "green",
    "reference": "cyan",
    "outside_locator": "yellow",
    "not_found": "red",
    "unknown_locator": "red",
    "missing_file": "red",
    "unknown_source": "red",
}


def render_report(report: SourcesReport, console: Console, verbose: bool = False) -> None:
    """Print a table of the problems (every citation if ``verbose``) and a summary line
    ``N of M seed citations resolved (P%)``."""
    rows = report.checks if verbose else report.unresolved
    if rows:
        table = Table(show_lines=False, header_style="bold")
        for column in ("citation", "source", "locator", "anchor", "status"):
            table.add_column(column, overflow="fold")
        table.add_column("score", justify="right")
        table.add_column("line", justify="right")
        table.add_column("detail", overflow="fold")
        for check in rows:
            detail = check.message
            if check.excerpt:
                detail = (
                    f"{detail}\n\u201c{check.excerpt}\u201d"
                    if detail
                    else (f"\u201c{check.excerpt}\u201d")
                )
            table.add_row(
                Text(check.path),
                Text(check.source),
                Text(check.locator),
                Text(check.anchor or "-"),
                Text(check.status, style=_STATUS_STYLE.get(check.status, "")),
                Text(f"{check.score:.0f}" if check.status != "reference" else "-"),
                Text(str(check.line) if check.line is not None else "-"),
                Text(detail),
            )
        console.print(table)
    style = "green" if report.ok else "red"
    console.print(Text(report.summary(), style=style))
