"""The expected-utility agent looks ahead at every option of every position in one
batch; each option's value is the one a batch of its own gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crisislab.agents.lookahead import ExpectedUtilityAgent, _single
from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.run import decide, start_batch
from crisislab.engine.state import BatchState
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
    ones = [_single(state, r) for r, _ in pairs]
    together = agent._values(engine, ones, [o for _, o in pairs])
    alone = [agent._values(engine, [one], [o])[0] for one, (_, o) in zip(ones, pairs, strict=True)]
    assert together == alone
    picks = agent.act(obs)
    for r in live:
        options = [o for (q, o) in pairs if q == r]
        if len(options) > 1:
            worth = [v for (q, _), v in zip(pairs, alone, strict=True) if q == r]
            assert worth[options.index(int(picks[r]))] >= max(worth) - 1e-9
