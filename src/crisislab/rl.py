"""A reinforcement-learning door: any scenario as a PettingZoo ``ParallelEnv``, one crisis
at a time or many in one batch.

The learning agents are the scenario's players (role ``player``), or those named; every
other acting actor is played inside the environment (scripted actors by their script,
other players by the agents named in ``seats``, ``historical`` by default). One episode is
one crisis on the same engine as ``crisislab simulate``; ``reset(seed=s)`` gives the
crisis that crisis id 0 of ``crisislab simulate --seed s`` would be, as long as the
actions are the same.

Observations are a ``Dict`` with

- ``observation``: a flat float32 vector: the value of each variable the actor may ever
  observe (0 where it cannot see it now), then a 0/1 mask of which it can see now, then
  the share of the clock elapsed;
- ``action_mask``: int8, 1 for each of the actor's actions available now.

``infos[actor]["briefing"]`` holds the same observation in plain words, the briefing a
language-model leader reads (:mod:`crisislab.agents.llm_prompt`), while the crisis runs
(``briefings=False`` leaves it out, for training that reads only the numbers).

Rewards are 0 until the crisis ends, then each actor's payoff for its outcome. An action
that is not available is replaced by the actor's default action and reported in
``infos[actor]["illegal_action"]``.

:class:`CrisisVectorEnv` steps many crises in one batch of the engine, with the same
seats and spaces, every value an array with a row per crisis; crisis ``i`` is the crisis
``CrisisParallelEnv`` plays after ``reset(seed=seeds[i])`` with the same actions.

Example::

    from crisislab.rl import CrisisParallelEnv
    env = CrisisParallelEnv(load_scenario("cuba-1962"))
    obs, infos = env.reset(seed=1)
    while env.agents:
        actions = {a: env.action_space(a).sample(obs[a]["action_mask"]) for a in env.agents}
        obs, rewards, terminations, truncations, infos = env.step(actions)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import step_turn
from crisislab.engine.observation import Observation
from crisislab.engine.state import BatchState
from crisislab.engine.streams import CrisisStreams
from crisislab.extras import missing_extra
from crisislab.runner import complete_agents, start_batch
from crisislab.scenario.model import Scenario

with missing_extra("rl"):
    from gymnasium import spaces
    from pettingzoo import ParallelEnv

HIDDEN = 0.0  # the value shown for a variable the actor cannot see now


def _is_whole(x: Any) -> bool:
    """An int or a NumPy integer, never a bool or a float such as 1.7 or 1.0."""
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def observed_variables(scenario: Scenario, actor: str) -> list[Any]:
    """The variables ``actor`` may ever observe, in the scenario's order."""
    return [v for v in scenario.variables if v.observers.get(actor) not in (None, False)]


def observation_box(scenario: Scenario, actor: str) -> spaces.Box:
    """The space of one actor's observation vector: the value of each variable it may
    ever observe, a 0/1 mask of which it sees now, and the share of the clock elapsed."""
    observed = observed_variables(scenario, actor)
    low = [min(v.low, HIDDEN) for v in observed] + [0.0] * len(observed) + [0.0]
    high = [max(v.high, HIDDEN) for v in observed] + [1.0] * len(observed) + [1.0]
    return spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)


def observation_vectors(
    scenario: Scenario, obs: Observation, turn: int, box: spaces.Box
) -> np.ndarray:
    """(crises, size) float32 observation vectors of one actor: the observed values
    (HIDDEN where not seen now), the mask of what is seen, the clock's share."""
    _, seen = obs.matrix  # (values, crises), NaN where hidden (a state's values never are)
    k = seen.shape[0]
    known = seen == seen  # not NaN
    # written straight into float32 (the same rounding as a cast afterwards)
    out = np.full((seen.shape[1], 2 * k + 1), HIDDEN, dtype=np.float32)
    np.copyto(out[:, :k], seen.T, casting="same_kind", where=known.T)
    np.copyto(out[:, k : 2 * k], known.T, casting="unsafe")
    out[:, 2 * k] = min(turn / max(len(scenario.clock) - 1, 1), 1.0)
    return np.clip(out, box.low, box.high, out=out)


