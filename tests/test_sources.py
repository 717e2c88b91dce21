"""Tests of the citation checker (crisislab.sources) on the real seeds and on small
synthetic documents."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from crisislab.scenario.schema import ScenarioSpec
from crisislab.sources import (
    SECTION_SLACK_LINES,
    AnchorCheck,
    SourcesReport,
    check_sources,
    iter_citations,
    load_document,
    normalise,
    normalise_with_offsets,
    render_report,
)

SEEDS = Path(
    os.environ.get("CRISISLAB_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)
NOTES_FILE = "000_7848656221f3c232.txt"
MEMO_FILE = "004_8bd18f1ff76f17bd.txt"

needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS} (set CRISISLAB_SEEDS)"
)

REF = {"source": "ref_hist", "locator": "section: Timeline"}

SOURCES: list[dict[str, Any]] = [
    {"id": "notes", "title": "Revision notes", "kind": "seed", "file": NOTES_FILE},
    {"id": "memo", "title": "CIA memorandum", "kind": "seed", "file": MEMO_FILE},
    {"id": "lost", "title": "A file nobody has", "kind": "seed", "file": "no_such_file.txt"},
    {
        "id": "ref_hist",
        "title": "A public history",
        "kind": "reference",
        "url": "https://example.org/history",
    },
]


def make_spec(
    cites: list[dict[str, Any]], sources: list[dict[str, Any]] | None = None, **extra: Any
) -> ScenarioSpec:
    """A minimal valid scenario with one action per citation in ``cites`` (so the i-th
    citation sits at ``actions[i].cite[0]``); actor and outcome cite a reference."""
    actions = [
        {"id": f"act_{i}", "actor": "usa", "label": "Act", "summary": "Acts.", "cite": [c]}
        for i, c in enumerate(cites)
    ] or [{"id": "act_0", "actor": "usa", "label": "Act", "summary": "Acts.", "cite": [REF]}]
    data: dict[str, Any] = {
        "format_version": 2,
        "scenario": {
            "id": "test",
            "version": "0.1.0",
            "title": "Test",
            "summary": "A test.",
            "period": {"start": "1962-10-16", "end": "1962-10-28"},
        },
        "clock": {
            "phases": [
                {
                    "id": "days",
                    "label": "Days",
                    "start": "1962-10-16",
                    "end": "1962-10-28",
                    "step": "day",
                }
            ]
        },
        "sources": sources if sources is not None else SOURCES,
        "actors": [
            {
                "id": "usa",
                "name": "United States",
                "role": "passive",
                "description": "The US.",
                "cite": [REF],
            }
        ],
        "escalation": [
            {"level": 0, "id": "calm", "label": "Calm"},
            {"level": 1, "id": "crisis", "label": "Crisis"},
        ],
        "variables": [
            {
                "id": "flag",
                "description": "A flag.",
                "type": "bool",
                "initial": False,
                "assumption": "Nothing.",
            }
        ],
        "actions": actions,
        "outcomes": [
            {
                "id": "end",
                "label": "End",
                "summary": "Ends.",
                "payoffs": {"usa": 0},
                "default": True,
                "tags": [],
                "cite": [REF],
            }
        ],
    }
    data.update(extra)
    return ScenarioSpec.model_validate(data)


def check_one(
    source: str,
    locator: str,
    anchor: str | None,
    sources_dir: Path = SEEDS,
    threshold: float = 85.0,
) -> AnchorCheck:
    cite: dict[str, Any] = {"source": source, "locator": locator}
    if anchor is not None:
        cite["anchor"] = anchor
    report = check_sources(make_spec([cite]), sources_dir, threshold=threshold)
    (check,) = [c for c in report.checks if c.path == "actions[0].cite[0]"]
    return check


# ---------------------------------------------------------------------------------------
# Walking a scenario


def test_iter_citations_walks_every_cite_field_in_order() -> None:
    spec = make_spec(
        [REF, REF],
        parameters=[
            {
                "id": "p",
                "description": "A number.",
                "value": 0.5,
                "range": [0, 1],
                "cite": [REF, {"source": "notes", "locator": "card 1 of 9", "anchor": "Castro"}],
            }
        ],
        variables=[
            {
                "id": "flag",
                "description": "A flag.",
                "type": "bool",
                "initial": False,
                "cite": [REF],
            }
        ],
        history=[
            {
                "date": "1962-10-22",
                "actor": "usa",
                "action": "act_0",
                "summary": "Quarantine.",
                "cite": [REF],
            }
        ],
    )
    paths = [path for path, _ in iter_citations(spec)]
    assert paths == [
        "actors[0].cite[0]",
        "variables[0].cite[0]",
        "parameters[0].cite[0]",
        "parameters[0].cite[1]",
        "actions[0].cite[0]",
        "actions[1].cite[0]",
        "outcomes[0].cite[0]",
        "history[0].cite[0]",
    ]
    citations = dict(iter_citations(spec))
    assert citations["parameters[0].cite[1]"].anchor == "Castro"


# ---------------------------------------------------------------------------------------
# The real seeds

# fmt: off
SEED_CASES = [
    # (id, source, locator, anchor, status, line, exact)
    ("notes exact", "notes", "card 6 of 9", "Kennedy assembles ExComm", "resolved", 58, True),
    ("notes short locator", "notes", "6 of 9", "the other fellow just blinked", "resolved",
     58, True),
    ("notes card 1 from the top", "notes", "card 1 of 9", "Batista's dictoral regime collapses",
     "resolved", 6, True),
    ("notes case and punctuation", "notes", "card 7 of 9",
     "ON 28TH OCTOBER -- Khrushchev agrees!", "resolved", 64, True),
    ("notes last card", "notes", "card 9 of 9", "absolute proof", "resolved", 81, True),
    ("notes wrong card", "notes", "card 2 of 9", "Kennedy assembles ExComm", "outside_locator",
     58, True),
    ("notes card out of range", "notes", "card 12 of 9", "Kennedy assembles ExComm",
     "unknown_locator", 58, True),
    ("notes wrong card total", "notes", "card 6 of 10", "Kennedy assembles ExComm",
     "unknown_locator", 58, True),
    ("memo hyphen break", "memo", "Summary", "diplomatic showdown on the Berlin", "resolved",
     97, True),
    ("memo OCR noise in summary", "memo", "Summary", "compelling need of a dramatic breakthrough",
     "resolved", 88, False),
    ("memo tbe for the", "memo", "Khrushchev's Retreat", "verify the dismantling of these means",
     "resolved", 750, False),
    ("memo heading noise", "memo", "Khrushchev's Retreat", "long, rambling private letter",
     "resolved", 676, True),
    ("memo tbe twice", "memo", "Postcrisis Negotiations", "withdrawal of the 42 missiles",
     "resolved", 830, False),
    ("memo section prefix", "memo", "section: The Week of Crisis",
     "call for a UN Security Council meeting", "resolved", 589, False),
    ("memo heading without article", "memo", "crucial period",
     "a steady drumfire against alleged US preparations", "resolved", 398, True),
    ("memo hyphen + OCR", "memo", "Buildup in Cuba", "Khrushchev announced a new proposal",
     "resolved", 316, False),
    ("memo wrong section", "memo", "Background", "the 42 missiles was completed",
     "outside_locator", 831, False),
    ("memo unknown heading", "memo", "The Aftermath", "withdrawal of the 42 missiles",
     "unknown_locator", 830, False),
    ("memo card locator", "memo", "card 3 of 9", "withdrawal of the 42 missiles",
     "unknown_locator", 830, False),
    ("memo invented phrase", "memo", "The Crucial period",
     "Khrushchev telephoned the Pope on Sunday", "not_found", None, False),
    ("notes invented phrase", "notes", "card 6 of 9", "Kennedy consults the Oracle of Delphi",
     "not_found", None, False),
    ("memo paraphrase is not an anchor", "memo", "The Week of Crisis",
     "Khrushchev called for a summit meeting", "not_found", None, False),
]
# fmt: on


@needs_seeds
@pytest.mark.parametrize(
    ("source", "locator", "anchor", "status", "line", "exact"),
    [pytest.param(*case[1:], id=case[0]) for case in SEED_CASES],
)
def test_seed_citations(
    source: str, locator: str, anchor: str, status: str, line: int | None, exact: bool
) -> None:
    check = check_one(source, locator, anchor)
    assert check.status == status, check.message
    if status == "not_found":
        assert check.score < 85.0
        assert check.message.startswith("anchor not found")
        return
    assert check.line == line
    assert check.excerpt is not None and len(check.excerpt.split()) <= 12
    if exact:
        assert check.score == 100.0
    else:
        assert 85.0 <= check.score < 100.0
    if status == "outside_locator":
        assert f"line {line}" in check.message and "not in" in check.message
    if status == "unknown_locator":
        assert f"locator '{locator}' names no" in check.message


@needs_seeds
def test_noisy_passages_really_are_noisy() -> None:
    """The OCR cases above test fuzzy matching only if the text differs from the anchor."""
    memo = load_document(SEEDS / MEMO_FILE)
    assert "verify tbe dismantling" in memo.norm
    assert "verify the dismantling" not in memo.norm
    assert "diplo- \nmatic showdown" in memo.text
    assert "diplomatic showdown on the berlin" in memo.norm


@needs_seeds
def test_displaced_ocr_fragment_is_tolerated_next_to_its_section() -> None:
    """Lines 241-267 of the memo continue "Buildup in Cuba" but were scanned before its
    heading: both the physical and the logical section accept them, a far one does not."""
    anchor = "confront the US with a fait accompli"
    logical = check_one("memo", "Buildup in Cuba", anchor)
    assert logical.status == "resolved" and logical.line == 242
    assert "tolerated" in logical.message
    physical = check_one("memo", "Background", anchor)
    assert physical.status == "resolved" and physical.line == 242
    assert physical.message == ""
    far = check_one("memo", "Postcrisis Negotiations", anchor)
    assert far.status == "outside_locator" and far.line == 242
    assert SECTION_SLACK_LINES < 753 - 280


@needs_seeds
def test_cards_get_no_slack() -> None:
    # Card 6 ends at line 60; the anchor opens card 7 on line 64.
    check = check_one("notes", "card 6 of 9", "Brinkmanship was a high risk strategy")
    assert check.status == "outside_locator" and check.line == 64
    assert "card 7 of 9" in check.message


@needs_seeds
def test_missing_file_reference_unknown_source_and_no_anchor() -> None:
    spec = make_spec(
        [
            {"source": "lost", "locator": "card 1 of 9", "anchor": "anything at all"},
            {"source": "ref_hist", "locator": "section: DEFCON 2"},
            {"source": "ghost", "locator": "card 1 of 9", "anchor": "Castro"},
            {"source": "notes", "locator": "card 1 of 9"},
            {"source": "notes", "locator": "card 1 of 9", "anchor": "Castro"},
        ]
    )
    report = check_sources(spec, SEEDS)
    by_path = {c.path: c for c in report.checks}
    lost = by_path["actions[0].cite[0]"]
    assert lost.status == "missing_file"
    assert "no_such_file.txt" in lost.message and "lost" in lost.message
    assert lost.line is None and lost.excerpt is None
    assert by_path["actions[1].cite[0]"].status == "reference"
    assert by_path["actions[2].cite[0]"].status == "unknown_source"
    assert by_path["actions[3].cite[0]"].status == "not_found"
    assert "anchor" in by_path["actions[3].cite[0]"].message
    assert by_path["actions[4].cite[0]"].status == "resolved"
    assert by_path["actions[4].cite[0]"].line == 6

    # actor + outcome + actions[1] cite the reference: not unresolved, not in the rate.
    assert len(report.references) == 3
    assert {c.path for c in report.unresolved} == {
        "actions[0].cite[0]",
        "actions[2].cite[0]",
        "actions[3].cite[0]",
    }
    assert len(report.resolved) == 1
    assert report.rate == pytest.approx(1 / 4)
    assert not report.ok


@needs_seeds
def test_repeated_citations_are_checked_once_but_reported_at_each_path() -> None:
    cite = {"source": "notes", "locator": "card 6 of 9", "anchor": "Kennedy assembles ExComm"}
    report = check_sources(make_spec([cite, cite, cite]), SEEDS)
    seeds = report.seed
    assert [c.path for c in seeds] == [f"actions[{i}].cite[0]" for i in range(3)]
    assert all(c.status == "resolved" and c.line == 58 for c in seeds)
    assert report.rate == 1.0 and report.ok


@needs_seeds
def test_memo_sections_and_summary_are_located() -> None:
    memo = load_document(SEEDS / MEMO_FILE)
    assert [(span.first_line, span.label) for _, span in memo.sections] == [
        (103, "section 'Background'"),
        (281, "section 'Buildup in Cuba'"),
        (351, "section 'The Crucial period'"),
        (535, "section 'The Week of Crisis'"),
        (642, "section 'Khrushchev f s Retreat'"),
        (753, "section 'Postcrisis Negotiations'"),
    ]
    summary = memo.locate("Summary")
    assert summary is not None and (summary.first_line, summary.last_line) == (1, 102)
    retreat = memo.locate("Khrushchev\u2019s Retreat")
    assert retreat is not None and (retreat.first_line, retreat.last_line) == (642, 752)
    assert memo.locate("THE WEEK OF CRISIS") == memo.locate("Week of Crisis")
    assert memo.locate("Attachment") is None  # a cover caption, not a heading
    assert memo.locate("card 1 of 9") is None
    assert memo.locate("Berlin") is None


@needs_seeds
def test_notes_cards_are_located() -> None:
    notes = load_document(SEEDS / NOTES_FILE)
    assert notes.card_total == 9 and sorted(notes.cards) == list(range(1, 10))
    lines = [(notes.cards[n].first_line, notes.cards[n].last_line) for n in range(1, 10)]
    assert lines == [
        (1, 10),
        (11, 22),
        (23, 32),
        (33, 42),
        (43, 52),
        (53, 60),
        (61, 66),
        (67, 78),
        (79, 83),
    ]
    for locator in ("card 6 of 9", "6 of 9", "Card 6", "card 6/9", "CARD  6 OF 9"):
        assert notes.locate(locator) == notes.cards[6], locator
    both = notes.locate("cards 5-6 of 9")
    assert both is not None and (both.first_line, both.last_line) == (43, 60)
    for locator in ("card 0 of 9", "card 10 of 9", "card 6 of 8", "cards 6-5", "6"):
        assert notes.locate(locator) is None, locator


# ---------------------------------------------------------------------------------------
# Synthetic documents


def test_normalise() -> None:
    assert normalise("Khrushchev\u2019s   RETREAT!\n") == "khrushchev s retreat"
    assert normalise("diplo-\nmatic") == "diplomatic"
    assert normalise("diplo- \n   matic") == "diplomatic"
    assert normalise("diplo\u00ad\nmatic") == "diplomatic"
    assert normalise("1958-\n1960") == "1958 1960"  # numbers are not a broken word
    assert normalise("Soviet-\nUS talks") == "soviet us talks"  # nor a capitalised word
    assert normalise("well-known") == "well known"
    assert normalise("Aragon\u00e9s, Ch\u00e9") == "aragones che"
    assert normalise("  --  ") == ""


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_normalise_properties(text: str) -> None:
    norm, offsets = normalise_with_offsets(text)
    assert len(norm) == len(offsets)
    assert offsets == sorted(offsets)
    assert all(0 <= o < len(text) for o in offsets)
    assert norm == norm.strip() and "  " not in norm
    assert normalise(norm) == norm


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SYNTHETIC = """\
A Report

