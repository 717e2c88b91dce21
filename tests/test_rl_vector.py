"""The vector environment: crisis i of one batch is the one-crisis environment's crisis
after ``reset(seed=seeds[i])``, given the same actions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.rl import CrisisParallelEnv, CrisisVectorEnv
from crisislab.scenario.loader import load_scenario
from tests.strategies import seeds

MINI = str(Path(__file__).parent / "data" / "mini.yaml")


def _pick(rng: np.random.Generator, mask: np.ndarray, sloppy: float) -> int:
    """A random legal action; with chance ``sloppy`` any index, legal or not (which the
    environments replace by the default action and report)."""
    if rng.random() < sloppy:
        return int(rng.integers(0, mask.size))
    legal = np.flatnonzero(mask)
    return int(rng.choice(legal)) if legal.size else 0


def _compare(
    ref: str,
    crisis_seeds: list[int],
    choice_seed: int,
    sloppy: float,
    learners: list[str] | None = None,
) -> set[str]:
    """Play the vector env and one single env per crisis side by side with the same
    actions; assert every crisis agrees at every step; return the outcomes seen."""
    sc = load_scenario(ref)
    n = len(crisis_seeds)
    vec = CrisisVectorEnv(sc, n, learners=learners)
    singles = [CrisisParallelEnv(sc, learners=learners, briefings=False) for _ in range(n)]
    v_obs, v_info = vec.reset(seed=crisis_seeds)
    s_obs = [env.reset(seed=s)[0] for env, s in zip(singles, crisis_seeds, strict=True)]
    rng = np.random.default_rng(choice_seed)
    running = [True] * n
    outcomes: set[str] = set()
    for a in vec.possible_agents:
        assert v_info[a]["seed"].tolist() == crisis_seeds
    while any(running):
        actions = {a: np.zeros(n, dtype=np.int64) for a in vec.possible_agents}
        for i in range(n):
            for a in vec.possible_agents:
                assert np.array_equal(v_obs[a]["observation"][i], s_obs[i][a]["observation"])
                assert np.array_equal(v_obs[a]["action_mask"][i], s_obs[i][a]["action_mask"])
                if running[i]:
                    actions[a][i] = _pick(rng, s_obs[i][a]["action_mask"], sloppy)
                else:
                    assert not v_obs[a]["action_mask"][i].any()  # ended: nothing to do
        v_obs, v_rew, v_term, v_trunc, v_info = vec.step(actions)
        for i in range(n):
            if not running[i]:
                for a in vec.possible_agents:
                    assert v_rew[a][i] == 0.0 and v_term[a][i]
                continue
            obs, rew, term, trunc, info = singles[i].step(
                {a: int(actions[a][i]) for a in vec.possible_agents}
            )
            s_obs[i] = obs
            for a in vec.possible_agents:
                assert v_rew[a][i] == rew[a]
                assert bool(v_term[a][i]) == term[a]
                assert not v_trunc[a][i] and not trunc[a]
                assert bool(v_info[a]["illegal_action"][i]) == info[a]["illegal_action"]
                assert v_info[a]["outcome"][i] == info[a].get("outcome", "")
            if not singles[i].agents:
                running[i] = False
                outcomes.add(v_info[vec.possible_agents[0]]["outcome"][i])
    assert vec.done.all()
    return outcomes


@settings(max_examples=25, deadline=None)
@given(
    crisis_seeds=st.lists(seeds, min_size=1, max_size=6),
    choice_seed=seeds,
    sloppy=st.sampled_from([0.0, 0.3]),
)
def test_each_crisis_of_the_batch_is_the_single_envs(
    crisis_seeds: list[int], choice_seed: int, sloppy: float
) -> None:
    _compare(MINI, crisis_seeds, choice_seed, sloppy)


def test_cuba_crises_agree_with_the_single_env() -> None:
    # a learner for the United States only: the Soviet and Cuban seats are the
    # historical agents, which draw from each crisis's own streams off the record
    outcomes = _compare("cuba-1962", [1, 2, 3], 7, 0.1, learners=["usa"])
    assert outcomes  # every crisis ended with a named outcome


def test_seeds_count_up_from_one_number() -> None:
    sc = load_scenario(MINI)
    vec = CrisisVectorEnv(sc, 3)
    _, info = vec.reset(seed=10)
    assert info["blue"]["seed"].tolist() == [10, 11, 12]
    obs, _ = vec.reset(seed=[10, 11, 12])
    single = CrisisParallelEnv(sc)
    first, _ = single.reset(seed=11)
    assert np.array_equal(obs["red"]["observation"][1], first["red"]["observation"])
    vec.reset()  # drawn seeds: any whole numbers, one per crisis
    assert len(vec.seeds) == 3


def test_bad_calls_say_what_is_wrong() -> None:
    sc = load_scenario(MINI)
    with pytest.raises(ValueError, match="num_envs"):
        CrisisVectorEnv(sc, 0)
    vec = CrisisVectorEnv(sc, 2)
    with pytest.raises(RuntimeError, match="reset"):
        vec.step({"red": [0, 0], "blue": [0, 0]})
    vec.reset(seed=1)
    with pytest.raises(ValueError, match="2 whole numbers"):
        vec.reset(seed=[1, 2, 3])
    with pytest.raises(TypeError, match="2 whole numbers"):
        vec.step({"red": [0, 0, 0], "blue": [0, 0]})
    with pytest.raises(TypeError, match="2 whole numbers"):
        vec.step({"red": [0.5, 0.0], "blue": [0, 0]})
    with pytest.raises(KeyError, match="blue"):
        vec.step({"red": [0, 0]})
    while not vec.done.all():
        vec.step({"red": [0, 0], "blue": [0, 0]})
    with pytest.raises(RuntimeError, match="every crisis is over"):
        vec.step({"red": [0, 0], "blue": [0, 0]})
    assert vec.state().shape == (2, len(sc.variables))


def test_the_documented_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "simulate.md").read_text()
    block = text.split("### Many crises at once")[1].split("```python\n")[1].split("```")[0]
    namespace: dict[str, object] = {}
    exec(
        compile(
            block.replace(", 64,", ", 4,").replace("np.zeros(64)", "np.zeros(4)"),
            "simulate.md",
            "exec",
        ),
        namespace,
    )
    env = namespace["env"]
    assert isinstance(env, CrisisVectorEnv) and env.done.all()
    assert "mean payoff to the United States" in capsys.readouterr().out


# ---- a trained policy as a seat and as a tournament entrant ----------------------------

POLICY = Path(__file__).parent / "data" / "policy_first_legal.py"


def test_a_policy_sees_the_vector_env_observation_and_plays_a_seat() -> None:
    from crisislab.agents.registry import make_agent
    from crisislab.rl import CrisisVectorEnv
    from crisislab.runner import run_batch

    sc = load_scenario("cuba-1962")
    agent = make_agent(f"policy:{POLICY}:act", sc, "usa")
    env = CrisisVectorEnv(sc, 3, learners=["usa"])
    obs, _ = env.reset(seed=5)
    # what the policy is handed is what the vector env gives a learner
    state = env._state
    assert state is not None
    from crisislab.rl import observation_vectors

    seen = observation_vectors(sc, env.engine.observe(state, "usa"), state.turn, agent._box)
    assert np.array_equal(seen, obs["usa"]["observation"])
    result = run_batch(
        sc,
        {"usa": agent, **{a: make_agent("historical", sc, a) for a in ("ussr", "cuba")}},
        20,
        seed=1,
    )
    assert len(result.outcome) == 20


def test_a_policy_is_a_tournament_entrant() -> None:
    from typer.testing import CliRunner

    from crisislab.cli import app

    r = CliRunner().invoke(
        app,
        [
            "tournament",
            "cuba-1962",
            "--seat",
            "usa",
            "--entrant",
            f"trained=policy:{POLICY}:act",
            "--entrant",
            "dove=dove",
            "--runs",
            "20",
            "--no-store",
            "--workers",
            "1",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = {row["entrant"]: row for row in doc["entrants"]}
    assert set(rows) == {"trained", "dove"}
    assert rows["trained"]["runs"] == 20 and rows["trained"]["agent"].startswith("policy:")


@pytest.mark.parametrize(
    "target, words",
    [
        (f"{POLICY}:wrong", "not available"),
        (f"{POLICY}:nosuch", "has no function nosuch"),
        ("no/such/file.py:act", "no file"),
        ("justaname", "policy:MODULE:FUNCTION"),
    ],
)
def test_a_bad_policy_gets_a_clear_error(target: str, words: str) -> None:
    from typer.testing import CliRunner

    from crisislab.cli import app

    r = CliRunner().invoke(
        app,
        [
            "simulate",
            "cuba-1962",
            "--runs",
            "4",
            "--no-store",
            "--workers",
            "1",
            "--agent",
            f"usa=policy:{target}",
        ],
    )
    assert r.exit_code != 0
    assert words in r.output
    assert "Traceback" not in r.output
