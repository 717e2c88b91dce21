"""The conformance kit (crisislab.testing): every built-in scenario, every registered agent
cheap enough to run here and the reinforcement-learning environment pass it, and each
check catches the fault it is for (agents and environments built broken on purpose).

The suite never checks wall-clock time: the kit's time check runs with a clock that the
test controls, and is otherwise left out (``time_limit=None``)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from crisislab.agents.registry import AGENTS
from crisislab.engine.observation import Observation
from crisislab.scenario.loader import builtin_ids, load_scenario
from crisislab.scenario.model import Scenario
from crisislab.testing import (
    AGENT_CHECKS,
    ENV_CHECKS,
    SCENARIO_CHECKS,
    ConformanceError,
    check_agent,
    check_env,
    check_scenario,
)

MINI = Path(__file__).parent / "data" / "mini.yaml"
# agents left out of the sweep, and why (the kit itself runs on them: see the docs)
NOT_HERE = {
    "llm": "needs a language-model server (the kit skips it when asked)",
    "expected_utility": "plans by rollouts: 40 s a scenario even with 2 rollouts of 3 turns",
}

# agents that need a main argument: a stand-in trained policy
SPECS = {"policy": f"policy:{Path(__file__).parent / 'data' / 'policy_first_legal.py'}:act"}


def window(sc: Scenario) -> dict[str, Any]:
    """A short stretch of the crisis proper: the kit's runs start there (along the
    record) and compare the states ten turns on, instead of playing whole crises."""
    phase = "crisis" if "crisis" in sc.clock.phases else None
    start = sc.clock.first_of_phase(phase) if phase else None
    return {"start_turn": start, "turns": 10}


@pytest.fixture(scope="module", params=builtin_ids())
def builtin(request: pytest.FixtureRequest) -> Scenario:
    return load_scenario(request.param)


def test_there_are_two_builtins_to_check() -> None:
    assert {"cuba-1962", "october-1973"} <= set(builtin_ids())


def test_every_builtin_scenario_conforms(builtin: Scenario) -> None:
    report = check_scenario(builtin, runs=12, time_limit=None, **window(builtin))
    assert report.passed == [c for c in SCENARIO_CHECKS if c != "time"]
    assert report.skipped == {"time": "no time limit given"}


def test_the_toy_scenario_conforms_to_its_end() -> None:
    report = check_scenario(MINI, runs=24, time_limit=None)
    assert len(report.passed) == len(SCENARIO_CHECKS) - 1


@pytest.mark.parametrize("name", [a for a in AGENTS if a not in NOT_HERE])
def test_every_registered_agent_conforms_on_every_builtin(name: str, builtin: Scenario) -> None:
    if name == "equilibrium":
        pytest.importorskip("pygambit", reason="the equilibrium agent needs the gt extra")
    report = check_agent(SPECS.get(name, name), builtin, runs=6, time_limit=None, **window(builtin))
    expected = [c for c in AGENT_CHECKS if c != "time"]
    if "lumped_equals_unlumped" in report.skipped:  # an agent that draws its own chance
        assert "own chance" in report.skipped["lumped_equals_unlumped"]
        expected.remove("lumped_equals_unlumped")
    assert sorted(report.passed) == sorted(expected)


def test_the_rl_environment_conforms_on_every_builtin(builtin: Scenario) -> None:
    rl = pytest.importorskip("crisislab.rl", reason="the rl extra is not installed")
    start = window(builtin)["start_turn"]
    env = rl.CrisisParallelEnv(builtin, briefings=False, start_turn=start)
    report = check_env(env, seed=3)
    assert report.passed == list(ENV_CHECKS)


# ---- each check catches its fault ---------------------------------------------------------


class _Base:
    """A minimal agent: picks among the legal options by ``pick``."""

    name: ClassVar[str] = "broken"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False

    def __init__(self, scenario: Scenario, actor: str) -> None:
        self.scenario = scenario
        self.actor = actor

    def pick(self, observation: Observation, i: int, legal: np.ndarray) -> int:
        return int(legal[0])

    def act(self, observation: Observation) -> np.ndarray:
        out = np.zeros(observation.n, dtype=np.int64)
        for i in range(observation.n):
            legal = np.flatnonzero(observation.legal[i])
            if legal.size:
                out[i] = self.pick(observation, i, legal)
        return out


class Peeking(_Base):
    """Reads the engine's private state, hidden values included."""

    def pick(self, observation: Observation, i: int, legal: np.ndarray) -> int:
        secret = float(observation._state.values[:, i].sum())
        return int(legal[int(secret * 7) % legal.size])


class Unseeded(_Base):
    """Draws from a generator of its own, not from the crisis's stream."""

    stochastic: ClassVar[bool] = True
    rng = np.random.default_rng()

    def pick(self, observation: Observation, i: int, legal: np.ndarray) -> int:
        return int(self.rng.choice(legal))


class Illegal(_Base):
    """Always takes its last action, available or not."""

    def act(self, observation: Observation) -> np.ndarray:
        return np.full(observation.n, len(observation.actions) - 1, dtype=np.int64)


class BatchMinded(_Base):
    """Chooses by the size of the batch it is in."""

    def pick(self, observation: Observation, i: int, legal: np.ndarray) -> int:
        return int(legal[observation.n % legal.size])


class ByRow(_Base):
    """Declared deterministic, but chooses by a crisis's position in the batch: crises
    that look the same get different choices, which lumping cannot give."""

    def pick(self, observation: Observation, i: int, legal: np.ndarray) -> int:
        return int(legal[i % legal.size])


