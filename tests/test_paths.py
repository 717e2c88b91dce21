"""`crisislab paths`: crises grouped by the order of their key happenings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from crisislab.analysis.sample import leave_turn, order
from crisislab.cli import app

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def cuba_paths() -> dict[str, Any]:
    result = run(
        "paths", "cuba-1962", "--runs", "2000", "--seed", "1", "--format", "json", "--workers", "1"
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_shares_add_up_and_the_record_is_among_the_paths(cuba_paths: dict[str, Any]) -> None:
    doc = cuba_paths
    assert doc["crises"] == 2000 and doc["paths"] > 5
    counts = [p["count"] for p in doc["top"]]
    assert sum(counts) + doc["other"]["count"] == 2000
    assert sum(p["p"] for p in doc["top"]) + doc["other"]["p"] == pytest.approx(1.0)
    assert counts[:10] == sorted(counts[:10], reverse=True)
    (record,) = [p for p in doc["top"] if p["record"]]
    assert record["leaves_record"] is None and record["outcome"] == "settlement"
    assert record["steps"] == doc["record_path"]["steps"]
    assert record["count"] == doc["record_path"]["count"] > 0
    assert record["steps"][0]["id"] == "u2_discovers_missiles"
    assert {"usa_announce_quarantine", "ussr_public_acceptance"} <= {
        s["id"] for s in record["steps"]
    }
    for p in doc["top"]:
        if not p["record"]:
            # the spring and summer follow the record in every common path: departures
            # begin with the discovery, which may come a few days early or late
            assert p["leaves_record_date"] >= "1962-10-01"
        assert p["low"] <= p["p"] <= p["high"]


def test_where_keeps_only_the_matching_crises(cuba_paths: dict[str, Any]) -> None:
    result = run(
        "paths",
        "cuba-1962",
        "--runs",
        "2000",
        "--seed",
        "1",
        "--format",
        "json",
        "--workers",
        "1",
        "--where",
        "outcome == 'air_strike'",
        "--top",
        "3",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert len(doc["top"]) <= 4  # three, and the record's own with no crisis
    assert all(p["outcome"] == "air_strike" for p in doc["top"] if p["count"])
    whole = sum(p["count"] for p in cuba_paths["top"] if p["outcome"] == "air_strike")
    assert doc["crises"] >= whole > 0
    assert doc["record_path"]["count"] == 0


def test_text_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "paths.png"
    result = run(
        "paths", "cuba-1962", "--runs", "500", "--seed", "2", "--workers", "1", "--plot", str(plot)
    )
    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())
    assert "never: the record's" in words and "Kennedy:" in words
    assert "The record's own path (6 key happenings, then Negotiated settlement)" in words
    assert plot.stat().st_size > 10_000


def test_a_scenario_without_key_happenings_says_how_to_mark_them() -> None:
    result = run("paths", MINI, "--runs", "100")
    assert result.exit_code == 2
    assert "key: true" in result.output


@pytest.mark.parametrize(
    ("turns", "path"),
    [
        ([-1, 5, 3], (2, 1)),
        ([4, 4, -1], (0, 1)),  # the same turn: file order
        ([-1, -1, -1], ()),
    ],
)
def test_order_of_key_happenings(turns: list[int], path: tuple[int, ...]) -> None:
    assert order(np.array(turns)) == path


RECORD = (0, 1, 2)
RECORD_TURNS = {0: 10, 1: 20, 2: 30}


@pytest.mark.parametrize(
    ("path", "turns", "outcome", "end", "leaves"),
    [
        pytest.param((0, 1, 2), [10, 21, 30], 5, 40, -1, id="the record's path"),
        pytest.param((0, 1, 2), [10, 21, 30], 4, 40, 40, id="only the outcome differs"),
        pytest.param((0, 2), [10, -1, 25], 5, 40, 20, id="the record's next comes first"),
        pytest.param((0, 2), [10, -1, 15], 5, 40, 15, id="its own next comes first"),
        pytest.param((0,), [10, -1, -1], 3, 12, 12, id="ends before the record's next"),
        pytest.param((0, 1, 2, 3), [10, 20, 30, 35], 5, 50, 35, id="one more than the record"),
    ],
)
def test_the_turn_a_path_leaves_the_record(
    path: tuple[int, ...], turns: list[int], outcome: int, end: int, leaves: int
) -> None:
    assert leave_turn(path, np.array(turns), outcome, end, RECORD, RECORD_TURNS, 5) == leaves
