"""The learning environment's fast path gives what the plain reading gives.

``CrisisParallelEnv`` keeps each learner's observation of the turn for its legality
check and briefing, builds a one-row observation vector directly, and the briefing
(:func:`crisislab.agents.llm_prompt.briefing`) reads the observation's matrix and keeps
what depends only on the file, a value, the turn or the options. Here a reference
environment does everything the plain way (a new observation for each use, the batch
vector formula, the briefing read section by section from ``obs.values`` and
``obs.known``, with what was seen last turn read from the state, as it was written
before) and random episodes, with illegal actions
among them, must give the same observations (bit for bit), rewards, terminations,
truncations, infos and briefing strings.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.agents.llm_prompt import (
    AVAILABLE_HEADING,
    UNAVAILABLE_HEADING,
    _estimate,
    _name,
    _owner,
    _plain,
    _shown,
    briefing,
)
from crisislab.engine.loop import step_turn
from crisislab.engine.observation import Observation
from crisislab.rl import HIDDEN, CrisisParallelEnv, observation_vectors
from crisislab.runner import complete_agents, start_batch
from crisislab.scenario.display import turn_words, variable_label
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")


# ---- the plain reading (the code as it was before the fast path) ---------------------


def reference_briefing(sc: Scenario, obs: Observation, i: int) -> str:
    actor = obs.actor
    turn = sc.clock.turns[min(obs.turn, len(sc.clock) - 1)]
    phase = next(p.label for p in sc.spec.clock.phases if p.id == turn.phase)
    when = turn_words(sc, min(obs.turn, len(sc.clock) - 1))
    lines = [f"{when}. {phase} (turn {obs.turn + 1} of {len(sc.clock)}).", ""]
    everyone = set(sc.actors)
    groups: dict[str, list[str]] = {
        "own": [],
        "intelligence": [],
        "confidential": [],
        "world": [],
        "quiet": [],
    }
    messages = {f"{m.id}_{s}" for m in sc.messages for s in ("sent", "received")}
    for v in sc.variables:
        if v.derived or v.id in messages or v.id not in obs.values or not obs.known[v.id][i]:
            continue
        if v.type == "int" and v.low < 0:
            continue
        value = float(obs.values[v.id][i])
        rule = v.observers.get(actor)
        shown = (_estimate(sc, v, value) if rule is not True else None) or _shown(sc, v, value)
        fact = f"- {variable_label(sc, v.id)}: {shown}"
        if _owner(v.id, sc.actors) == actor:
            groups["own"].append(fact)
        elif v.type == "bool" and not value:
            groups["quiet"].append(fact)
        elif rule is not True:
            groups["intelligence"].append(fact)
        elif {a for a, r in v.observers.items() if r is True} != everyone:
            groups["confidential"].append(fact)
        else:
            groups["world"].append(fact)
    titles = {
        "own": "Your own position:",
        "intelligence": "What your intelligence shows:",
        "confidential": "Known to you and some others:",
        "world": "Known to everyone:",
        "quiet": "Not the case (so far):",
    }
    for key, title in titles.items():
        if groups[key]:
            lines += [title, *groups[key], ""]
    seen = _reference_last_turn(sc, obs, i)
    if seen:
        lines += ["What you saw happen last turn:", *seen, ""]
    letters, proposals = _reference_letters(sc, obs, i)
    if letters:
        lines += ["Letters and statements you have seen:", *letters, ""]
    if proposals:
        lines += ["Proposals on the table:", *proposals, ""]
    legal = obs.legal[i]
    rules = {a.id: a for a in sc.actions_of(actor)}
    available = [a for a, ok in zip(obs.actions, legal, strict=True) if ok]
    lines.append(AVAILABLE_HEADING)
    for a in available:
        r = rules[a]
        rung = sc.escalation_labels.get(r.escalation, "")
        lines.append(
            f"- {a}: {r.label}. {_plain(r.summary, sc)}"
            + (f" (escalation: {r.escalation}, {rung})" if rung else "")
        )
    closed = [a for a, ok in zip(obs.actions, legal, strict=True) if not ok]
    if closed:
        lines += ["", UNAVAILABLE_HEADING]
        lines += [f"- {a}: {rules[a].label}" for a in closed]
    lines += ["", "Choose one available option by its id."]
    return "\n".join(lines)


def reference_seen_actions(obs: Observation) -> dict[str, np.ndarray]:
    """``Observation.seen_actions`` as it was computed, from the state."""
    out: dict[str, np.ndarray] = {}
    for other, chosen in obs._state.last_actions.items():
        rules = obs._engine.actions_by_actor[other]
        visible = np.array([obs.actor in a.seen_by for a in rules] + [False], dtype=bool)
        out[other] = np.where(visible[chosen], chosen, -1)
    return out


def reference_seen_events(obs: Observation) -> dict[str, np.ndarray]:
    """``Observation.seen_events`` as it was computed, from the state."""
    return {
        e.id: obs._state.last_events[e.index].copy()
        for e in obs._engine.scenario.events
        if obs.actor in e.seen_by
    }


def _reference_last_turn(sc: Scenario, obs: Observation, i: int) -> list[str]:
    out: list[str] = []
    defaults = {a.id: a.default_action for a in sc.spec.actors}
    for other, chosen in reference_seen_actions(obs).items():
        idx = int(chosen[i])
        if other == obs.actor or idx < 0:
            continue
        rule = sc.actions_of(other)[idx]
        if rule.id == defaults.get(other):
            continue
        out.append(f"- {_name(sc, other)}: {rule.label}. {_plain(rule.summary_for(obs.actor), sc)}")
    for event_id, fired in reference_seen_events(obs).items():
        if fired[i]:
            e = sc.event(event_id)
            out.append(f"- {e.label}. {_plain(e.summary_for(obs.actor), sc)}")
    return out


def _reference_letters(sc: Scenario, obs: Observation, i: int) -> tuple[list[str], list[str]]:
    views: list[str] = []
    proposals: list[str] = []
    vals, kn = obs.values, obs.known

    def seen(name: str) -> bool:
        return name in vals and bool(kn[name][i]) and bool(vals[name][i])

    for m in sc.messages:
        sent, received = seen(f"{m.id}_sent"), seen(f"{m.id}_received")
        if not (sent or received):
            continue
        kind = "Public statement" if m.public else "Private letter"
        status = "received" if received else "sent, not yet received"
        who = f"{_name(sc, m.sender)} to {', '.join(_name(sc, t) for t in m.to)}"
        views.append(f"- {kind}, {who} ({status}): {_plain(m.summary, sc)}")
        if received and m.terms and m.sender != obs.actor:
            proposals.append(f"- {_name(sc, m.sender)}: {', '.join(m.terms)}")
    return views, proposals


def reference_vectors(sc: Any, obs: Observation, turn: int, box: Any) -> np.ndarray:
    """The observation vectors as they were first computed: values, mask and clock stacked
    in float64, then cast to float32 and clipped."""
    _, seen = obs.matrix
    known = ~np.isnan(seen)
    values = np.where(known, seen, HIDDEN)
    clock = np.full((1, seen.shape[1]), min(turn / max(len(sc.clock) - 1, 1), 1.0))
    vector = np.concatenate([values, known.astype(np.float64), clock]).T.astype(np.float32)
    return np.clip(vector, box.low, box.high)


class ReferenceEnv(CrisisParallelEnv):
    """The environment read the plain way: a new observation for every use, the batch
    vector formula, the reference briefing."""

    def _observation(self, state: Any, actor: str) -> Observation:
        return self.engine.observe(state, actor)

    def _vectors(self, obs: Observation, turn: int) -> np.ndarray:
        return reference_vectors(self.scenario, obs, turn, self._boxes[obs.actor])

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
        elif self.briefings:
            obs = self.engine.observe(state, actor)
            info["briefing"] = reference_briefing(self.scenario, obs, 0)
        return info


# ---- the comparison ------------------------------------------------------------------


@cache
def scenario(ref: str) -> Scenario:
    return load_scenario(ref)


def same_observations(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for actor in a:
        assert a[actor].keys() == b[actor].keys()
        for k in a[actor]:
            x, y = a[actor][k], b[actor][k]
            assert x.dtype == y.dtype and x.shape == y.shape, (actor, k)
            assert x.tobytes() == y.tobytes(), (actor, k)


def same_infos(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a == b
    for actor in a:  # bools stay bools, numbers the same type
        for k in a[actor]:
            assert type(a[actor][k]) is type(b[actor][k]), (actor, k)


def pick(rng: np.random.Generator, mask: np.ndarray) -> int:
    """Mostly an available option, sometimes one that is not, or out of range."""
    u = rng.random()
    if u < 0.1:
        return int(rng.integers(-2, mask.size + 2))
    legal = np.flatnonzero(mask)
    return int(rng.choice(legal)) if legal.size else 0


def play_both(ref: str, seeds: list[int], action_seed: int, briefings: bool, **kw: Any) -> int:
    sc = scenario(ref)
    fast = CrisisParallelEnv(sc, briefings=briefings, **kw)
    plain = ReferenceEnv(sc, briefings=briefings, **kw)
    rng = np.random.default_rng(action_seed)
    steps = 0
    for seed in seeds:  # one environment across episodes, as a trainer uses it
        f_obs, f_inf = fast.reset(seed=seed)
        p_obs, p_inf = plain.reset(seed=seed)
        same_observations(f_obs, p_obs)
        same_infos(f_inf, p_inf)
        assert fast.agents == plain.agents
        while fast.agents:
            actions = {a: pick(rng, f_obs[a]["action_mask"]) for a in fast.agents}
            f_obs, f_rew, f_term, f_trunc, f_inf = fast.step(actions)
            p_obs, p_rew, p_term, p_trunc, p_inf = plain.step(actions)
            same_observations(f_obs, p_obs)
            assert f_rew == p_rew and all(type(r) is float for r in f_rew.values())
            assert f_term == p_term and f_trunc == p_trunc
            same_infos(f_inf, p_inf)
            assert fast.agents == plain.agents
            assert np.array_equal(fast.state(), plain.state())
            steps += 1
    return steps


@settings(max_examples=25, deadline=None)
@given(
    seeds=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=3),
    action_seed=st.integers(0, 2**32 - 1),
    briefings=st.booleans(),
)
def test_cuba_episodes_match_the_plain_reading(
    seeds: list[int], action_seed: int, briefings: bool
) -> None:
    assert play_both("cuba-1962", seeds, action_seed, briefings) > 0


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    action_seed=st.integers(0, 2**32 - 1),
    learners=st.sampled_from([["usa"], ["ussr"], ["cuba"], ["usa", "cuba"]]),
    start_turn=st.sampled_from([None, 0, 3, 8]),
)
def test_cuba_seats_and_starts_match_the_plain_reading(
    seed: int, action_seed: int, learners: list[str], start_turn: int | None
) -> None:
    play_both("cuba-1962", [seed], action_seed, True, learners=learners, start_turn=start_turn)


@settings(max_examples=15, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=3))
def test_mini_episodes_match_the_plain_reading(seeds: list[int]) -> None:
    play_both(MINI, seeds, seeds[0] % 2**32, True)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), turns=st.integers(0, 12))
def test_briefings_of_a_batch_match_the_plain_reading(seed: int, turns: int) -> None:
    """The briefing of each crisis of a many-row batch (the language-model leader's),
    random seats playing every actor for some turns."""
    from crisislab.agents.registry import make_agent
    from crisislab.engine.engine import Engine

    sc = scenario("cuba-1962")
    engine = Engine(sc)
    state = start_batch(engine, 6, seed)
    built = {a: make_agent("random", sc, a) for a in sc.players if sc.role(a) == "player"}
    agents = complete_agents(sc, built)
    for _ in range(turns):
        if state.done.all():
            break
        step_turn(engine, state, agents)
    env = CrisisParallelEnv(sc, briefings=False)
    for actor in sc.actors:
        obs = engine.observe(state, actor)
        plain = engine.observe(state, actor)
        for i in range(state.n):
            assert briefing(sc, obs, i) == reference_briefing(sc, plain, i)
        if actor in env.possible_agents:  # the learners' vectors of every crisis
            box = env.observation_space(actor)["observation"]
            got = observation_vectors(sc, obs, state.turn, box)
            want = reference_vectors(sc, plain, state.turn, box)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.tobytes() == want.tobytes()
        seen, want = obs.seen_actions, reference_seen_actions(plain)
        assert seen.keys() == want.keys()
        for k in want:
            assert seen[k].dtype == want[k].dtype and np.array_equal(seen[k], want[k])
        events, want = obs.seen_events, reference_seen_events(plain)
        assert list(events) == list(want)
        for k in want:
            assert events[k].dtype == want[k].dtype and np.array_equal(events[k], want[k])
            assert not np.shares_memory(events[k], state.last_events)


def test_a_kept_observation_is_not_used_after_a_reset_or_a_step() -> None:
    """The fast path would fail this if it kept an observation across turns or crises."""
    sc = scenario("cuba-1962")
    env = CrisisParallelEnv(sc)
    env.reset(seed=3)
    first = env._observation(env._require_state(), "usa")
    assert env._observation(env._require_state(), "usa") is first
    env.step({a: 0 for a in env.agents})
    assert env._observation(env._require_state(), "usa") is not first
    second = env._observation(env._require_state(), "usa")
    env.reset(seed=3)
    assert env._observation(env._require_state(), "usa") is not second


def reference_first_legal(legal: np.ndarray, order: list[int]) -> np.ndarray:
    out = np.full(legal.shape[0], order[-1], dtype=np.int64)
    undecided = np.ones(legal.shape[0], dtype=bool)
    for idx in order:
        take = undecided & legal[:, idx]
        out[take] = idx
        undecided &= ~take
    return out


@settings(max_examples=300, deadline=None)
@given(
    k=st.integers(1, 12),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    density=st.floats(0.0, 1.0),
)
def test_first_legal_of_one_row_is_the_loop_s(k: int, n: int, seed: int, density: float) -> None:
    """The scripted seats' pick (``first_legal``): one crisis read as plain booleans
    gives what the loop over the order gives, as many do."""
    from crisislab.agents.base import first_legal

    rng = np.random.default_rng(seed)
    legal = rng.random((n, k)) < density
    order = [int(i) for i in rng.permutation(k)[: int(rng.integers(1, k + 1))]]
    got = first_legal(legal, order)
    want = reference_first_legal(legal, order)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)
    for i in range(n):
        assert np.array_equal(first_legal(legal[i : i + 1], order), want[i : i + 1])