class CrisisParallelEnv(ParallelEnv):  # type: ignore[misc]
    """One crisis of ``scenario`` as a simultaneous-move multi-agent environment."""

    metadata = {"name": "crisislab_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(
        self,
        scenario: Scenario,
        learners: Sequence[str] | None = None,
        seats: Mapping[str, str] | None = None,
        start_turn: int | None = None,
        briefings: bool = True,
    ) -> None:
        self.scenario = scenario
        self.briefings = briefings
        players = [a for a in scenario.players if scenario.role(a) == "player"]
        if isinstance(learners, str):
            raise TypeError(
                f"learners must be a list of actor ids, such as [{learners!r}], not one string"
            )
        chosen = list(players if learners is None else learners)
        unknown = [a for a in chosen if not isinstance(a, str) or a not in players]
        if unknown or not chosen:
            raise ValueError(
                f"learners must be seats of {scenario.id} that a player takes "
                f"({', '.join(players)}), not {unknown or 'none'}"
            )
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"a learner is named twice in {chosen}")
        for actor, spec in (seats or {}).items():
            if actor not in players or actor in chosen:
                raise ValueError(
                    f"seats: '{actor}' is not a seat left to an agent "
                    f"(those are: {', '.join(a for a in players if a not in chosen)})"
                )
            if not isinstance(spec, str):
                raise TypeError(
                    f"seats: the agent for '{actor}' must be a spec such as "
                    f"'historical', not {spec!r}"
                )
        if start_turn is not None:
            if not _is_whole(start_turn):
                raise TypeError(f"start_turn must be a whole number, not {start_turn!r}")
            if not 0 <= int(start_turn) < len(scenario.clock):
                raise ValueError(
                    f"start_turn must be from 0 to {len(scenario.clock) - 1} "
                    f"(the turns of {scenario.id}), not {start_turn}"
                )
            start_turn = int(start_turn)
        self.possible_agents: list[str] = chosen
        self.agents: list[str] = []
        self.start_turn = start_turn
        self.engine = Engine(scenario)
        internal = {
            a: (seats or {}).get(a, "historical")
            for a in scenario.players
            if a not in chosen and scenario.role(a) == "player"
        }
        built = {a: make_agent(spec, scenario, a) for a, spec in internal.items()}
        built.update({a: _Placeholder() for a in chosen})
        self._internal: dict[str, Agent] = {
            a: ag for a, ag in complete_agents(scenario, built).items() if a not in chosen
        }
        self._defaults = {a: scenario.default_action(a).local for a in chosen}
        self._action_ids = {a: [r.id for r in scenario.actions_of(a)] for a in chosen}
        self._observed = {a: observed_variables(scenario, a) for a in chosen}
        self._obs_spaces: dict[str, spaces.Dict] = {}
        self._boxes: dict[str, spaces.Box] = {}
        self._act_spaces: dict[str, spaces.Discrete] = {}
        for a in chosen:
            k = len(self._action_ids[a])
            self._boxes[a] = observation_box(scenario, a)
            self._obs_spaces[a] = spaces.Dict(
                {
                    "observation": self._boxes[a],
                    "action_mask": spaces.Box(0, 1, (k,), dtype=np.int8),
                }
            )
            self._act_spaces[a] = spaces.Discrete(k)
        self._state: BatchState | None = None
        self._rng = np.random.default_rng()
        self._seed = 0
        # per learner: (state, turn, observation) of the observation made this turn
        self._kept: dict[str, tuple[BatchState, int, Observation]] = {}

    # ---- the PettingZoo API ----------------------------------------------------------------

    def observation_space(self, agent: str) -> spaces.Dict:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_spaces[agent]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """A new crisis. ``seed`` picks it (crisis 0 of that seed); without one, the next
        seed of the environment's own generator (seeded by the last seed given)."""
        if seed is not None:
            if not _is_whole(seed):
                raise TypeError(f"a seed must be a whole number, not {seed!r}")
            if not 0 <= int(seed) <= 2**63 - 1:
                raise ValueError(f"a seed must be from 0 to 2**63 - 1, not {seed}")
            self._rng = np.random.default_rng(seed)
            self._seed = int(seed)
        else:
            self._seed = int(self._rng.integers(0, 2**63 - 1))
        self._state = start_batch(self.engine, 1, self._seed, start_turn=self.start_turn)
        self.agents = list(self.possible_agents)
        return ({a: self._observe(a) for a in self.agents}, {a: self._info(a) for a in self.agents})

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, Any],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        state = self._require_state()
        if not self.agents:
            raise RuntimeError("the crisis is over: call reset()")
        choices: dict[str, np.ndarray] = {}
        illegal: dict[str, bool] = {}
        for a in self.agents:
            if a not in actions:
                raise KeyError(f"no action given for '{a}'")
            if not _is_whole(actions[a]):
                raise TypeError(
                    f"the action for '{a}' must be a whole number (an index of "
                    f"its action space), not {actions[a]!r}"
                )
            local = int(actions[a])
            legal = self._legal_now(state, a)
            ok = 0 <= local < legal.size and bool(legal[local])
            illegal[a] = not ok
            choices[a] = np.array([local if ok else self._defaults[a]], dtype=np.int64)
        step_turn(self.engine, state, self._internal, given=choices)
        done = bool(state.done[0])
        acting = list(self.agents)
        rewards = {
            a: float(state.payoffs[self.scenario.actors.index(a), 0]) if done else 0.0
            for a in acting
        }
        observations = {a: self._observe(a) for a in acting}
        infos = {a: {**self._info(a), "illegal_action": illegal[a]} for a in acting}
        terminations = dict.fromkeys(acting, done)
        truncations = dict.fromkeys(acting, False)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> None:
        return None

    def close(self) -> None:
        self._state = None

    def state(self) -> np.ndarray:
        """The full world state (every variable), for centralised critics."""
        return self._require_state().values[:, 0].astype(np.float32)

    # ---- helpers ---------------------------------------------------------------------------

    def _require_state(self) -> BatchState:
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    def _observation(self, state: BatchState, actor: str) -> Observation:
        """The learner's observation now: the one its observation and briefing were made
        from this turn, kept (an observation is a fixed function of its turn's state,
        which nothing changes between one step and the next), else a new one."""
        kept = self._kept.get(actor)
        if kept is not None and kept[0] is state and kept[1] == state.turn:
            return kept[2]
        obs = self.engine.observe(state, actor)
        self._kept[actor] = (state, state.turn, obs)
        return obs

    def _legal_now(self, state: BatchState, actor: str) -> np.ndarray:
        return self._observation(state, actor).legal[0]

    def _observe(self, actor: str) -> dict[str, np.ndarray]:
        state = self._require_state()
        obs = self._observation(state, actor)
        return {
            "observation": self._vectors(obs, state.turn)[0],
            "action_mask": obs.legal[0].astype(np.int8),
        }

    def _vectors(self, obs: Observation, turn: int) -> np.ndarray:
        return observation_vectors(self.scenario, obs, turn, self._boxes[obs.actor])

    def _info(self, actor: str) -> dict[str, Any]:
        state = self._require_state()
        turn = self.scenario.clock.turns[min(state.turn, len(self.scenario.clock) - 1)]
        info: dict[str, Any] = {
            "turn": state.turn,
            "date": turn.label,
            "seed": self._seed,
            "actions": self._action_ids[actor],
        }
        if state.done[0]:
            info["outcome"] = self.scenario.outcomes[int(state.outcome[0])].id
        elif self.briefings:  # the words a language-model leader reads (its knowledge only)
            from crisislab.agents.llm_prompt import briefing

            info["briefing"] = briefing(self.scenario, self._observation(state, actor), 0)
        return info


