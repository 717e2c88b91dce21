"""``crisislab sensitivity``: one-at-a-time and Sobol sweeps over parameter ranges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crisislab.analysis.sensitivity import planned_points, sensitivity, target_outcomes
from crisislab.analysis.simulate import AnalysisError, Variant, seat_specs
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


def test_targets_default_to_nuclear_outcomes(mini: Scenario) -> None:
    cuba = load_scenario("cuba-1962")
    assert target_outcomes(cuba) == ("strategic_exchange", "tactical_nuclear")
    assert target_outcomes(mini) == ("war",)  # no nuclear outcome: the most escalated
    with pytest.raises(AnalysisError, match="not an outcome"):
        target_outcomes(mini, ["peace"])


def test_one_at_a_time_ranks_the_clash_hazard_first(mini: Scenario) -> None:
    base = Variant(seats=seat_specs(mini, ["red=random"]))
    sens = sensitivity(mini, base, runs_per_point=2000, method="oat", seed=1, workers=1)
    assert sens.points == planned_points(3, 0, "oat") == 7
    ranked = [r.parameter for r in sens.oat]
    assert ranked[0] == "p_clash"
    clash = sens.oat[0]
    assert clash.p_low == 0.0  # a clash hazard of 0 leaves no way to war
    assert clash.p_high > sens.baseline["p"] > clash.p_low
    assert [r.swing for r in sens.oat] == sorted((r.swing for r in sens.oat), reverse=True)


def test_fixed_parameters_are_not_swept(mini: Scenario) -> None:
    base = Variant(seats=seat_specs(mini, []), parameters=(("p_clash", 0.3),))
    sens = sensitivity(mini, base, runs_per_point=200, method="oat", workers=1)
    assert "p_clash" not in {r.parameter for r in sens.oat}


def test_sobol_indices(mini: Scenario) -> None:
    base = Variant(seats=seat_specs(mini, ["red=random"]))
    sens = sensitivity(
        mini, base, runs_per_point=1000, samples=16, method="sobol", seed=2, workers=2
    )
    assert sens.points == 1 + 16 * (3 + 2)
    assert {r.parameter for r in sens.sobol} == {"p_clash", "p_detect", "letter_delay"}
    clash = next(r for r in sens.sobol if r.parameter == "p_clash")
    assert clash.st > 0.05
    with pytest.raises(AnalysisError, match="power of two"):
        sensitivity(mini, base, runs_per_point=10, samples=10, method="sobol")


def test_sensitivity_cli_json_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "tornado.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crisislab.cli",
            "sensitivity",
            MINI,
            "--runs-per-point",
            "300",
            "--method",
            "both",
            "--samples",
            "4",
            "--agent",
            "red=random",
            "--format",
            "json",
            "--plot",
            str(plot),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["target"] == ["war"]
    assert doc["points"] == 1 + 2 * 3 + 4 * 5 and doc["runs"] == doc["points"] * 300
    assert len(doc["one_at_a_time"]) == 3 and len(doc["sobol"]) == 3
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_sensitivity_cli_bad_outcome() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crisislab.cli", "sensitivity", MINI, "--outcome", "peace"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "'peace' is not an outcome" in done.stderr


def test_sobol_intervals_are_clipped_to_0_1_and_wide_ones_flagged(mini: Scenario) -> None:
    base = Variant(seats=seat_specs(mini, ["red=random"]))
    sens = sensitivity(mini, base, runs_per_point=200, samples=4, method="sobol", seed=2, workers=1)
    doc = sens.to_json()
    for row in doc["sobol"]:
        for key in ("S1_interval", "ST_interval"):
            low, high = row[key]
            assert 0.0 <= low <= high <= 1.0
        assert 0.0 <= row["ST"] <= 1.0
        assert row["resolved"] == (row["ST"] > 0 and row["ST_conf"] < row["ST"])
    # resolved indices are listed first
    flags = [row["resolved"] for row in doc["sobol"]]
    assert flags == sorted(flags, reverse=True)


def test_default_sizes_rank_rare_outcomes() -> None:
    """1,024 crises a point left most parameters at zero swing; the defaults are larger,
    and one-at-a-time (cheap, paired by common random numbers) is the default method."""
    import inspect

    from crisislab.analysis.sensitivity import RUNS_PER_POINT, SAMPLES

    params = inspect.signature(sensitivity).parameters
    assert params["runs_per_point"].default == RUNS_PER_POINT >= 16_384
    assert params["samples"].default == SAMPLES >= 64
