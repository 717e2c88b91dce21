"""The reference scenario at a modest scale: 20,000 crises of ``cuba-1962``."""

from __future__ import annotations

import json

import pytest

from crisislab.analysis.simulate import Plan, Variant, run_plan, seat_specs, simulate
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

RUNS = 20_000


@pytest.fixture(scope="module")
def cuba() -> Scenario:
    return load_scenario("cuba-1962")


def test_cuba_serial_and_multicore_identical(cuba: Scenario) -> None:
    one = simulate(cuba, RUNS, seed=1, workers=1, chunk_size=8192)
    two = simulate(cuba, RUNS, seed=1, workers=2, chunk_size=5000)
    a, b = one.to_json(), two.to_json()
    for doc in (a, b):
        doc.pop("elapsed_s")
        doc.pop("execution")
    assert json.dumps(a) == json.dumps(b)
    outcomes = a["outcomes"]
    assert set(outcomes) == {o.id for o in cuba.outcomes}
    assert sum(o["p"] for o in outcomes.values()) == pytest.approx(1.0, abs=1e-12)
    assert sum(o["count"] for o in outcomes.values()) == RUNS
    for o in outcomes.values():
        assert o["low"] <= o["p"] <= o["high"]
    # war is read off the escalation scale: the air strike is its lowest rung
    assert a["war"]["threshold"] == cuba.outcome("air_strike").escalation
    violent = sum(
        outcomes[k]["count"]
        for k in (
            "strategic_exchange",
            "tactical_nuclear",
            "conventional_war",
            "invasion",
            "air_strike",
        )
    )
    assert a["war"]["count"] >= violent
    record = a["record"]
    assert record["tolerance_days"] == 3.0
    assert record["low"] <= record["mean"] <= record["high"]
    assert sum(d["count"] for d in record["distribution"]) == RUNS
    # every crisis replays the same record up to the discovery, whose date is chance
    first = record["steps"][0]
    assert first["count"] == RUNS and first["action"] == "ussr_decide_deploy"


def test_cuba_doctrines_chunking_does_not_matter(cuba: Scenario) -> None:
    variant = Variant(seats=seat_specs(cuba, ["usa=hawk", "ussr=dove"]))
    a = run_plan(Plan(cuba, (variant,), 6000, 3, chunk_size=6000), workers=1)
    b = run_plan(Plan(cuba, (variant,), 6000, 3, chunk_size=1024), workers=1)
    assert a == b