class _Placeholder:
    """Stands in for a learner's seat when completing the line-up (never asked to act)."""

    name: ClassVar[str] = "learner"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False

    def act(self, observation: Any) -> np.ndarray:  # pragma: no cover - never called
        raise RuntimeError("a learner's action comes from step()")


class CrisisVectorEnv:
    """``num_envs`` crises of ``scenario`` stepped together, in one batch of the engine:
    the batch counterpart of :class:`CrisisParallelEnv`, with the same seats, spaces
    and rules, for learners that act on many crises at once.

    Everything is an array with one entry (or row) per crisis: ``reset`` and ``step``
    return, per learner, ``{"observation": (num_envs, size) float32, "action_mask":
    (num_envs, k) int8}``, rewards, terminations and truncations of shape
    ``(num_envs,)``; ``step`` takes, per learner, ``num_envs`` action indices. Crisis
    ``i`` is the crisis :class:`CrisisParallelEnv` plays after ``reset(seed=seeds[i])``
    given the same actions: the same observations, rewards and ending (a test checks
    it). All crises advance together; one that has ended keeps its last observation
    (no option available), its actions are ignored, its reward is its payoff on the
    step it ends and 0 after, and its termination stays true. ``step`` after every
    crisis has ended is an error: call ``reset``.
    """

    metadata = {"name": "crisislab_vector_v0"}

    def __init__(
        self,
        scenario: Scenario,
        num_envs: int,
        learners: Sequence[str] | None = None,
        seats: Mapping[str, str] | None = None,
        start_turn: int | None = None,
    ) -> None:
        if not _is_whole(num_envs) or not 1 <= int(num_envs) <= 10_000_000:
            raise ValueError(
                f"num_envs must be a whole number from 1 to 10,000,000, not {num_envs!r}"
            )
        # the seats, spaces and checks of the one-crisis environment
        self._single = CrisisParallelEnv(scenario, learners, seats, start_turn, briefings=False)
        self.scenario = scenario
        self.num_envs = int(num_envs)
        self.possible_agents: list[str] = list(self._single.possible_agents)
        self.engine = self._single.engine
        self._state: BatchState | None = None
        self._rng = np.random.default_rng()
        self.seeds = np.zeros(self.num_envs, dtype=np.int64)
        self._last: dict[str, np.ndarray] = {}  # per learner: ended crises' last vectors

    def observation_space(self, agent: str) -> spaces.Dict:
        """The space of one crisis's observation (each row of the batch's)."""
        return self._single.observation_space(agent)

    def action_space(self, agent: str) -> spaces.Discrete:
        """The space of one crisis's action (each entry of the batch's)."""
        return self._single.action_space(agent)

    @property
    def done(self) -> np.ndarray:
        """(num_envs,) whether each crisis has ended."""
        return self._require_state().done.copy()

    def reset(
        self, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
        """New crises. ``seed``: one whole number ``s`` gives the crises seeds ``s``,
        ``s + 1``, ... (as Gymnasium's vector environments do); a sequence gives one
        seed per crisis; without one, seeds are drawn from the environment's own
        generator (seeded by the last seed given)."""
        n = self.num_envs
        if seed is None:
            seeds = self._rng.integers(0, 2**63 - 1, size=n)
        elif _is_whole(seed):
            first = int(seed)  # type: ignore[arg-type]
            if not 0 <= first <= 2**63 - n:
                raise ValueError(f"a seed must be from 0 to 2**63 - {n}, not {first}")
            seeds = first + np.arange(n, dtype=np.int64)
            self._rng = np.random.default_rng(first)
        else:
            if isinstance(seed, str | bytes) or not isinstance(seed, Sequence | np.ndarray):
                raise TypeError(f"seed must be a whole number or a sequence of {n}, not {seed!r}")
            listed = list(seed)
            if len(listed) != n or not all(_is_whole(s) for s in listed):
                raise ValueError(f"seed must hold {n} whole numbers, one per crisis")
            if not all(0 <= int(s) <= 2**63 - 1 for s in listed):
                raise ValueError("each seed must be from 0 to 2**63 - 1")
            seeds = np.array([int(s) for s in listed], dtype=np.int64)
            self._rng = np.random.default_rng(seeds)
        self.seeds = seeds.astype(np.int64)
        streams = CrisisStreams.joined(
            [CrisisStreams(int(s), np.zeros(1, dtype=np.int64)) for s in self.seeds]
        )
        self._state = start_batch(
            self.engine, n, start_turn=self._single.start_turn, streams=streams
        )
        illegal = np.zeros(n, dtype=bool)
        observed = {a: self._observe(a) for a in self.possible_agents}
        self._last = {a: obs["observation"].copy() for a, obs in observed.items()}
        return (observed, {a: self._info(illegal) for a in self.possible_agents})

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, dict[str, np.ndarray]],
        dict[str, np.ndarray],
        dict[str, np.ndarray],
        dict[str, np.ndarray],
        dict[str, dict[str, Any]],
    ]:
        state = self._require_state()
        if state.done.all():
            raise RuntimeError("every crisis is over: call reset()")
        n = self.num_envs
        running = ~state.done
        choices: dict[str, np.ndarray] = {}
        illegal: dict[str, np.ndarray] = {}
        for a in self.possible_agents:
            if a not in actions:
                raise KeyError(f"no actions given for '{a}'")
            given = np.asarray(actions[a])
            if given.shape != (n,) or given.dtype.kind not in "iu":
                raise TypeError(
                    f"the actions for '{a}' must be {n} whole numbers (indices "
                    f"of its action space), not an array of shape "
                    f"{given.shape} and type {given.dtype}"
                )
            legal = self.engine.observe(state, a).legal
            k = legal.shape[1]
            inside = (given >= 0) & (given < k)
            ok = inside & legal[np.arange(n), np.where(inside, given, 0)]
            illegal[a] = running & ~ok
            choices[a] = np.where(ok, given, self._single._defaults[a]).astype(np.int64)
        result = step_turn(self.engine, state, self._single._internal, given=choices)
        ended = result.ended
        rewards = {
            a: np.where(ended, state.payoffs[self.scenario.actors.index(a)], 0.0)
            for a in self.possible_agents
        }
        done = state.done.copy()
        observations = {a: self._observe(a) for a in self.possible_agents}
        for a, obs in observations.items():  # an ended crisis keeps its last observation
            before = done & ~ended
            obs["observation"][before] = self._last[a][before]
            self._last[a][ended] = obs["observation"][ended]
        infos = {a: self._info(illegal[a]) for a in self.possible_agents}
        terminations = {a: done.copy() for a in self.possible_agents}
        truncations = {a: np.zeros(n, dtype=bool) for a in self.possible_agents}
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """(num_envs, variables) float32: every variable of every crisis, for centralised
        critics."""
        return self._require_state().values.T.astype(np.float32)

    def close(self) -> None:
        self._state = None

    def _require_state(self) -> BatchState:
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    def _observe(self, actor: str) -> dict[str, np.ndarray]:
        state = self._require_state()
        obs = self.engine.observe(state, actor)
        return {
            "observation": self._single._vectors(obs, state.turn),
            "action_mask": obs.legal.astype(np.int8),
        }

    def _info(self, illegal: np.ndarray) -> dict[str, Any]:
        state = self._require_state()
        turn = self.scenario.clock.turns[min(state.turn, len(self.scenario.clock) - 1)]
        ids = [o.id for o in self.scenario.outcomes]
        outcome = ["" if o < 0 else ids[int(o)] for o in state.outcome]
        return {
            "turn": state.turn,
            "date": turn.label,
            "seed": self.seeds.copy(),
            "illegal_action": illegal.copy(),
            "outcome": outcome,
        }


