"""The PettingZoo door: ``CrisisParallelEnv`` passes PettingZoo's own API test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from crisislab.rl import CrisisParallelEnv
from crisislab.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")


@pytest.mark.parametrize("ref", [MINI, "cuba-1962"])
def test_parallel_api(ref: str) -> None:
    parallel_api_test(CrisisParallelEnv(load_scenario(ref)), num_cycles=200)


def play(env: CrisisParallelEnv, seed: int) -> tuple[list[np.ndarray], dict[str, float], str]:
    """Each learner takes its first available non-default action, when it has one."""
    obs, infos = env.reset(seed=seed)
    seen = [obs[a]["observation"].copy() for a in env.agents]
    rewards: dict[str, float] = {}
    outcome = ""
    while env.agents:
        actions = {}
        for a in env.agents:
            mask = obs[a]["action_mask"]
            assert env.observation_space(a).contains(obs[a])
            legal = np.flatnonzero(mask)
            actions[a] = int(legal[-1]) if legal.size else 0
        obs, rewards, terms, truncs, infos = env.step(actions)
        seen += [obs[a]["observation"].copy() for a in obs]
        outcome = next(iter(infos.values())).get("outcome", "")
    return seen, rewards, outcome


def test_seeded_reset_is_reproducible_and_rewards_are_payoffs() -> None:
    sc = load_scenario(MINI)
    env = CrisisParallelEnv(sc)
    a_obs, a_rew, a_out = play(env, 5)
    b_obs, b_rew, b_out = play(env, 5)
    assert a_out and a_out == b_out and a_rew == b_rew
    assert all(np.array_equal(x, y) for x, y in zip(a_obs, b_obs, strict=True))
    # mini's payoffs: war -10 each; deal 5 for blue; standoff 0 each
    expected_blue = {"war": -10.0, "deal": 5.0, "standoff": 0.0}[a_out]
    assert a_rew["blue"] == expected_blue
    others = [play(env, seed)[2] for seed in range(6, 30)]
    assert len(set(others)) > 1  # seeds matter


def test_hidden_variables_are_masked() -> None:
    env = CrisisParallelEnv(load_scenario(MINI))
    obs, _ = env.reset(seed=0)
    observed = [v.id for v in env._observed["blue"]]
    k = len(observed)
    vector = obs["blue"]["observation"]
    known = dict(zip(observed, vector[k : 2 * k], strict=True))
    assert known["deployed"] == 0.0  # blue cannot see the deployment before it finds it
    assert vector[observed.index("deployed")] == 0.0


def test_illegal_action_is_replaced_and_reported() -> None:
    env = CrisisParallelEnv(load_scenario(MINI), learners=["blue"])
    assert env.possible_agents == ["blue"]
    obs, _ = env.reset(seed=1)
    mask = obs["blue"]["action_mask"]
    illegal = int(np.flatnonzero(mask == 0)[0])
    _, _, _, _, infos = env.step({"blue": illegal})
    assert infos["blue"]["illegal_action"] is True


def test_infos_carry_the_plain_language_briefing() -> None:
    from crisislab.agents.llm_prompt import AVAILABLE_HEADING, UNAVAILABLE_HEADING, briefing

    sc = load_scenario("cuba-1962")
    env = CrisisParallelEnv(sc)
    obs, infos = env.reset(seed=1)
    usa, ussr = infos["usa"]["briefing"], infos["ussr"]["briefing"]
    assert usa == briefing(sc, env.engine.observe(env._require_state(), "usa"), 0)
    # only what each actor knows: before discovery Washington does not see the missiles
    assert "missiles in Cuba" not in usa and "missiles in Cuba" in ussr
    for _ in range(3):
        actions = {a: int(np.flatnonzero(obs[a]["action_mask"])[0]) for a in env.agents}
        obs, _, _, _, infos = env.step(actions)
    for actor in env.agents:
        text = infos[actor]["briefing"]
        offered = text.split(AVAILABLE_HEADING)[1].split(UNAVAILABLE_HEADING)[0]
        ids = infos[actor]["actions"]
        listed = [i for i in ids if f"- {i}:" in offered]
        assert listed == [i for i, ok in zip(ids, obs[actor]["action_mask"], strict=True) if ok]
    quiet = CrisisParallelEnv(sc, briefings=False)
    assert "briefing" not in quiet.reset(seed=1)[1]["usa"]
