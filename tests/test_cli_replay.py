"""End to end: the replay and sources commands, driven as a user would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crisislab.render import chronicle
from crisislab.replay import replay as run_replay
from crisislab.scenario.loader import builtin_ids, load_scenario

SEEDS = Path(
    os.environ.get("CRISISLAB_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"no seed documents at {SEEDS}")


MINI = Path(__file__).parent / "data" / "mini.yaml"


def crisislab(
    *args: str, cwd: Path | None = None, columns: int = 100
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    proc = subprocess.run(
        [sys.executable, "-m", "crisislab.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env=env,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def replay_json() -> dict:
    proc = crisislab("replay", "cuba-1962", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_replay_json_shape(replay_json: dict) -> None:
    assert replay_json["scenario"] == "cuba-1962"
    assert replay_json["version"] == "2.3.0"
    assert replay_json["seed"] == 0
    assert replay_json["outcome"] == "settlement"
    assert replay_json["end_date"] == "1962-11-21"
    events = replay_json["events"]
    assert len(events) > 40
    for e in events:
        assert set(e) >= {"date", "actor", "who", "id", "summary", "citations", "changes"}
        assert len(e["date"]) == 10 and e["date"].startswith("1962-")
        assert e["summary"].strip()
        assert e["citations"], e["id"]
        for c in e["citations"]:
            assert c["source"] and c["locator"]
    dates = [e["date"] for e in events if e["documented"]]
    assert dates == sorted(dates), "documented steps come in date order"
    assert events[-1]["kind"] == "outcome" and events[-1]["id"] == "settlement"
    change = next(c for e in events for c in e["changes"] if c["variable"] == "us_defcon")
    assert set(change) >= {
        "variable",
        "label",
        "before",
        "after",
        "before_value",
        "after_value",
        "chronicle",
    }
    assert {s["id"] for s in replay_json["sources"]} >= {"notes", "cia_memo", "frus_xi"}
    assert replay_json["epilogue"] and all(
        e["date"] > "1962-11-21" for e in replay_json["epilogue"]
    )


def test_replay_is_deterministic(replay_json: dict) -> None:
    again = json.loads(crisislab("replay", "cuba-1962", "--format", "json").stdout)
    assert again == replay_json


def test_replay_seed_is_recorded() -> None:
    out = json.loads(crisislab("replay", "cuba-1962", "--format", "json", "--seed", "7").stdout)
    assert out["seed"] == 7


def test_replay_markdown_to_file(tmp_path: Path) -> None:
    target = tmp_path / "cuba.md"
    proc = crisislab("replay", "cuba-1962", "--format", "markdown", "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    text = target.read_text()
    assert text.startswith("# ")
    assert "### Monday 22 October 1962" in text
    assert "Sources:" in text and "## Outcome" in text
    assert "**evening · Kennedy**" in text


def test_replay_text_names_days_and_outcome() -> None:
    proc = crisislab("replay", "cuba-1962")
    assert proc.returncode == 0
    assert "Sunday 28 October 1962" in proc.stdout
    assert "The crisis ends on Wednesday 21 November 1962: Negotiated settlement." in proc.stdout
    assert "Khrushchev: " in proc.stdout and "usa" not in proc.stdout.split()


@pytest.mark.parametrize("columns", [80, 160])
def test_every_row_shows_its_source(columns: int) -> None:
    """Each row of the chronicle is followed by its sources, at any width (the citations
    once vanished, read as terminal markup)."""
    rows = sum(
        len(d.rows)
        for s in chronicle(run_replay(load_scenario("cuba-1962"))).sections
        for d in s.days
    )
    out = crisislab("replay", "cuba-1962", columns=columns).stdout
    sources = [line for line in out.splitlines() if line.startswith("    Source: ")]
    assert len(sources) == rows  # one source line per row, never an empty one
    assert all(len(line.strip()) > len("Source: ") + 10 for line in sources)
    assert "[cia_memo" not in out and "CIA memorandum, " in out


def test_the_crisis_starts_on_the_first_screen() -> None:
    lines = crisislab("replay", "cuba-1962", columns=100).stdout.splitlines()
    assert lines.index("Sunday 14 October 1962") < 60


SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
LONG_DECIMAL = re.compile(r"\d\.\d{4,}")
URL = re.compile(r"<?https?://\S+|\]\(https?://[^)]*\)")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.parts.append(data)


def _visible_html(text: str) -> str:
    parser = _Visible()
    parser.feed(text)
    return " ".join(parser.parts)


@pytest.mark.parametrize("ref", [*builtin_ids(), str(MINI)])
@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@pytest.mark.parametrize("detail", [False, True], ids=["chronicle", "detail"])
def test_no_identifiers_on_screen(ref: str, fmt: str, detail: bool) -> None:
    args = ["replay", ref, "--format", fmt, "--sources"] + (["--detail"] if detail else [])
    proc = crisislab(*args, columns=80)
    assert proc.returncode == 0, proc.stderr
    text = _visible_html(proc.stdout) if fmt == "html" else proc.stdout
    text = URL.sub(" ", text)
    # the Markdown escapes its underscores; a reader sees them unescaped
    text = text.replace("\\_", "_")
    sc = load_scenario(ref)
    assert not SNAKE.findall(text), sorted(set(SNAKE.findall(text)))[:10]
    assert not LONG_DECIMAL.findall(text)
    if fmt == "text":
        for a in sc.spec.actors:
            assert f"{a.id}:" not in text.split() or a.id == a.name.lower()


def test_replay_html_is_a_page_with_linked_sources(tmp_path: Path) -> None:
    target = tmp_path / "cuba.html"
    proc = crisislab("replay", "cuba-1962", "--format", "html", "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<link" not in page  # self-contained
    assert "@media print" in page
    assert '<a href="https://history.state.gov/historicaldocuments/frus1961-63v11">' in page
    assert page.count('<span class="sources">') == page.count("<li><span")
    assert 'href="#source-1"' in page and 'id="source-1"' in page


def test_scenario_text_is_never_markup() -> None:
    """Square brackets in the record are citations, not terminal styles."""
    from dataclasses import replace

    from rich.console import Console

    from crisislab.render import render_text

    r = run_replay(load_scenario(str(MINI)))
    first = replace(r.entries[0], summary="[bold]odd[/bold] [notes, card 1] [/]")
    r = replace(r, entries=(first, *r.entries[1:]))
    console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
    render_text(r, console)
    assert "[bold]odd[/bold] [notes, card 1] [/]" in console.export_text()


def test_replay_filters_by_date_and_actor() -> None:
    out = json.loads(
        crisislab(
            "replay", "cuba-1962", "--format", "json", "--from", "1962-10-27", "--to", "1962-10-28"
        ).stdout
    )
    assert out["events"] and {e["date"] for e in out["events"]} <= {"1962-10-27", "1962-10-28"}
    assert out["epilogue"] == []
    castro = json.loads(
        crisislab("replay", "cuba-1962", "--format", "json", "--actor", "Castro").stdout
    )
    assert castro["events"] and {e["actor"] for e in castro["events"]} == {"cuba"}
    prologue = json.loads(
        crisislab("replay", "cuba-1962", "--format", "json", "--to", "prologue").stdout
    )
    assert max(e["date"] for e in prologue["events"]) <= "1962-10-13"
    text = crisislab("replay", "cuba-1962", "--actor", "khrushchev", "--from", "crisis").stdout
    assert "Thursday 24 May 1962" not in text and "Khrushchev: " in text
    assert "  Kennedy: " not in text and "evening Kennedy: " not in text


def test_replay_lists_the_documents_cited() -> None:
    out = crisislab("replay", "cuba-1962", "--sources").stdout
    tail = out[out.index("Sources cited") :]
    assert "Foreign Relations of the United States, 1961-1963, volume XI" in tail
    assert "https://history.state.gov/historicaldocuments/frus1961-63v11" in tail


def test_validate_warns_about_an_unlabelled_chronicle_variable(tmp_path: Path) -> None:
    text = MINI.read_text(encoding="utf-8").replace(
        "  - id: deployed\n    description: Weapons deployed in secret.\n",
        "  - id: deployed\n    description: Weapons deployed in secret.\n    chronicle: true\n",
    )
    assert "chronicle: true" in text
    target = tmp_path / "unlabelled.yaml"
    target.write_text(text, encoding="utf-8")
    proc = crisislab("validate", str(target))
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stdout and "'deployed'" in proc.stdout and "label" in proc.stdout


def test_replay_from_the_crisis_phase(replay_json: dict) -> None:
    out = json.loads(
        crisislab("replay", "cuba-1962", "--format", "json", "--from", "crisis").stdout
    )
    assert min(e["date"] for e in out["events"]) >= "1962-10-14"
    assert out["outcome"] == replay_json["outcome"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "cuba-1962", "--from", "nowhere"], "no phase 'nowhere'"),
        (["replay", "cuba-1962", "--to", "1962-13-01"], "not a date"),
        (["replay", "cuba-1962", "--actor", "Napoleon"], "no actor 'Napoleon'"),
        (["replay", "cuba-1962", "--from", "crisis", "--to", "prologue"], "comes after"),
        (["replay", "cuba-1962", "--seed", "-1"], "--seed"),
        (["replay", "no-such-scenario"], "no such file"),
        (["replay", "cuba-1962", "--format", "pdf"], "pdf"),
        (["replay", "cuba-1962", "-o", "/nonexistent/dir/x.md"], "cannot write"),
    ],
)
def test_replay_bad_input(args: list[str], message: str) -> None:
    proc = crisislab(*args)
    assert proc.returncode != 0
    assert message in proc.stderr


@needs_seeds
def test_sources_check_resolves_every_seed_citation() -> None:
    proc = crisislab("sources", "check", "cuba-1962", "--sources", str(SEEDS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(100.0%)" in proc.stdout


def test_sources_check_fails_on_missing_documents(tmp_path: Path) -> None:
    proc = crisislab("sources", "check", "cuba-1962", "--sources", str(tmp_path))
    assert proc.returncode == 1
    assert "missing" in proc.stdout.lower()


def test_validate_builtin() -> None:
    proc = crisislab("validate", "cuba-1962")
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout
