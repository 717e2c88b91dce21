"""The documentation's examples run: every `crisislab` command in the tutorial's code
blocks (except the interactive game) exits 0 without a traceback.

The tutorial quotes no figure from its runs, so a run of many crises is cut to
:data:`RUNS` here: the test checks that the command works, not its numbers (those are
checked where the docs quote them)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
INTERACTIVE = ("crisislab play",)
RUNS = 2000


def capped(args: list[str]) -> list[str]:
    """The arguments with ``--runs``/``-n`` at most :data:`RUNS`."""
    out = list(args)
    for i, a in enumerate(out[:-1]):
        if a in ("--runs", "-n") and out[i + 1].isdigit():
            out[i + 1] = str(min(int(out[i + 1]), RUNS))
    return out


def commands(path: Path) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [c for c in lines if c.startswith("crisislab ") and not c.startswith(INTERACTIVE)]


TUTORIAL = commands(DOCS / "tutorial.md")


def test_the_tutorial_has_examples() -> None:
    assert len(TUTORIAL) >= 8
    assert capped(["simulate", "x", "--runs", "20000", "-n", "5"]) == [
        "simulate",
        "x",
        "--runs",
        "2000",
        "-n",
        "5",
    ]


@pytest.mark.parametrize("command", TUTORIAL)
def test_tutorial_command_runs(command: str, tmp_path: Path) -> None:
    args = capped(shlex.split(command)[1:])
    env = {**os.environ, "CRISISLAB_DB": str(tmp_path / "runs.db"), "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "crisislab.cli", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.strip() or any(tmp_path.iterdir())
