"""The engine's rules on a toy scenario: determinism, batch identity, information, letters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crisislab.agents.historical import HistoricalAgent, RandomAgent
from crisislab.engine.engine import Engine, IllegalAction
from crisislab.engine.loop import play_out
from crisislab.runner import historical_agents, run_batch, start_batch
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

MINI = Path(__file__).parent / "data" / "mini.yaml"


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


def random_agents(sc: Scenario) -> dict:
    return {a: RandomAgent(sc, a) for a in ("red", "blue")}


def test_same_seed_same_results(mini: Scenario) -> None:
    a = run_batch(mini, random_agents(mini), 500, seed=7)
    b = run_batch(mini, random_agents(mini), 500, seed=7)
    assert np.array_equal(a.outcome, b.outcome)
    assert np.array_equal(a.end_turn, b.end_turn)
    assert np.array_equal(a.payoffs, b.payoffs)


def test_different_seeds_differ(mini: Scenario) -> None:
    a = run_batch(mini, random_agents(mini), 500, seed=7)
    b = run_batch(mini, random_agents(mini), 500, seed=8)
    assert not np.array_equal(a.end_turn, b.end_turn)


def test_crisis_alone_equals_crisis_in_batch(mini: Scenario) -> None:
    batch = run_batch(mini, random_agents(mini), 300, seed=11)
    for i in (0, 1, 57, 299):
        alone = run_batch(mini, random_agents(mini), 1, seed=11, crisis_ids=np.array([i]))
        assert alone.outcome[0] == batch.outcome[i]
        assert alone.end_turn[0] == batch.end_turn[i]
        assert alone.peak_escalation[0] == batch.peak_escalation[i]
        assert np.array_equal(alone.payoffs[:, 0], batch.payoffs[:, i])
    # and in another chunk of the same run
    chunk = run_batch(mini, random_agents(mini), 100, seed=11, crisis_ids=np.arange(200, 300))
    assert np.array_equal(chunk.outcome, batch.outcome[200:])
    assert np.array_equal(chunk.end_turn, batch.end_turn[200:])


def test_every_crisis_ends_with_one_outcome(mini: Scenario) -> None:
    result = run_batch(mini, random_agents(mini), 2000, seed=3)
    assert (result.outcome >= 0).all()
    assert set(result.outcome_names()) <= {"war", "deal", "standoff"}
    # the default outcome ends crises on the last turn only
    standoff = mini.outcome("standoff").index
    assert (result.end_turn[result.outcome == standoff] == len(mini.clock) - 1).all()


def test_history_mode_replays_the_track(mini: Scenario) -> None:
    engine = Engine(mini, chance="history")
    state = start_batch(engine, 1, seed=0)
    steps = play_out(engine, state, historical_agents(mini))
    assert mini.outcomes[int(state.outcome[0])].id == "deal"
    # the discovery fired exactly on its documented turn (turn 1, 2 October)
    fired = [s.turn for s in steps if s.events[mini.event("discovery").index, 0]]
    assert fired == [1]


def test_history_mode_never_fires_undocumented_chance(mini: Scenario) -> None:
    # the clash has a 20% hazard per turn under blockade, but is not on the track
    engine = Engine(mini, chance="history")
    state = start_batch(engine, 200, seed=5)
    play_out(engine, state, historical_agents(mini))
    assert not state.fired[mini.event("clash").index].any()


def test_hidden_variable_is_hidden_until_detected(mini: Scenario) -> None:
    engine = Engine(mini, chance="history")
    state = start_batch(engine, 1, seed=0)
    agents = historical_agents(mini)
    blue = engine.observe(state, "blue")
    assert "deployed" in blue.values and not blue.known["deployed"][0]
    assert np.isnan(blue.values["deployed"][0])
    assert "detected" not in engine.observe(state, "red").values  # red never sees it
    engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in mini.players})
    blue = engine.observe(state, "blue")
    # red deployed privately on turn 0: blue neither sees the stock nor the action
    assert np.isnan(blue.values["deployed"][0])
    assert blue.seen_actions["red"][0] == -1
    red = engine.observe(state, "red")
    assert red.values["deployed"][0] == 4.0
    assert red.seen_actions["red"][0] == mini.action("red_deploy").local
    engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in mini.players})
    blue = engine.observe(state, "blue")  # the discovery fired on turn 1
    assert blue.known["deployed"][0] and blue.values["deployed"][0] == 4.0
    assert blue.seen_events["discovery"][0]
    assert "discovery" not in engine.observe(state, "red").seen_events


def test_observation_ignores_hidden_values(mini: Scenario) -> None:
    engine = Engine(mini)
    state = start_batch(engine, 2, seed=0)
    i = mini.variable("deployed").index
    state.values[i] = [0.0, 9.0]  # crises differ only in what blue cannot see
    blue = engine.observe(state, "blue")
    assert blue.row(0)["state"] == blue.row(1)["state"]


def test_private_letter_arrives_after_its_delay(mini: Scenario) -> None:
    for delay in (0, 1, 3):
        sc = mini.with_parameters(letter_delay=delay)
        engine = Engine(sc, chance="history")
        state = start_batch(engine, 1, seed=0)
        agents = historical_agents(sc)
        sent_at = received_at = None
        sent_var = sc.variable("offer_sent").index
        recv_var = sc.variable("offer_received").index
        while not state.done.all():
            t = state.turn
            engine.step(state, {a: agents[a].act(engine.observe(state, a)) for a in sc.players})
            if sent_at is None and state.values[sent_var, 0]:
                sent_at = t
            if received_at is None and state.values[recv_var, 0]:
                # received during turn t (delay 0) or at the start of turn t + 1
                received_at = t if delay == 0 else state.turn
        assert sent_at == 3  # 3 October, evening
        assert received_at == sent_at + delay
        # only the recipient (and the sender) can see it
        assert "offer_received" not in engine.observe(state, "neutral").values


def test_illegal_action_is_refused(mini: Scenario) -> None:
    engine = Engine(mini)
    state = start_batch(engine, 1, seed=0)
    accept = mini.action("blue_accept").local
    with pytest.raises(IllegalAction, match="blue_accept"):
        engine.step(state, {"red": 0, "blue": accept, "neutral": 0})


def test_start_turn_fast_forwards_along_history(mini: Scenario) -> None:
    engine = Engine(mini)
    start = mini.clock.first_of_phase("late")
    state = start_batch(engine, 3, seed=0, start_turn=start)
    assert state.turn == start
    assert (state.values[mini.variable("detected").index] == 1).all()
    assert (state.values[mini.variable("deployed").index] == 4).all()


def test_historical_agent_falls_back_off_the_path(mini: Scenario) -> None:
    engine = Engine(mini)
    state = start_batch(engine, 1, seed=0)
    agent = HistoricalAgent(mini, "blue")
    state.turn = 2  # the blockade is documented here, but blue has found nothing
    obs = engine.observe(state, "blue")
    assert not obs.legal[0, mini.action("blue_blockade").local]
    assert agent.act(obs)[0] == mini.default_action("blue").local


def test_random_agent_only_picks_legal_actions(mini: Scenario) -> None:
    engine = Engine(mini)
    state = start_batch(engine, 1000, seed=2)
    agents = random_agents(mini)
    while not state.done.all():
        obs = {a: engine.observe(state, a) for a in ("red", "blue")}
        picks = {a: agents[a].act(obs[a]) for a in agents}
        for a, pick in picks.items():
            live = ~state.done
            assert obs[a].legal[np.arange(state.n), pick][live].all()
        picks["neutral"] = np.zeros(state.n, dtype=np.int64)
        engine.step(state, picks)


def test_an_observation_is_freed_without_the_garbage_collector(mini: Scenario) -> None:
    """No reference cycle may keep a turn's arrays alive (a million-crisis run would
    otherwise hold every turn's observed arrays until a collection happens to run)."""
    import gc
    import weakref

    engine = Engine(mini)
    state = start_batch(engine, 10, seed=0)
    obs = engine.observe(state, "blue")
    assert obs.values["deployed"].shape == (10,) and obs.known["deployed"].shape == (10,)
    assert obs.legal.shape[0] == 10 and obs.seen_events is not None
    ref = weakref.ref(obs)
    gc.disable()
    try:
        del obs
        assert ref() is None
    finally:
        gc.enable()


def test_observation_matrix_matches_values(mini: Scenario) -> None:
    engine = Engine(mini)
    state = start_batch(engine, 5, seed=0)
    state.values[mini.variable("detected").index, :2] = 1.0
    obs = engine.observe(state, "blue")
    names, matrix = obs.matrix
    assert set(names) == set(obs.values)
    for i, name in enumerate(names):
        assert np.array_equal(matrix[i], obs.values[name], equal_nan=True)
