"""Invariants that must hold for any seed and any parameters in their ranges."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisislab.agents.historical import RandomAgent
from crisislab.engine.engine import Engine
from crisislab.engine.state import BatchState
from crisislab.runner import BatchResult, run_batch, start_batch
from crisislab.scenario.loader import builtin_ids, load_scenario
from crisislab.scenario.model import Scenario
from tests.strategies import parameter_values, seeds

MINI = Path(__file__).parent / "data" / "mini.yaml"
SCENARIOS = [str(MINI), *builtin_ids()]


@functools.cache
def _load(ref: str) -> Scenario:
    """Loaded once per scenario: a scenario is immutable, and loading cuba-1962 costs
    about a second, which each example would otherwise pay."""
    return load_scenario(ref)


def check_bounds(sc: Scenario, values: np.ndarray) -> None:
    for v in sc.variables:
        row = values[v.index]
        assert (row >= v.low).all() and (row <= v.high).all(), v.id
        if v.type in ("int", "enum", "bool"):
            assert np.array_equal(row, np.rint(row)), v.id


@pytest.mark.parametrize("ref", SCENARIOS)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), seed=seeds)
def test_bounds_never_broken(ref: str, data: st.DataObject, seed: int) -> None:
    sc = _load(ref)
    sc = sc.with_parameters(**data.draw(parameter_values(sc)))
    engine = Engine(sc)
    state = start_batch(engine, 64, seed)
    agents = {a: RandomAgent(sc, a) for a in sc.players}
    check_bounds(sc, state.values)
    while not state.done.all():
        engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in sc.players})
        check_bounds(sc, state.values)
        assert (state.peak >= state.escalation).all()
    assert (state.outcome >= 0).all()
    assert (state.end_turn < len(sc.clock)).all()


@pytest.mark.parametrize("ref", SCENARIOS)
@settings(max_examples=25, deadline=None)
@given(seed=seeds, i=st.integers(min_value=0, max_value=9_000))
def test_crisis_alone_equals_crisis_in_batch(ref: str, seed: int, i: int) -> None:
    sc = _load(ref)
    agents = {a: RandomAgent(sc, a) for a in sc.players}
    ids = np.arange(i - i % 16, i - i % 16 + 16)
    batch = run_batch(sc, agents, 16, seed=seed, crisis_ids=ids)
    alone = run_batch(sc, agents, 1, seed=seed, crisis_ids=np.array([i]))
    j = i % 16
    assert alone.outcome[0] == batch.outcome[j]
    assert alone.end_turn[0] == batch.end_turn[j]
    assert np.array_equal(alone.payoffs[:, 0], batch.payoffs[:, j])


@pytest.mark.parametrize("ref", SCENARIOS)
@settings(max_examples=25, deadline=None)
@given(seed=seeds, actor_index=st.integers(min_value=0, max_value=10), turns=st.integers(0, 40))
def test_observations_never_depend_on_hidden_values(
    ref: str, seed: int, actor_index: int, turns: int
) -> None:
    """Two crises that differ only in what an actor cannot see look the same to it."""
    sc = _load(ref)
    actor = sc.actors[actor_index % len(sc.actors)]
    engine = Engine(sc)
    state = start_batch(engine, 1, seed)
    agents = {a: RandomAgent(sc, a) for a in sc.players}
    for _ in range(turns):
        if state.done.all():
            break
        engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in sc.players})
    if state.done.all():
        return
    twin = state.select(np.array([0, 0]))
    obs = engine.observe(twin, actor)
    rng = np.random.default_rng(seed)
    for v in sc.variables:
        if v.derived or v.id in obs.known and obs.known[v.id][1]:
            continue
        # scramble a value the actor cannot see now, in crisis 1 only
        twin.values[v.index, 1] = (
            rng.choice(np.arange(v.low, v.high + 1))
            if v.type != "float"
            else rng.uniform(v.low, v.high)
        )
    after = engine.observe(twin, actor)
    assert after.row(1) == obs.row(0)
    assert np.array_equal(after.legal[1], obs.legal[0])


def assert_same_results(a: BatchResult, b: BatchResult) -> None:
    """Every crisis ended the same way, on the same turn, at the same peak and payoffs."""
    assert np.array_equal(a.outcome, b.outcome)
    assert np.array_equal(a.end_turn, b.end_turn)
    assert np.array_equal(a.peak_escalation, b.peak_escalation)
    assert np.allclose(a.payoffs, b.payoffs)


def played(
    sc: Scenario, agents: dict, n: int, seed: int, lumped: bool
) -> tuple[BatchResult, BatchState]:
    """``n`` crises played to their end; their results and the final state."""
    from crisislab.engine.loop import play_out
    from crisislab.runner import result_of

    engine = Engine(sc)
    state = start_batch(engine, n, seed, lumped=lumped)
    play_out(engine, state, agents)
    return result_of(sc, state, seed), state


@pytest.mark.parametrize("ref", SCENARIOS)
@settings(max_examples=15, deadline=None)
@given(data=st.data(), seed=seeds)
def test_lumped_batch_equals_crisis_by_crisis(ref: str, data: st.DataObject, seed: int) -> None:
    """Stepping crises that share a history as one row changes no crisis's result."""
    from crisislab.runner import historical_agents

    sc = _load(ref)
    sc = sc.with_parameters(**data.draw(parameter_values(sc)))
    agents = historical_agents(sc)
    plain, _ = played(sc, agents, 400, seed, lumped=False)
    lumped_result, _ = played(sc, agents, 400, seed, lumped=True)
    assert_same_results(plain, lumped_result)


