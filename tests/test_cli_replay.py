"""End to end: the replay and sources commands, driven as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(os.environ.get("CRISISLAB_SEEDS",
                            Path(__file__).resolve().parents[2] / "shared" / "seeds"))
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"no seed documents at {SEEDS}")


def crisislab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "crisislab.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def replay_json() -> dict:
    proc = crisislab("replay", "cuba-1962", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_replay_json_shape(replay_json: dict) -> None:
    assert replay_json["scenario"] == "cuba-1962"
    assert replay_json["version"] == "1.1.0"
    assert replay_json["seed"] == 0
    assert replay_json["outcome"] == "settlement"
    assert replay_json["end_date"] == "1962-11-21"
    events = replay_json["events"]
    assert len(events) > 40
    for e in events:
        assert set(e) >= {"date", "actor", "id", "summary", "citations"}
        assert len(e["date"]) == 10 and e["date"].startswith("1962-")
        assert e["summary"].strip()
        assert e["citations"], e["id"]
        for c in e["citations"]:
            assert c["source"] and c["locator"]
    dates = [e["date"] for e in events if e["documented"]]
    assert dates == sorted(dates), "documented steps come in date order"
    assert events[-1]["kind"] == "outcome" and events[-1]["id"] == "settlement"


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
    assert "## 1962-10-22" in text
    assert "Sources:" in text and "## Outcome" in text


def test_replay_text_names_days_and_outcome() -> None:
    proc = crisislab("replay", "cuba-1962")
    assert proc.returncode == 0
    assert "1962-10-28" in proc.stdout
    assert "Outcome:" in proc.stdout


def test_replay_from_the_crisis_phase(replay_json: dict) -> None:
    out = json.loads(crisislab("replay", "cuba-1962", "--format", "json", "--from",
                               "crisis").stdout)
    assert min(e["date"] for e in out["events"]) >= "1962-10-14"
    assert out["outcome"] == replay_json["outcome"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "cuba-1962", "--from", "nowhere"], "no phase 'nowhere'"),
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