class PolicyAgent:
    """A trained policy in a seat, for ``simulate``, ``compare`` and ``tournament``:
    ``--agent usa=policy:mypackage.policies:act`` (a module on the path) or
    ``--agent usa=policy:path/to/policy.py:act`` (a file).

    The function gets what the environments give a learner, one row per crisis:
    ``act(observation, action_mask)`` with ``observation`` (crises, size) float32, as
    :class:`CrisisVectorEnv` returns it, and ``action_mask`` (crises, options) int8, and
    returns one option index per crisis. A policy that names an option that is not
    available stops the run with a clear error: train it with the mask. It is taken to
    be a fixed function of what it is shown, so crises that look alike to it share one
    row, as for the doctrines."""

    name: ClassVar[str] = "policy"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False

    def __init__(self, scenario: Scenario, actor: str, target: str = "") -> None:
        from crisislab.agents.registry import AgentSpecError

        if actor not in scenario.players or scenario.role(actor) != "player":
            raise AgentSpecError(f"'{actor}' is not a player of {scenario.id}")
        where, colon, func = target.rpartition(":")
        if not colon or not where or not func:
            raise AgentSpecError(
                "policy: name the function as policy:MODULE:FUNCTION or "
                "policy:FILE.py:FUNCTION, e.g. policy:mypolicies:act"
            )
        self.scenario = scenario
        self.actor = actor
        self.target = target
        self._fn = _load_function(where, func)
        self._box = observation_box(scenario, actor)  # the environments' encoding
        self._k = len(scenario.actions_of(actor))
        self._default = scenario.default_action(actor).local

    def __reduce__(self) -> tuple[Any, ...]:
        # worker processes load the function again from its module or file
        return (PolicyAgent, (self.scenario, self.actor, self.target))

    def act(self, observation: Observation) -> np.ndarray:
        vectors = observation_vectors(self.scenario, observation, observation.turn, self._box)
        mask = observation.legal.astype(np.int8)
        try:
            chosen = np.asarray(self._fn(vectors, mask))
        except Exception as e:  # the user's code: say whose it is
            raise RuntimeError(
                f"the policy {self.target} failed for {self.actor}: {type(e).__name__}: {e}"
            ) from None
        if chosen.shape != (observation.n,) or not np.issubdtype(chosen.dtype, np.integer):
            raise RuntimeError(
                f"the policy {self.target} must return one whole option "
                f"index per crisis ({observation.n}), not an array of shape "
                f"{chosen.shape} and type {chosen.dtype}"
            )
        chosen = chosen.astype(np.int64)
        live = observation.active
        bad = live & (
            (chosen < 0)
            | (chosen >= self._k)
            | ~observation.legal[np.arange(observation.n), np.clip(chosen, 0, self._k - 1)]
        )
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise RuntimeError(
                f"the policy {self.target} chose option {int(chosen[i])} for "
                f"{self.actor} on {observation.label}, which is not available "
                "then (read action_mask)"
            )
        return np.where(live, chosen, self._default)


def _load_function(where: str, func: str) -> Any:
    """The function ``func`` of a module (dotted name) or of a Python file."""
    import importlib
    import importlib.util
    from pathlib import Path

    from crisislab.agents.registry import AgentSpecError

    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise AgentSpecError(f"policy: no file {where}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise AgentSpecError(f"policy: cannot load {where}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise AgentSpecError(f"policy: cannot import {where}: {e}") from None
    fn = getattr(module, func, None)
    if not callable(fn):
        raise AgentSpecError(f"policy: {where} has no function {func}")
    return fn