Opening

The opening paragraph of this little report is long enough
to count as a paragraph and introduces the whole matter.

First Part

The negotiators held a diplo-
matic exchange on the Berlin ques-
  tion, and the other
fellow just blinked.  Then THE
quarantine -- "tightened" -- at once.

Second Part

The President assembled his advisers in the Cabinet Room
to weigh an air strike against a naval blockade of the island.
"""


def synthetic_spec(locator: str, anchor: str) -> ScenarioSpec:
    sources = [{"id": "doc", "title": "Synthetic", "kind": "seed", "file": "doc.txt"}]
    return make_spec(
        [{"source": "doc", "locator": locator, "anchor": anchor}],
        sources=sources,
        actors=[
            {
                "id": "usa",
                "name": "United States",
                "role": "passive",
                "description": "The US.",
                "cite": [{"source": "doc", "locator": "Summary", "anchor": "little report"}],
            }
        ],
        outcomes=[
            {
                "id": "end",
                "label": "End",
                "summary": "Ends.",
                "payoffs": {"usa": 0},
                "default": True,
                "tags": [],
                "cite": [{"source": "doc", "locator": "Second Part", "anchor": "naval blockade"}],
            }
        ],
    )


@pytest.mark.parametrize(
    ("anchor", "line", "excerpt_has"),
    [
        ("diplomatic exchange", 10, "diplo-"),
        ("on the Berlin question", 11, "ques-"),
        ("the other fellow just blinked", 12, "other"),
        ("then the quarantine tightened", 13, "THE"),
        ("Then THE quarantine, \u201ctightened\u201d!", 13, "quarantine"),
        ("DIPLOMATIC EXCHANGE ON THE BERLIN QUESTION", 10, "diplo-"),
    ],
)
def test_synthetic_joins_hyphens_lines_case_and_punctuation(
    tmp_path: Path, anchor: str, line: int, excerpt_has: str
) -> None:
    write(tmp_path, "doc.txt", SYNTHETIC)
    report = check_sources(synthetic_spec("First Part", anchor), tmp_path)
    (check,) = [c for c in report.checks if c.path == "actions[0].cite[0]"]
    assert check.status == "resolved", check.message
    assert check.score == 100.0
    assert check.line == line
    assert check.excerpt is not None and excerpt_has in check.excerpt
    assert report.ok and report.rate == 1.0


def test_synthetic_fuzzy_and_failures(tmp_path: Path) -> None:
    write(tmp_path, "doc.txt", SYNTHETIC.replace("the other\nfellow", "tbe otber\nfel1ow"))
    noisy = check_sources(
        synthetic_spec("First Part", "the other fellow just blinked"), tmp_path
    ).checks
    (check,) = [c for c in noisy if c.path == "actions[0].cite[0]"]
    assert check.status == "resolved" and check.line == 12 and 85 <= check.score < 100

    wrong = check_sources(synthetic_spec("Second Part", "diplomatic exchange"), tmp_path)
    (check,) = [c for c in wrong.checks if c.path == "actions[0].cite[0]"]
    # Without slack the section would miss; the synthetic sections are within the OCR
    # slack of each other, so the neighbouring section is tolerated.
    assert check.status == "resolved" and "tolerated" in check.message

    filler = "".join(
        f"Filler line {i} of the third part, about nothing much.\n"
        for i in range(2 * SECTION_SLACK_LINES)
    )
    far_doc = SYNTHETIC + "\nThird Part\n\n" + filler + "The end of the matter came quietly.\n"
    write(tmp_path, "doc.txt", far_doc)
    far = check_sources(synthetic_spec("First Part", "the end of the matter"), tmp_path)
    (check,) = [c for c in far.checks if c.path == "actions[0].cite[0]"]
    end_line = far_doc.count("\n")
    assert check.status == "outside_locator" and check.line == end_line
    assert "section 'Third Part'" in check.message

    missing = check_sources(synthetic_spec("First Part", "submarine surfaced at dawn"), tmp_path)
    (check,) = [c for c in missing.checks if c.path == "actions[0].cite[0]"]
    assert check.status == "not_found"

    unknown = check_sources(synthetic_spec("Appendix", "naval blockade"), tmp_path)
    (check,) = [c for c in unknown.checks if c.path == "actions[0].cite[0]"]
    assert check.status == "unknown_locator" and check.line == 19


def test_synthetic_summary_and_strict_threshold(tmp_path: Path) -> None:
    write(tmp_path, "doc.txt", SYNTHETIC)
    doc = load_document(tmp_path / "doc.txt")
    assert [span.label for _, span in doc.sections] == [
        "section 'Opening'",
        "section 'First Part'",
        "section 'Second Part'",
    ]
    summary = doc.locate("summary")
    assert summary is not None and (summary.first_line, summary.last_line) == (1, 2)
    spec = synthetic_spec("First Part", "the other fellow just blinkd")
    assert check_sources(spec, tmp_path).checks[1].status == "resolved"
    assert check_sources(spec, tmp_path, threshold=99.0).checks[1].status == "not_found"


CARDS = "\n".join(
    [
        "Card one talks about the Bay of Pigs landing.",
        "1 of 3",
        "",
        "Card two talks about the quarantine line",
        "and the ships that turned back.",
        "2 of 3",
        "Card three is about the hotline.",
        "3 of 3",
        "Footer text, part of no card.",
    ]
)


def test_synthetic_cards(tmp_path: Path) -> None:
    write(tmp_path, "cards.txt", CARDS)
    doc = load_document(tmp_path / "cards.txt")
    assert doc.card_total == 3
    assert [(s.first_line, s.last_line) for s in doc.cards.values()] == [(1, 2), (3, 6), (7, 8)]
    sources = [{"id": "cards", "title": "Cards", "kind": "seed", "file": "cards.txt"}]

    def status(locator: str, anchor: str) -> tuple[str, int | None]:
        spec = make_spec(
            [{"source": "cards", "locator": locator, "anchor": anchor}],
            sources=sources + SOURCES[3:],
        )
        check = check_sources(spec, tmp_path).checks[1]
        return check.status, check.line

    assert status("card 2 of 3", "quarantine line and the ships") == ("resolved", 4)
    assert status("card 1 of 3", "quarantine line and the ships") == ("outside_locator", 4)
    assert status("card 3 of 3", "hotline") == ("resolved", 7)
    assert status("card 3 of 3", "Footer text") == ("outside_locator", 9)
    assert status("card 4 of 3", "hotline") == ("unknown_locator", 7)


def test_document_cache_follows_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "doc.txt", "First version of the text.\n")
    first = load_document(path)
    assert load_document(path) is first
    path.write_text("Second, longer version of the text.\n", encoding="utf-8")
    second = load_document(path)
    assert second is not first and "second" in second.norm


# ---------------------------------------------------------------------------------------
# Rendering


def rendered(report: SourcesReport, verbose: bool = False) -> str:
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=240, color_system=None), verbose=verbose)
    return buffer.getvalue()


@needs_seeds
def test_render_report() -> None:
    spec = make_spec(
        [
            {"source": "notes", "locator": "card 6 of 9", "anchor": "Kennedy assembles ExComm"},
            {"source": "notes", "locator": "card 2 of 9", "anchor": "Kennedy assembles ExComm"},
            {"source": "lost", "locator": "card 1 of 9", "anchor": "[bold]markup[/bold]"},
        ]
    )
    report = check_sources(spec, SEEDS)
    text = rendered(report)
    assert "1 of 3 seed citations resolved (33.3%)" in text
    assert "2 reference citations not checkable offline" in text
    assert "actions[1].cite[0]" in text and "outside_locator" in text
    assert "missing_file" in text and "[bold]markup[/bold]" in text
    assert "actions[0].cite[0]" not in text  # resolved rows only when verbose
    verbose = rendered(report, verbose=True)
    assert "actions[0].cite[0]" in verbose and "ExComm" in verbose
    assert "actors[0].cite[0]" in verbose and "reference" in verbose

    clean = rendered(check_sources(make_spec([spec.actions[0].cite[0].model_dump()]), SEEDS))
    assert re.search(r"^1 of 1 seed citations resolved \(100\.0%\)", clean, re.M)
    assert clean.splitlines()[0].startswith("1 of 1 seed")  # no table when nothing is wrong


# ---------------------------------------------------------------------------------------
# Coverage


@needs_seeds
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_any_phrase_of_a_card_resolves_in_that_card(data: st.DataObject) -> None:
    notes = load_document(SEEDS / NOTES_FILE)
    number = data.draw(st.integers(1, 9), label="card")
    card = notes.cards[number]
    words = notes.norm[card.start : card.end].split()
    size = data.draw(st.integers(3, 8), label="words")
    start = data.draw(st.integers(0, len(words) - size), label="start")
    anchor = " ".join(words[start : start + size])
    check = check_one("notes", f"card {number} of 9", anchor)
    assert check.status == "resolved"
    assert check.line is not None and card.first_line <= check.line <= card.last_line


def test_every_source_of_the_record_has_a_short_name_and_is_cited() -> None:
    """A chronicle row names its document briefly; the sources the track cites are
    declared, and the narrative entries' citations are walked like any other."""
    from crisislab.scenario.loader import load_scenario

    spec = load_scenario("cuba-1962").spec
    declared = {s.id: s for s in spec.sources}
    cited = {c.source for path, c in iter_citations(spec)}
    told = {c.source for e in spec.history if e.narrative for c in e.cite}
    assert told and told <= cited <= set(declared)
    for e in spec.history:
        for c in e.cite:
            assert declared[c.source].short, c.source
