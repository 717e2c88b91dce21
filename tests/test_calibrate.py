"""Calibration targets as data, and ``crisislab calibrate``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crisislab.analysis.calibrate import (
    calibrate,
    read_parameter_file,
    reports_for,
    targets_of,
    write_parameter_file,
)
from crisislab.analysis.simulate import AnalysisError, Variant, seat_specs
from crisislab.scenario.loader import load_scenario, load_text
from crisislab.scenario.model import Scenario
from crisislab.scenario.problems import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini.yaml"


@pytest.fixture(scope="module")
def cuba() -> Scenario:
    return load_scenario("cuba-1962")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisislab.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_cuba_declares_the_four_targets_with_sources(cuba: Scenario) -> None:
    targets = {t.id: t for t in targets_of(cuba)}
    assert {"discovery", "highest_us_readiness", "end_of_crisis", "probability_of_war"} <= set(
        targets
    )
    assert str(targets["discovery"].range[0]) == "1962-10-14"
    assert targets["highest_us_readiness"].range == (2.0, 2.0)
    assert targets["probability_of_war"].range[1] == 0.5  # Kennedy's "even"
    for t in targets.values():
        assert t.cite or t.references
    assert reports_for(list(targets.values()))[:2] == ("when missiles_detected", "us_defcon")


def _mini_with(target: str) -> str:
    return MINI.read_text(encoding="utf-8") + "calibration:\n" + target


GOOD = """  - id: found
    label: The buildup is found
    measure: first_date
    when: detected
    range: [1962-10-01, 1962-10-03]
    references:
      - title: A test reference
        locator: p. 1
"""


def test_a_scenario_may_declare_targets_and_bad_ones_are_clear_errors() -> None:
    sc = load_text(_mini_with(GOOD))
    assert targets_of(sc)[0].id == "found"
    with pytest.raises(ScenarioError, match="unknown variable"):
        load_text(
            _mini_with(
                GOOD.replace("first_date", "highest")
                .replace("when: detected", "variable: nothing")
                .replace("[1962-10-01, 1962-10-03]", "[1, 2]")
            )
        )
    with pytest.raises(ScenarioError, match="two dates"):
        load_text(_mini_with(GOOD.replace("[1962-10-01, 1962-10-03]", "[1, 2]")))
    with pytest.raises(ScenarioError, match="needs its source"):
        load_text(_mini_with(GOOD.split("    references:")[0]))
    with pytest.raises(AnalysisError, match="no calibration targets"):
        targets_of(load_scenario(str(MINI)))


def test_calibrate_measures_each_target(cuba: Scenario) -> None:
    variant = Variant(seats=seat_specs(cuba, []))
    cal = calibrate(cuba, variant, 4000, 1, workers=1)
    by_id = {r.target.id: r for r in cal.results}
    war = by_id["probability_of_war"]
    assert war.low <= war.value <= war.high
    assert war.holds == (0.01 <= war.value <= 0.5)
    end = by_id["end_of_crisis"]
    assert end.low <= end.value <= end.high
    doc = cal.to_json()
    assert [t["id"] for t in doc["targets"]] == [t.id for t in targets_of(cuba)]
    assert doc["holding"] == sum(r.holds for r in cal.results)
    json.dumps(doc)


def test_fit_changes_only_assumptions_within_their_ranges(cuba: Scenario) -> None:
    variant = Variant(seats=seat_specs(cuba, []))
    only = ["p_detect_base"] if "p_detect_base" in cuba.parameters else None
    names = only or [p.id for p in cuba.spec.parameters if p.assumption][:2]
    cal = calibrate(
        cuba, variant, 2000, 1, workers=1, fit=True, fit_runs=1000, passes=1, only=names
    )
    assert cal.loss_before is not None and cal.evaluations > 1
    ranges = {p.id: p.range for p in cuba.spec.parameters}
    for name, (_, now) in cal.fitted.items():
        assert name in names and ranges[name][0] <= now <= ranges[name][1]
    with pytest.raises(AnalysisError, match="not assumptions"):
        calibrate(cuba, variant, 100, 1, workers=1, fit=True, only=["missiles_planned"])


def test_parameter_files_round_trip(tmp_path: Path, cuba: Scenario) -> None:
    variant = Variant(seats=seat_specs(cuba, []), parameters=(("buildup_days", 70.0),))
    cal = calibrate(cuba, variant, 500, 1, workers=1)
    path = tmp_path / "fitted.yaml"
    write_parameter_file(path, cal)
    assert read_parameter_file(path) == {"buildup_days": 70.0}
    bad = tmp_path / "bad.yaml"
    bad.write_text("buildup_days: lots\n", encoding="utf-8")
    with pytest.raises(AnalysisError, match="should be a number"):
        read_parameter_file(bad)


def test_calibrate_command_and_simulate_params(tmp_path: Path) -> None:
    done = cli("calibrate", "cuba-1962", "--runs", "2000", "--seed", "1")
    assert done.returncode == 0, done.stderr
    words = " ".join(done.stdout.split())
    assert "targets hold" in words and "The United States finds the missiles" in words
    doc = json.loads(cli("calibrate", "cuba-1962", "--runs", "2000", "--format", "json").stdout)
    assert {"model", "interval", "target", "holds"} <= set(doc["targets"][0])
    params = tmp_path / "p.yaml"
    params.write_text("buildup_days: 70\n", encoding="utf-8")
    sim = cli(
        "simulate",
        "cuba-1962",
        "--runs",
        "500",
        "--no-store",
        "--params",
        str(params),
        "--format",
        "json",
    )
    assert sim.returncode == 0, sim.stderr
    assert json.loads(sim.stdout)["parameters"] == {"buildup_days": 70.0}
    missing = cli("calibrate", str(MINI), "--runs", "10")
    assert missing.returncode == 2 and "no calibration targets" in missing.stderr
