"""Simulation at scale: exact chunked aggregation, intervals, reproducibility, storage.

Most cases run the toy scenario ``tests/data/mini.yaml`` with a few thousand crises cut
into small chunks, so that chunking, merging and the process pool are all exercised.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.analysis.aggregate import Aggregate, Layout, merge_all
from crisislab.analysis.simulate import (
    AnalysisError,
    Plan,
    Variant,
    build,
    run_chunk,
    run_plan,
    seat_specs,
    simulate,
)
from crisislab.analysis.stats import newcombe_difference, quantile_index, wilson
from crisislab.engine.loop import decide
from crisislab.runner import run_batch
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini.yaml"

TIMING = ("elapsed_s", "execution", "run_id")


def strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in TIMING}


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(str(MINI))


def lineup(sc: Scenario, *seats: str) -> tuple[Scenario, dict[str, Any], Variant]:
    variant = Variant(seats=seat_specs(sc, list(seats)))
    scenario, agents = build(sc, variant)
    return scenario, agents, variant


# ---- intervals -------------------------------------------------------------------------------

# Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17 (1998), table II, method 3 (Wilson score).
WILSON_CASES = [
    pytest.param(81, 263, 0.2553, 0.3662, id="81/263"),
    pytest.param(15, 148, 0.0624, 0.1605, id="15/148"),
    pytest.param(0, 20, 0.0, 0.1611, id="0/20"),
    pytest.param(1, 29, 0.0061, 0.1718, id="1/29"),
]


@pytest.mark.parametrize(("count", "n", "low", "high"), WILSON_CASES)
def test_wilson_matches_published_values(count: int, n: int, low: float, high: float) -> None:
    got = wilson(count, n)
    assert got == pytest.approx((low, high), abs=5e-5)


# Newcombe, "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17 (1998), table II, method 10.
@pytest.mark.parametrize(
    ("c1", "n1", "c2", "n2", "low", "high"),
    [
        pytest.param(56, 70, 48, 80, 0.0524, 0.3339, id="56/70-48/80"),
        pytest.param(9, 10, 3, 10, 0.1705, 0.8090, id="9/10-3/10"),
    ],
)
def test_newcombe_difference_matches_published_values(
    c1: int, n1: int, c2: int, n2: int, low: float, high: float
) -> None:
    d, lo, hi = newcombe_difference(c1, n1, c2, n2)
    assert d == pytest.approx(c1 / n1 - c2 / n2)
    assert (lo, hi) == pytest.approx((low, high), abs=5e-5)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**9).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_p_and_stays_in_unit_range(case: tuple[int, int]) -> None:
    count, n = case
    low, high = wilson(count, n)
    assert 0.0 <= low <= count / n <= high <= 1.0


def test_quantile_of_a_histogram() -> None:
    assert quantile_index([0, 3, 0, 1], 0.5) == 1
    assert quantile_index([0, 3, 0, 1], 0.9) == 3
    assert quantile_index([0, 3, 0, 1], 0.0) == 1


# ---- aggregation -----------------------------------------------------------------------------


def test_chunked_merge_equals_one_big_batch(mini: Scenario) -> None:
    sc, agents, _ = lineup(mini, "red=random", "blue=random")
    whole = run_chunk(sc, agents, 7, 0, 3000)
    parts = [
        run_chunk(sc, agents, 7, a, b)
        for a, b in ((0, 1000), (1000, 1001), (1001, 2500), (2500, 3000))
    ]
    assert merge_all(parts) == whole
    assert merge_all(parts[::-1]) == whole  # exact: order does not matter


def test_chunk_agrees_with_the_engines_run_batch(mini: Scenario) -> None:
    sc, agents, _ = lineup(mini, "red=random")
    agg = run_chunk(sc, agents, 3, 100, 2100)
    batch = run_batch(sc, agents, 2000, seed=3, crisis_ids=np.arange(100, 2100))
    layout = Layout.of(sc)
    counts = np.bincount(batch.outcome, minlength=len(layout.outcomes))
    assert agg.outcome_counts.tolist() == counts.tolist()
    assert agg.end_counts.tolist() == np.bincount(batch.end_turn, minlength=layout.n_turns).tolist()
    assert (
        agg.peak.tolist()
        == np.bincount(
            np.rint(batch.peak_escalation).astype(int), minlength=layout.n_levels
        ).tolist()
    )
    assert float(agg.payoff_sums[0]) == pytest.approx(batch.payoffs[0].sum())


def test_results_do_not_depend_on_chunking_or_workers(mini: Scenario) -> None:
    variant = lineup(mini, "red=random")[2]
    serial = run_plan(Plan(mini, (variant,), 4000, 11, chunk_size=4000), workers=1)
    chunked = run_plan(Plan(mini, (variant,), 4000, 11, chunk_size=700), workers=1)
    pooled = run_plan(Plan(mini, (variant,), 4000, 11, chunk_size=700), workers=2)
    assert serial == chunked == pooled


def test_serial_and_multicore_json_identical(mini: Scenario) -> None:
    variant = lineup(mini, "blue=random")[2]
    one = simulate(mini, 3000, seed=5, variant=variant, workers=1, chunk_size=1000)
    two = simulate(mini, 3000, seed=5, variant=variant, workers=2, chunk_size=1000)
    assert json.dumps(strip(one.to_json())) == json.dumps(strip(two.to_json()))


def test_aggregate_size_does_not_grow_with_runs(mini: Scenario) -> None:
    sc, agents, _ = lineup(mini, "red=random")
    small = run_chunk(sc, agents, 1, 0, 100)
    big = merge_all([run_chunk(sc, agents, 1, a, a + 5000) for a in range(0, 40000, 5000)])
    assert big.n == 400 * small.n
    for name in ("ends", "peak", "war_onset", "peace_end"):
        assert getattr(big, name).nbytes == getattr(small, name).nbytes
    # only the integers' digits grow, logarithmically
    assert len(pickle.dumps(big)) < len(pickle.dumps(small)) + 200


def test_war_hazard_bookkeeping(mini: Scenario) -> None:
    sim = simulate(
        mini, 5000, seed=2, variant=lineup(mini, "red=random", "blue=random")[2], workers=1
    )
    agg, s = sim.aggregate, sim.summary
    assert int(agg.war_onset.sum()) == s["war"]["count"]
    # in mini every war ends in the outcome 'war' and no war outcome comes without war
    assert s["war"]["count"] == s["outcomes"]["war"]["count"]
    at_risk = [h["at_risk"] for h in s["war"]["hazard"]]
    assert at_risk == sorted(at_risk, reverse=True) and at_risk[0] == 5000
    for h in s["war"]["hazard"]:
        assert h["low"] <= h["hazard"] <= h["high"]
    assert sum(h["count"] for h in s["end_day"]["histogram"]) == 5000
    assert sum(lv["count"] for lv in s["peak_escalation"]["distribution"]) == 5000


def test_at_risk_counts_crises_neither_ended_nor_at_war(mini: Scenario) -> None:
    layout = Layout.of(mini)
    deal, war = mini.outcome("deal").index, mini.outcome("war").index
    agg = Aggregate.of_crises(
        layout,
        None,
        outcome=np.array([deal, deal, deal, war]),
        end_turn=np.array([6, 7, 5, 7]),
        peak=np.array([5.0, 5.0, 5.0, 9.0]),
        war_onset=np.array([-1, -1, -1, 7]),
        payoffs=np.zeros((3, 4)),
    )
    assert agg.at_risk()[7] == 2 and agg.war_onset[7] == 1


# ---- the result as a whole ---------------------------------------------------------------------


def test_probabilities_sum_to_one_with_intervals(mini: Scenario) -> None:
    sim = simulate(mini, 4000, seed=9, workers=1)
    doc = sim.to_json()
    assert {"runs", "seed", "outcomes", "elapsed_s"} <= set(doc)
    assert doc["runs"] == 4000 and doc["seed"] == 9
    total = sum(o["p"] for o in doc["outcomes"].values())
    assert total == pytest.approx(1.0, abs=1e-12)
    assert sum(o["count"] for o in doc["outcomes"].values()) == 4000
    for o in doc["outcomes"].values():
        assert o["low"] <= o["p"] <= o["high"]


def test_same_seed_same_result_other_seed_consistent(mini: Scenario) -> None:
    variant = lineup(mini, "red=random", "blue=random")[2]
    a = simulate(mini, 20000, seed=1, variant=variant, workers=1)
    b = simulate(mini, 20000, seed=1, variant=variant, workers=1)
    c = simulate(mini, 20000, seed=2, variant=variant, workers=1)
    assert strip(a.to_json()) == strip(b.to_json())
    assert a.aggregate != c.aggregate
    for oid, o in a.summary["outcomes"].items():
        q = c.summary["outcomes"][oid]
        d, low, high = newcombe_difference(o["count"], 20000, q["count"], 20000)
        # two samples of the same model: the difference is noise (a 5-sigma margin)
        assert abs(d) <= 2.6 * max(high - d, d - low) + 1e-12, oid


@pytest.mark.parametrize(
    ("runs", "seed", "backend", "message"),
    [
        (0, 1, "local", "runs"),
        (10, -1, "local", "seed"),
        (10, 1, "spark", "backend"),
    ],
)
def test_bad_plans_are_refused(
    mini: Scenario, runs: int, seed: int, backend: str, message: str
) -> None:
    with pytest.raises(AnalysisError, match=message):
        run_plan(Plan(mini, (Variant(),), runs, seed), backend=backend)


def test_engine_notes_the_turn_war_broke_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's watch level gives each crisis the first turn its peak escalation
    reached war, as following every crisis's peak turn by turn does, in a lumped batch
    that splits, merges and drops ended rows (here as soon as it can)."""
    import crisislab.engine.engine as engine_module
    from crisislab.analysis.aggregate import Layout
    from crisislab.engine.engine import Engine
    from crisislab.runner import start_batch
    from crisislab.scenario.loader import load_scenario

    monkeypatch.setattr(engine_module, "COMPACT_MIN_ROWS", 1)
    monkeypatch.setattr(engine_module, "MERGE_GROWTH", 1.0)
    sc = load_scenario("cuba-1962")
    _, agents, _ = lineup(sc)  # historical: wars are rare, but crises split and rejoin
    level = Layout.of(sc).war_level
    engine = Engine(sc, watch=level)
    state = start_batch(engine, 6_000, seed=4, lumped=True)
    onset = np.full(6_000, -1)
    while not state.done.all():
        turn = state.turn
        engine.step(state, decide(engine, state, agents))
        war = state.crisis_field("peak") >= level
        onset[war & (onset < 0)] = turn
    assert (onset >= 0).sum() > 100  # enough wars to test
    assert state.archive is not None and state.rows_merged > 0  # both were exercised
    assert np.array_equal(state.crisis_field("reached"), onset)
