"""``crisislab simulate`` and ``crisislab runs`` end to end, and bad input.

The real command runs in a subprocess (no traceback may reach the user); what-if cases
run in-process with a stand-in what-if module, since what-ifs come from another module.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import crisislab
from crisislab.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")
TIMING = ("elapsed_s", "execution", "run_id")


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("CRISISLAB_DB", str(path))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisislab.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def simulate_json(*args: str) -> dict[str, Any]:
    done = cli("simulate", MINI, "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_simulate_json_is_stored_and_listed(db: Path) -> None:
    doc = simulate_json(
        "--runs",
        "3000",
        "--seed",
        "4",
        "--agent",
        "red=random",
        "--param",
        "p_clash=0.3",
        "--workers",
        "2",
        "--chunk-size",
        "1000",
    )
    assert {"runs", "seed", "outcomes", "elapsed_s"} <= set(doc)
    assert doc["runs"] == 3000 and doc["seed"] == 4
    assert doc["agents"]["red"] == "random" and doc["agents"]["neutral"] == "scripted"
    assert doc["parameters"] == {"p_clash": 0.3}
    assert sum(o["p"] for o in doc["outcomes"].values()) == pytest.approx(1.0, abs=1e-12)
    for key in ("end_day", "peak_escalation", "war", "record"):
        assert key in doc
    assert isinstance(doc["run_id"], int)
    listed = cli("runs", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)["runs"]
    assert runs[0]["id"] == doc["run_id"]
    assert runs[0]["scenario"] == "mini@0.1.0" and runs[0]["runs"] == 3000
    assert runs[0]["seed"] == 4 and "red=random" in runs[0]["agents"]
    assert runs[0]["content_hash"] == doc["content_hash"]
    table = cli("runs")
    assert table.returncode == 0 and "mini@0.1.0" in table.stdout


def test_same_seed_same_json_across_worker_counts(db: Path) -> None:
    a = simulate_json(
        "--runs",
        "2500",
        "--seed",
        "8",
        "--agent",
        "blue=random",
        "--workers",
        "1",
        "--chunk-size",
        "600",
        "--no-store",
    )
    b = simulate_json(
        "--runs",
        "2500",
        "--seed",
        "8",
        "--agent",
        "blue=random",
        "--workers",
        "2",
        "--chunk-size",
        "600",
        "--no-store",
    )
    assert {k: v for k, v in a.items() if k not in TIMING} == {
        k: v for k, v in b.items() if k not in TIMING
    }
    assert a["run_id"] is None


def test_simulate_text_report(db: Path) -> None:
    done = cli("simulate", MINI, "--runs", "2000", "--seed", "1", "--agent", "red=random")
    assert done.returncode == 0, done.stderr
    for phrase in (
        "How the crisis ends",
        "The record: a crisis reproduces",
        "Peak escalation",
        "Hazard of war",
        "stored as run",
    ):
        assert phrase in done.stdout


def test_simulate_writes_a_plot(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "sim.png"
    done = cli("simulate", MINI, "--runs", "1000", "--no-store", "--plot", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(["--runs", "0"], "--runs must be at least 1", id="zero-runs"),
        pytest.param(["--seed", "-3"], "--seed must be", id="negative-seed"),
        pytest.param(["--agent", "red=telepath"], "unknown agent 'telepath'", id="unknown-agent"),
        pytest.param(["--agent", "green=random"], "not an acting actor", id="unknown-actor"),
        pytest.param(["--param", "p_clash"], "NAME=VALUE", id="param-no-value"),
        pytest.param(["--param", "nope=1"], "'nope' is not a parameter", id="unknown-param"),
        pytest.param(["--param", "p_clash=lots"], "not a number", id="param-not-number"),
        pytest.param(["--db", "not a url"], "cannot open the database", id="bad-db"),
        pytest.param(["--db", "nosuchdialect://x"], "cannot open the database", id="bad-dialect"),
        pytest.param(["--workers", "0"], "--workers must be", id="zero-workers"),
        pytest.param(["--plot", "out.bmp"], "format", id="bad-plot-suffix"),
    ],
)
def test_bad_input_is_one_clear_line(db: Path, args: list[str], says: str) -> None:
    done = cli("simulate", MINI, "--runs", "100", *args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert says in " ".join(done.stderr.split())
    assert done.stderr.lstrip().startswith("error:")


def test_bad_db_for_runs(db: Path) -> None:
    done = cli("runs", "--db", "nosuchdialect://x")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "cannot open the database" in done.stderr


# ---- what-ifs, through a stand-in module ------------------------------------------------------


class _WhatIf:
    def __init__(self, id: str, summary: str) -> None:
        self.id, self.summary = id, summary


def fake_whatifs() -> types.ModuleType:
    module = types.ModuleType("crisislab.whatifs")

    def list_what_ifs(scenario: Scenario) -> list[_WhatIf]:
        return [
            _WhatIf("calm_seas", "No clash at the line."),
            _WhatIf("quick_post", "Letters arrive at once."),
        ]

    def apply(scenario: Scenario, ids: list[str]) -> Scenario:
        values = {"calm_seas": {"p_clash": 0.0}, "quick_post": {"letter_delay": 0.0}}
        for wid in ids:
            scenario = scenario.with_parameters(**values[wid])
        return scenario

    module.list_what_ifs = list_what_ifs  # type: ignore[attr-defined]
    module.apply = apply  # type: ignore[attr-defined]
    return module


@pytest.fixture()
def whatifs(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    importlib.import_module("crisislab.cli")  # imported before the stand-in replaces it
    module = fake_whatifs()
    monkeypatch.setitem(sys.modules, "crisislab.whatifs", module)
    monkeypatch.setattr(crisislab, "whatifs", module, raising=False)
    return module


def run_app(*args: str) -> Any:
    from crisislab.cli import app

    return CliRunner().invoke(app, list(args))


def test_what_if_is_applied_and_recorded(db: Path, whatifs: types.ModuleType) -> None:
    result = run_app(
        "simulate",
        MINI,
        "--runs",
        "2000",
        "--what-if",
        "calm_seas",
        "--workers",
        "1",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["what_ifs"] == ["calm_seas"]
    assert doc["outcomes"]["war"]["count"] == 0  # no clash, so no war
    listed = json.loads(run_app("runs", "--format", "json").stdout)["runs"]
    assert listed[0]["what_ifs"] == "calm_seas"


def test_unknown_what_if_lists_the_known_ones(db: Path, whatifs: types.ModuleType) -> None:
    result = run_app("simulate", MINI, "--runs", "100", "--what-if", "hotline")
    assert result.exit_code != 0
    assert "unknown what-if 'hotline'" in result.output
    assert "calm_seas" in result.output


def test_the_text_report_speaks_in_names_and_dates() -> None:
    """What a reader sees names outcomes and actors as the scenario does and gives dates
    in words: no outcome or actor id, no turn label, no quantile key."""
    import re

    from crisislab.cli import app
    from crisislab.scenario.loader import load_scenario

    sc = load_scenario(MINI)
    r = CliRunner().invoke(
        app,
        [
            "simulate",
            MINI,
            "--runs",
            "3000",
            "--seed",
            "2",
            "--no-store",
            "--workers",
            "1",
            "--quiet",
            "--report",
            "detected",
        ],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    text = r.stdout
    for o in sc.outcomes:
        assert o.label in text
        assert not re.search(rf"│ {o.id}\b", text), o.id
    assert not re.search(r"\b(red|blue|neutral) [+-]\d", text)  # the mean payoffs
    assert not re.search(r"\d{4}-\d\d-\d\d( [ap]m)?", text)
    assert not re.search(r"(?<![\d.])0\d%", text) and "q05" not in text
    assert "5% by" in text