class Remembering(_Base):
    """Remembers every turn it has played, across runs: the second time through it
    takes the last available option instead of the first."""

    def __init__(self, scenario: Scenario, actor: str) -> None:
        super().__init__(scenario, actor)
        self.seen: set[int] = set()
        self.again = False

    def pick(self, observation: Observation, i: int, legal: np.ndarray) -> int:
        return int(legal[-1] if self.again else legal[0])

    def act(self, observation: Observation) -> np.ndarray:
        self.again = observation.turn in self.seen
        self.seen.add(observation.turn)
        return super().act(observation)


class Crashing(_Base):
    def act(self, observation: Observation) -> np.ndarray:
        raise ZeroDivisionError("division by zero")


def test_the_planner_chooses_on_what_its_actor_may_know() -> None:
    """The expected-utility agent's rollouts start from what its actor can know, so
    redrawing what the actor cannot see changes none of its choices (it plans by
    rollouts, too slowly for the whole sweep: only this check runs)."""
    skip = [c for c in AGENT_CHECKS if c not in ("protocol", "information")]
    report = check_agent(
        "expected_utility:rollouts=2,horizon=2", MINI, runs=6, probes=2, time_limit=None, skip=skip
    )
    assert report.passed == ["protocol", "information"]


@pytest.mark.parametrize(
    ("agent", "check", "skip"),
    [
        (Peeking, "information", ()),
        (Unseeded, "determinism", ("information",)),  # its twins draw apart, too
        (Illegal, "bounds", ()),
        (BatchMinded, "alone_equals_batch", ()),
        (ByRow, "lumped_equals_unlumped", ("alone_equals_batch", "information")),
        (Remembering, "reuse", ()),
        (Crashing, "bounds", ()),
    ],
    ids=["peeking", "unseeded", "illegal", "batch-minded", "by-row", "remembering", "crashing"],
)
def test_a_broken_agent_fails_the_check_for_its_fault(
    agent: type, check: str, skip: tuple[str, ...]
) -> None:
    with pytest.raises(ConformanceError) as caught:
        check_agent(agent, MINI, runs=16, time_limit=None, skip=skip)
    e = caught.value
    assert e.check == check, str(e)
    assert f"the {check} check failed" in str(e) and "how to fix it:" in str(e)
    assert e.fix and e.what


def test_a_good_toy_agent_passes_where_the_broken_ones_fail() -> None:
    report = check_agent(_Base, MINI, runs=16, time_limit=None)
    assert "information" in report.passed and "lumped_equals_unlumped" in report.passed


def test_the_time_check_reads_the_clock_it_is_given() -> None:
    ticks = itertools.count(step=1000.0)  # a clock on which every batch takes 1000 s

    def slow() -> float:
        return next(ticks)

    with pytest.raises(ConformanceError) as caught:
        check_scenario(
            MINI,
            runs=4,
            large_batch=50,
            time_limit=60,
            clock=slow,
            skip=("information", "alone_equals_batch"),
        )
    assert caught.value.check == "time" and "1000.0 s" in str(caught.value)
    fast = itertools.count(step=0.5)
    report = check_agent(
        "hawk", MINI, runs=4, large_batch=50, time_limit=60, clock=lambda: next(fast)
    )
    assert "time" in report.passed and report.seconds == 0.5


def test_unknown_checks_and_seats_are_refused_in_words() -> None:
    with pytest.raises(ValueError, match="no such check: speed"):
        check_scenario(MINI, skip=("speed",))
    with pytest.raises(ValueError, match="actors must be acting actors of mini"):
        check_agent("hawk", MINI, actors=["nobody"])


class _Leaky:
    """An environment that shows a value its mask says is hidden (public API only)."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def _leak(self, obs: dict[str, Any]) -> dict[str, Any]:
        for o in obs.values():
            v = o["observation"]
            k = (v.size - 1) // 2
            hidden = np.flatnonzero(v[k : 2 * k] == 0)
            if hidden.size:
                v[hidden[0]] = 1.0
        return obs

    def reset(self, seed: int | None = None, options: Any = None) -> Any:
        obs, infos = self._env.reset(seed=seed, options=options)
        return self._leak(obs), infos

    def step(self, actions: Any) -> Any:
        obs, *rest = self._env.step(actions)
        return (self._leak(obs), *rest)


def test_an_environment_that_shows_hidden_values_fails() -> None:
    rl = pytest.importorskip("crisislab.rl", reason="the rl extra is not installed")
    env = _Leaky(rl.CrisisParallelEnv(load_scenario(MINI), briefings=False))
    with pytest.raises(ConformanceError) as caught:
        check_env(env, skip=("api", "spaces"))
    assert caught.value.check == "information"


def test_validate_deep_runs_the_kit_on_a_file() -> None:
    from typer.testing import CliRunner

    from crisislab.cli import app

    r = CliRunner().invoke(app, ["validate", str(MINI), "--deep", "--time-limit", "0"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "conformance: 6 checks passed (determinism, alone_equals_batch" in text
    assert "skipped time: no time limit given" in text
    r = CliRunner().invoke(app, ["validate", str(MINI), "--deep", "--time-limit", "-1"])
    assert r.exit_code == 2 and "--time-limit must be zero or a positive number" in r.output


def test_the_starter_scenario_passes_the_kit(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from crisislab.cli import app

    r = CliRunner().invoke(app, ["new", "demo", "--dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    report = check_scenario(tmp_path / "demo.yaml", runs=12, time_limit=None)
    assert report.passed == [c for c in SCENARIO_CHECKS if c != "time"]
