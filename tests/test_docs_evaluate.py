"""The study of docs/evaluate.md runs as written, against the recorded endpoint
(tests/llm_server.py) in place of a local model server: run, store, export, import into
another database, and rerun offline with the same results."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from .llm_server import serve

DOC = Path(__file__).resolve().parents[1] / "docs" / "evaluate.md"
LOCAL = "http://localhost:11434/v1"


def study() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A study, run, stored, exported and rerun offline", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block is not None
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip().startswith("crisislab ")
    ]


def test_the_documented_study_reruns_offline_with_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crisislab.cli import app

    commands = study()
    assert len(commands) == 6 and any("--llm-cache only" in c for c in commands)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "crisislab.db"))
    outputs: dict[str, str] = {}
    with serve() as endpoint:
        for command in commands:
            if "--llm-cache only" in command:
                asked = len(endpoint.requests)
            args = shlex.split(command.replace(LOCAL, endpoint.url))[1:]
            target = None
            if ">" in args:
                at = args.index(">")
                args, target = args[:at], args[at + 1]
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, f"{command}\n{result.output}"
            if target is not None:
                (tmp_path / target).write_text(result.stdout)
            outputs[args[0] + " " + (args[1] if len(args) > 1 else "")] = result.output
        assert len(endpoint.requests) == asked  # the rerun asked the server nothing
    first, rerun = (json.loads((tmp_path / f).read_text()) for f in ("study.json", "rerun.json"))

    def steady(doc: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in doc.items() if k not in ("elapsed_s", "run_id", "execution")}
        out["llm"] = [
            {k: v for k, v in c.items() if k not in ("calls", "cached", "latency_s")}
            for c in doc["llm"]
        ]
        return out

    assert steady(first) == steady(rerun)
    counts = first["llm"][0]
    assert counts["model"] == "qwen2.5:7b" and counts["decisions"] > 20
    assert rerun["llm"][0]["calls"] == 0
    assert "qwen2.5:7b" in outputs["llm list"]
    assert "wrote" in outputs["llm export"] and "imported" in outputs["llm import"]
