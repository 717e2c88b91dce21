"""``crisislab compare``: columns side by side, differences with intervals, plots."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crisislab.analysis.compare import compare
from crisislab.analysis.simulate import AnalysisError, Variant, seat_specs, simulate
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


def test_differences_are_column_minus_baseline_with_intervals(mini: Scenario) -> None:
    base = Variant("baseline", seat_specs(mini, []))
    calm = Variant("calm", seat_specs(mini, []), parameters=(("p_clash", 0.0),))
    rnd = Variant("random red", seat_specs(mini, ["red=random"]))
    comp = compare(mini, [base, calm, rnd], runs=3000, seed=4, workers=1)
    diffs = comp.differences()
    assert list(diffs) == ["calm", "random red"]
    for label, summary in zip(("calm", "random red"), comp.summaries[1:], strict=True):
        for oid, d in diffs[label].items():
            p = summary["outcomes"][oid]["p"]
            p0 = comp.summaries[0]["outcomes"][oid]["p"]
            assert d["d"] == pytest.approx(p - p0)
            assert d["low"] <= d["d"] <= d["high"]
    # with no clash there is no war: the difference is the whole baseline war share
    assert comp.summaries[1]["outcomes"]["war"]["count"] == 0
    assert diffs["calm"]["war"]["high"] < 0
    # a column is the same as simulating it alone (same crisis ids, same seed)
    alone = simulate(mini, 3000, seed=4, variant=rnd, workers=1)
    # (simulate also follows where its wars came from and counts the crises its --where
    # matches, which compare does not show)
    assert dataclasses.replace(alone.aggregate, origins={}, matched=0) == comp.aggregates[2]


def test_compare_refuses_one_column_and_duplicate_labels(mini: Scenario) -> None:
    base = Variant("baseline", seat_specs(mini, []))
    with pytest.raises(AnalysisError, match="at least two"):
        compare(mini, [base], runs=10)
    with pytest.raises(AnalysisError, match="same label"):
        compare(mini, [base, base], runs=10)


def test_compare_cli_json_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "compare.svg"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crisislab.cli",
            "compare",
            MINI,
            "--runs",
            "2000",
            "--lineup",
            "red=random",
            "--lineup",
            "red=random;blue=random",
            "--format",
            "json",
            "--workers",
            "2",
            "--plot",
            str(plot),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [c["label"] for c in doc["columns"]] == [
        "baseline",
        "red=random",
        "red=random blue=random",
    ]
    assert doc["columns"][2]["agents"]["blue"] == "random"
    assert set(doc["differences"]) == {"red=random", "red=random blue=random"}
    for col in doc["columns"]:
        assert sum(o["p"] for o in col["outcomes"].values()) == pytest.approx(1.0)
    assert plot.read_text().lstrip().startswith("<?xml")


def test_compare_cli_needs_columns() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crisislab.cli", "compare", MINI],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "nothing to compare" in done.stderr
