"""``crisislab new``: the starter scenario validates, replays and simulates as written."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crisislab.cli import app
from crisislab.scenario.loader import load_scenario

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_new_writes_a_starter_that_every_command_runs(tmp_path: Path) -> None:
    code, out = run("new", "demo", "--dir", str(tmp_path))
    path = tmp_path / "demo.yaml"
    assert code == 0, out
    assert f"wrote {path}" in out and "crisislab validate" in out
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Demo: a starter crisis\n#\n# Written by `crisislab new demo`")
    assert "\nformat_version: 2" in text and "${" not in text

    code, out = run("validate", str(path))
    assert code == 0, out
    assert "valid: demo 0.1.0: 2 actors" in out

    sc = load_scenario(path)
    assert sc.id == "demo" and len(sc.actors) == 2
    assert len(sc.events) >= 1 and all(o.tags is not None for o in sc.outcomes)
    assert sc.outcomes_tagged("war") == ("war",)
    assert {s.kind for s in sc.spec.sources} == {"reference"}

    code, out = run("replay", str(path), "--format", "json")
    assert code == 0, out
    story = json.loads(out)
    assert story["outcome"] == "deal"
    summaries = list(dict.fromkeys(e["summary"] for e in story["events"]))
    assert summaries[:2] == ["Red moves forces forward day after day.", "Blue finds the build-up."]

    code, out = run(
        "simulate", str(path), "--runs", "300", "--seed", "1", "--no-store", "--format", "json"
    )
    assert code == 0, out
    summary = json.loads(out)
    shares = {oid: o["p"] for oid, o in summary["outcomes"].items()}
    assert set(shares) == {"war", "deal", "stalemate"}
    assert abs(sum(shares.values()) - 1) < 1e-9
    assert shares["deal"] > 0.5 and shares["war"] > 0  # the record's end is typical


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("mine\n", encoding="utf-8")
    code, out = run("new", "demo", "--dir", str(tmp_path))
    assert code == 2
    assert "already exists; it is left as it is" in out
    assert path.read_text(encoding="utf-8") == "mine\n"


def test_new_checks_its_name_and_folder(tmp_path: Path) -> None:
    code, out = run("new", "Bad Name", "--dir", str(tmp_path))
    assert code == 2 and "'Bad Name' cannot name a scenario" in out
    assert list(tmp_path.iterdir()) == []
    code, out = run("new", "demo", "--dir", str(tmp_path / "nowhere"))
    assert code == 2 and "no folder" in out and "Traceback" not in out


def test_the_starter_takes_the_name_it_is_given(tmp_path: Path) -> None:
    code, _ = run("new", "border-standoff", "--dir", str(tmp_path))
    assert code == 0
    sc = load_scenario(tmp_path / "border-standoff.yaml")
    assert sc.id == "border-standoff"
    assert sc.title == "Border standoff: a starter crisis"
