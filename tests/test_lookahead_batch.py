"""The expected-utility agent looks ahead at every option of every position in one
batch; each option's value is the one a batch of its own gives; it plans from what its
actor can know, in a model it is handed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crisislab.agents.lookahead import ExpectedUtilityAgent
from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import decide, run_turns
from crisislab.engine.state import BatchState
from crisislab.runner import historical_agents, start_batch
from crisislab.scenario.loader import load_scenario

MINI = Path(__file__).parent / "data" / "mini.yaml"


def crises_apart(ref: str | Path, n: int, turns: int, seed: int) -> tuple[Engine, BatchState]:
    """``n`` crises played ``turns`` turns by random agents: positions that differ."""
    sc = load_scenario(ref)
    engine = Engine(sc, chance="free")
    state = start_batch(engine, n, seed=seed)
    agents = {
        a: make_agent("random", sc, a) if sc.role(a) == "player" else make_agent("scripted", sc, a)
        for a in sc.players
    }
    for _ in range(turns):
        if state.done.all():
            break
        engine.step(state, decide(engine, state, agents))
    return engine, state


@pytest.mark.parametrize("turns", [2, 5])
def test_one_batch_gives_each_option_its_own_value(turns: int) -> None:
    engine, state = crises_apart(MINI, 6, turns, seed=turns)
    sc = engine.scenario
    actor = sc.players[0]
    agent = make_agent("expected_utility:rollouts=5,horizon=6", sc, actor)
    assert isinstance(agent, ExpectedUtilityAgent)
    obs = engine.observe(state, actor)
    live = np.flatnonzero(~state.done)
    pairs = [(int(r), int(o)) for r in live for o in np.flatnonzero(obs.legal[r])]
    assert len(pairs) > len(live)  # some position has a choice to weigh
    known = obs.belief()  # what the agent plans from
    ones = [known.select(np.array([r])) for r, _ in pairs]
    together = agent._values(engine, ones, [o for _, o in pairs])
    alone = [agent._values(engine, [one], [o])[0] for one, (_, o) in zip(ones, pairs, strict=True)]
    assert together == alone
    picks = agent.act(obs)
    for r in live:
        options = [o for (q, o) in pairs if q == r]
        if len(options) > 1:
            worth = [v for (q, _), v in zip(pairs, alone, strict=True) if q == r]
            assert worth[options.index(int(picks[r]))] >= max(worth) - 1e-9


def test_the_planner_starts_from_what_its_actor_can_know() -> None:
    """Once Soviet missiles are in Cuba and before they are found, Washington's belief
    has none there (as the crisis began) while Moscow's holds the true count; the
    belief's random streams are never the crisis's own."""
    sc = load_scenario("cuba-1962")
    engine = Engine(sc, chance="history")
    state = start_batch(engine, 1, seed=3)
    agents = historical_agents(sc)
    i = sc.variable("missiles_in_cuba").index
    while not state.done.all():
        us = engine.observe(state, "usa")
        if state.values[i, 0] > 0 and not us.known["missiles_in_cuba"][0]:
            break
        run_turns(engine, state, agents, until=state.turn + 1)
    assert state.values[i, 0] > 0 and not state.done[0]  # the record reaches such a day
    washington = us.belief()
    moscow = engine.observe(state, "ussr").belief()
    assert washington.values[i, 0] == sc.variable("missiles_in_cuba").initial == 0
    assert moscow.values[i, 0] == state.values[i, 0]
    assert washington.turn == state.turn and not washington.lumped
    assert (washington.streams.crisis_ids == np.array([0])).all()
    assert washington.streams.uniform(state.turn, 0) != state.streams.uniform(state.turn, 0)
    # what Washington sees, it believes as it is
    for name, seen in us.known.items():
        if seen[0]:
            k = sc.variable(name).index
            assert washington.values[k, 0] == state.values[k, 0]


def test_the_planner_is_handed_its_model() -> None:
    sc = load_scenario(MINI)
    actor = sc.players[0]
    model = Engine(sc, chance="free")
    agent = ExpectedUtilityAgent(sc, actor, rollouts=2, horizon=2, model=model)
    assert agent.model is model
    with pytest.raises(ValueError, match="same scenario"):
        ExpectedUtilityAgent(sc, actor, model=Engine(load_scenario("cuba-1962")))