@pytest.mark.parametrize("ref", SCENARIOS)
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=seeds)
def test_compacting_ended_rows_changes_no_result(
    ref: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropping ended rows of a lumped batch (as soon as there are any) keeps every
    crisis's result, and the crises still running draw the same chance."""
    import crisislab.engine.engine as engine_module
    from crisislab.agents.registry import parse_seats
    from crisislab.runner import complete_agents

    sc = _load(ref)
    agents = parse_seats([f"{a}=political" for a in sc.players if sc.role(a) == "player"], sc)
    seated = complete_agents(sc, agents)
    monkeypatch.setattr(engine_module, "COMPACT_MIN_ROWS", 10**9)
    kept, state = played(sc, seated, 300, seed, lumped=True)
    assert state.archive is None
    monkeypatch.setattr(engine_module, "COMPACT_MIN_ROWS", 1)
    compacted, state = played(sc, seated, 300, seed, lumped=True)
    assert state.archive is not None
    assert_same_results(kept, compacted)


@pytest.mark.parametrize("ref", SCENARIOS)
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=seeds)
def test_merging_rows_that_met_again_changes_no_result(
    ref: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Joining rows whose states became equal again (here after every turn) keeps every
    crisis's result, as stepping every crisis on its own does."""
    import crisislab.engine.engine as engine_module
    from crisislab.runner import historical_agents

    sc = _load(ref)
    agents = historical_agents(sc)
    plain, _ = played(sc, agents, 300, seed, lumped=False)
    monkeypatch.setattr(engine_module, "COMPACT_MIN_ROWS", 1)
    monkeypatch.setattr(engine_module, "MERGE_GROWTH", 1.0)
    merged_result, _ = played(sc, agents, 300, seed, lumped=True)
    assert_same_results(plain, merged_result)


def test_rows_of_cuba_meet_again_and_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """The property above exercises the merge: in 300 crises of seed 1 rows do meet again
    and are joined, with every result kept. (Whether rows meet depends on the seed: for
    some seeds none do, so this is checked on a seed known to merge.)"""
    import crisislab.engine.engine as engine_module
    from crisislab.runner import historical_agents

    sc = _load("cuba-1962")
    agents = historical_agents(sc)
    plain, _ = played(sc, agents, 300, 1, lumped=False)
    monkeypatch.setattr(engine_module, "COMPACT_MIN_ROWS", 1)
    monkeypatch.setattr(engine_module, "MERGE_GROWTH", 1.0)
    merged_result, state = played(sc, agents, 300, 1, lumped=True)
    assert state.rows_merged > 0
    assert_same_results(plain, merged_result)
