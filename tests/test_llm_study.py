"""A tournament with a language-model entrant as a study: stored, exported with
`crisislab llm export --study ID` (only the replies that study used), imported into
another database and rerun offline with identical results; and the one --llm-cache
option every command that takes agents shares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from .llm_server import serve


def run_app(*args: str) -> Any:
    from crisislab.cli import app

    return CliRunner().invoke(app, list(args))


def tournament(url: str, model: str, seed: int, *extra: str) -> Any:
    return run_app(
        "tournament",
        "cuba-1962",
        "--seat",
        "ussr",
        "--entrant",
        f"model=llm:{model},base_url={url}",
        "--entrant",
        "dove=dove",
        "--opponents",
        "dove",
        "--runs",
        "3",
        "--seed",
        str(seed),
        "--format",
        "json",
        *extra,
    )


def steady(doc: dict[str, Any]) -> dict[str, Any]:
    """A tournament's document without what differs between a run and its rerun: the run
    id, and how many replies came from the endpoint rather than the store."""
    out = {k: v for k, v in doc.items() if k != "run_id"}
    out["llm"] = [
        {k: v for k, v in c.items() if k not in ("calls", "cached", "latency_s")}
        for c in doc["llm"]
    ]
    return out


def test_a_tournament_study_exports_alone_and_reruns_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "crisislab.db"))
    monkeypatch.delenv("CRISISLAB_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with serve() as ep:
        first = tournament(ep.url, "cautious-7b", 1)
        assert first.exit_code == 0, first.output
        other = tournament(ep.url, "bold-7b", 2)  # another study in the same store
        assert other.exit_code == 0, other.output
        url = ep.url
    study = json.loads(first.stdout)
    (counts,) = study["llm"]
    assert counts["model"] == "cautious-7b" and counts["calls"] > 0
    model_row = next(r for r in study["entrants"] if r["entrant"] == "model")
    assert model_row["runs"] == 3
    file = tmp_path / "study.json"
    out = run_app("llm", "export", str(file), "--study", str(study["run_id"]))
    assert out.exit_code == 0, out.output
    exported = json.loads(file.read_text())
    assert exported["study"]["run_id"] == study["run_id"]
    assert exported["study"]["kind"] == "tournament" and exported["study"]["seed"] == 1
    assert {x["model"] for x in exported["items"]} == {"cautious-7b"}
    # each distinct reply it used once (a briefing met twice is one reply)
    assert 0 < exported["replies"] <= counts["requests"]
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "elsewhere.db"))
    imported = run_app("llm", "import", str(file))
    assert imported.exit_code == 0, imported.output
    assert f"of study {study['run_id']} (tournament on cuba-1962" in imported.output
    # no server now: the rerun reads the imported replies only
    rerun = tournament(url, "cautious-7b", 1, "--llm-cache", "only")
    assert rerun.exit_code == 0, rerun.output
    again = json.loads(rerun.stdout)
    assert again["llm"][0]["calls"] == 0
    assert steady(again) == steady(study)
    # the other study's replies did not travel
    missing = tournament(url, "bold-7b", 2, "--llm-cache", "only", "--no-store")
    assert missing.exit_code == 1 and "no stored reply of bold-7b" in missing.output


def test_export_of_a_study_that_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "crisislab.db"))
    out = run_app("llm", "export", str(tmp_path / "x.json"), "--study", "7")
    assert out.exit_code == 2 and "there is no stored study 7" in out.output
    plain = run_app(
        "simulate",
        "cuba-1962",
        "--runs",
        "5",
        "--agent",
        "ussr=dove",
        "--format",
        "json",
        "--workers",
        "1",
    )
    assert plain.exit_code == 0, plain.output
    run_id = json.loads(plain.stdout)["run_id"]
    out = run_app("llm", "export", str(tmp_path / "x.json"), "--study", str(run_id))
    assert out.exit_code == 1 and f"no replies used by study {run_id}" in out.output
    assert not (tmp_path / "x.json").exists()


def test_every_command_that_takes_agents_declares_the_same_llm_cache_option() -> None:
    from crisislab.cli import LAZY_COMMANDS, lazy_command
    from crisislab.cli.llm import CACHE_HELP

    found = {}
    for name in LAZY_COMMANDS:
        command = lazy_command(name)
        commands = getattr(command, "commands", {name: command})
        for sub, c in commands.items():
            for p in c.params:
                if "--llm-cache" in getattr(p, "opts", ()):
                    found[sub] = (p.help, p.default)
    assert {
        "simulate",
        "compare",
        "paths",
        "sensitivity",
        "calibrate",
        "play",
        "tournament",
    } <= set(found)
    assert set(found.values()) == {(CACHE_HELP, "use")}
