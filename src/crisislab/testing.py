"""The conformance kit: checks that a scenario, an agent or the reinforcement-learning
environment keeps the promises the rest of crisislab relies on.

As Gymnasium ships ``check_env`` and PettingZoo its API tests, crisislab ships three
checks that a scenario's author, an agent's author or a learner's trainer runs on their
own work::

    from crisislab.testing import check_agent, check_env, check_scenario
    check_scenario("my-crisis.yaml")              # a path, a built-in id or a Scenario
    check_agent("hawk", "cuba-1962")              # a registered agent, or a factory
    check_agent(lambda sc, actor: MyAgent(sc, actor), "my-crisis.yaml")
    check_env(CrisisParallelEnv(load_scenario("october-1973")))

Each runs a list of named checks and returns a :class:`Report` of what it ran and what
it skipped, and why. The first check that fails raises :class:`ConformanceError`, whose
message says what failed, in which crisis and turn, and how to fix it.

The checks (names as in :data:`SCENARIO_CHECKS`, :data:`AGENT_CHECKS`,
:data:`ENV_CHECKS`; pass ``skip={...}`` to leave some out):

- ``determinism``: the same seed gives the same crises, crisis by crisis.
- ``alone_equals_batch``: a crisis run alone ends as it does inside a batch.
- ``lumped_equals_unlumped``: stepping crises that share a history as one row (what
  :func:`~crisislab.runner.run_batch` does for deterministic agents) changes no
  crisis (for agents that allow lumping).
- ``reuse``: an engine, an agent or an environment used for one run gives the same
  results when used again, as a fresh one does.
- ``information``: what an actor observes (``check_scenario``), or an agent chooses
  (``check_agent``), does not change when state its actor cannot see is scrambled.
- ``bounds``: variables stay within their declared ranges (whole numbers where declared
  so), chance hazards and an agent's choice probabilities are probabilities, choices are
  legal, the escalation peak is never below the escalation, every crisis ends with an
  outcome within the clock.
- ``time``: a large batch finishes within a time bound (``time_limit`` seconds; None
  leaves the check out). It is the only check that reads a clock, a generous bound for a
  person to see that a scenario or agent is not pathologically slow.

Runs are kept short with ``runs`` (crises per batch), ``start_turn`` (begin along the
historical track) and ``turns`` (stop after this many turns and compare the states
reached, instead of playing every crisis to its end).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crisislab.agents.base import Agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import lumpable
from crisislab.engine.loop import turns as play_turns
from crisislab.engine.observation import Observation
from crisislab.engine.state import BatchState
from crisislab.runner import complete_agents, historical_agents, run_batch, start_batch
from crisislab.scenario.loader import load_scenario
from crisislab.scenario.model import Scenario

SCENARIO_CHECKS = (
    "determinism",
    "alone_equals_batch",
    "lumped_equals_unlumped",
    "reuse",
    "information",
    "bounds",
    "time",
)
AGENT_CHECKS = (
    "protocol",
    "determinism",
    "alone_equals_batch",
    "lumped_equals_unlumped",
    "reuse",
    "information",
    "bounds",
    "time",
)
ENV_CHECKS = ("api", "spaces", "information", "bounds", "determinism", "reuse")

AgentFactory = Callable[[Scenario, str], Agent]
TOLERANCE = 1e-9  # how far a probability may stray from [0, 1] or its row sum from 1


class ConformanceError(AssertionError):
    """A conformance check failed. ``check`` names it; the message says what failed and
    how to fix it."""

    def __init__(self, subject: str, check: str, what: str, fix: str) -> None:
        self.subject = subject
        self.check = check
        self.what = what
        self.fix = fix
        super().__init__(f"{subject}: the {check} check failed: {what}\n  how to fix it: {fix}")


@dataclass
class Report:
    """What a check ran: the checks that passed, those skipped (with why), and the
    measured seconds of the time check when it ran."""

    subject: str
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float | None = None

    def __str__(self) -> str:
        lines = [
            f"{self.subject}: {len(self.passed)} checks passed"
            + (f" ({', '.join(self.passed)})" if self.passed else "")
        ]
        lines += [f"  skipped {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)


class _Checks:
    """Runs named checks in order, recording them in a report."""

    def __init__(self, subject: str, names: tuple[str, ...], skip: Collection[str]) -> None:
        unknown = sorted(set(skip) - set(names))
        if unknown:
            raise ValueError(
                f"no such check: {', '.join(unknown)}; the checks are: {', '.join(names)}"
            )
        self.report = Report(subject)
        self.skip = set(skip)
        self.current = names[0]

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Turn an error raised by what is checked into a failure of the current check."""
        try:
            yield
        except ConformanceError:
            raise
        except Exception as e:
            raise self.fail(
                self.current,
                f"the run raised {type(e).__name__}: {e}",
                "fix the error this names (its traceback is chained below)",
            ) from e

    def wants(self, name: str) -> bool:
        self.current = name
        if name in self.skip:
            self.report.skipped[name] = "left out by the caller"
            return False
        return True

    def passed(self, name: str) -> None:
        self.report.passed.append(name)

    def skipped(self, name: str, why: str) -> None:
        self.report.skipped[name] = why

    def fail(self, check: str, what: str, fix: str) -> ConformanceError:
        return ConformanceError(self.report.subject, check, what, fix)


# ---- shared machinery -----------------------------------------------------------------


def _scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _start(sc: Scenario, start_turn: int | None) -> int:
    start = sc.start_turn if start_turn is None else start_turn
    if not 0 <= start < len(sc.clock):
        raise ValueError(
            f"start_turn must be from 0 to {len(sc.clock) - 1} (the turns of {sc.id}), not {start}"
        )
    return start


def _play(
    engine: Engine,
    state: BatchState,
    agents: Mapping[str, Agent],
    turns: int | None,
    each_turn: Callable[[BatchState], None] | None = None,
) -> BatchState:
    """Step ``state`` for ``turns`` turns (to the end if None), calling ``each_turn``
    before every step and once after the last."""
    stop = None if turns is None else state.turn + turns
    if each_turn is not None:
        each_turn(state)
    for _ in play_turns(engine, state, agents, until=stop):
        if each_turn is not None:
            each_turn(state)
    return state


def _per_crisis(sc: Scenario, state: BatchState) -> dict[str, np.ndarray]:
    """What a crisis has come to, crisis by crisis, in a lumped or unlumped batch: its
    outcome, end turn, peak and payoffs, and the values of the crises still running."""
    out = {
        name: np.asarray(state.crisis_field(name), dtype=float)
        for name in ("outcome", "end_turn", "peak", "payoffs")
    }
    n = len(state.streams.crisis_ids)
    values = np.full((len(sc.variables), n), np.nan)
    if state.row_of is None:
        values[:] = state.values
    else:
        live = state.row_of >= 0
        values[:, live] = state.values[:, state.row_of[live]]
    values[:, out["outcome"] >= 0] = np.nan  # an ended crisis's values are not compared
    out["values"] = values
    return out


def _difference(
    sc: Scenario, a: dict[str, np.ndarray], b: dict[str, np.ndarray], ids: np.ndarray
) -> str | None:
    """The first crisis where two runs differ, in words; None if they agree."""
    for name in ("outcome", "end_turn", "peak", "payoffs", "values"):
        x, y = a[name], b[name]
        same = np.isclose(x, y, rtol=0, atol=1e-12, equal_nan=True)
        if same.all():
            continue
        column = np.flatnonzero(~same.reshape(-1, same.shape[-1]).all(axis=0))[0]
        crisis = int(ids[column])
        if name == "values":
            row = int(np.flatnonzero(~same[:, column])[0])
            return (
                f"crisis {crisis}: the variable '{sc.variables[row].id}' is "
                f"{x[row, column]!r} in one run and {y[row, column]!r} in the other"
            )
        if name == "outcome":

            def label(v: float) -> str:
                return sc.outcomes[int(v)].id if v >= 0 else "still running"

            return (
                f"crisis {crisis}: it ends in {label(x[column])} in one run and in "
                f"{label(y[column])} in the other"
            )
        return f"crisis {crisis}: its {name.replace('_', ' ')} differs between the runs"
    return None


def _scramble(
    sc: Scenario, state: BatchState, obs: Observation, columns: np.ndarray, rng: np.random.Generator
) -> int:
    """Redraw, in ``columns`` of ``state``, every variable the actor of ``obs`` cannot
    see there now (within its range); the number of values redrawn."""
    count = 0
    for v in sc.variables:
        if v.derived:
            continue
        known = obs.known.get(v.id)
        hidden = columns if known is None else columns[~np.asarray(known)[columns]]
        if hidden.size == 0:
            continue
        if v.type == "float":
            state.values[v.index, hidden] = rng.uniform(v.low, v.high, hidden.size)
        else:
            state.values[v.index, hidden] = rng.integers(int(v.low), int(v.high) + 1, hidden.size)
        count += hidden.size
    return count


def _probe_turns(start: int, turns: int, probes: int) -> set[int]:
    return {start + int(t) for t in np.linspace(0, max(turns - 1, 0), probes).round()}


class _HazardProbe:
    """A chance policy that checks each hazard is a probability and then draws it from
    its own seeded generator (the bounds check's runs need not match free runs)."""

    def __init__(self, sc: Scenario, seed: int) -> None:
        self.sc = sc
        self.rng = np.random.default_rng(seed)
        self.bad: str | None = None

    def decide(self, event: int, hazard: np.ndarray, eligible: np.ndarray, turn: int) -> np.ndarray:
        h = np.asarray(hazard, dtype=float)[eligible]
        wrong = ~np.isfinite(h) | (h < -TOLERANCE) | (h > 1 + TOLERANCE)
        if wrong.any() and self.bad is None:
            self.bad = (
                f"the event '{self.sc.events[event].id}' has a chance of "
                f"{h[wrong][0]!r} per turn at {self.sc.clock.turns[turn].label}"
            )
        return self.rng.random(hazard.shape[0]) < np.asarray(hazard, dtype=float)


def _bounds_problem(sc: Scenario, state: BatchState) -> str | None:
    """The first variable out of its range, or escalation above the peak, in words."""
    when = sc.clock.turns[min(state.turn, len(sc.clock) - 1)].label
    for v in sc.variables:
        row = state.values[v.index]
        bad = ~((row >= v.low) & (row <= v.high))
        if v.type in ("int", "enum", "bool"):
            bad |= row != np.rint(row)
        if bad.any():
            return (
                f"the variable '{v.id}' is {row[bad][0]!r} at {when}, outside what it "
                f"declares ({v.type} from {v.low:g} to {v.high:g})"
            )
    if (state.peak < state.escalation).any():
        return f"the escalation is above its recorded peak at {when}"
    return None


def _choice_problem(
    sc: Scenario,
    obs: Observation,
    actor: str,
    chosen: np.ndarray,
    policy: Callable[[Observation], np.ndarray] | None,
    state: BatchState,
) -> str | None:
    """What is wrong with an agent's choices (or its policy) this turn, in words."""
    chosen = np.asarray(chosen)
    if chosen.shape != (obs.n,) or not np.issubdtype(chosen.dtype, np.integer):
        return (
            f"act() for '{actor}' returned {chosen.dtype} of shape {chosen.shape}, not "
            f"{obs.n} whole numbers"
        )
    k = len(obs.actions)
    inside = (chosen >= 0) & (chosen < k)
    ok = inside & obs.legal[np.arange(obs.n), np.clip(chosen, 0, k - 1)]
    bad = obs.active & ~ok
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = sc.actions_of(actor)[chosen[i]].id if inside[i] else f"option number {chosen[i]}"
        return (
            f"at {obs.label} the agent for '{actor}' chose {what}, which is not "
            f"available to it in crisis {int(state.streams.crisis_ids[i])}"
        )
    if policy is not None:
        p = np.asarray(policy(obs), dtype=float)
        if p.shape != (obs.n, k):
            return f"policy() for '{actor}' has shape {p.shape}, not {(obs.n, k)}"
        rows, legal = p[obs.active], obs.legal[obs.active]
        if (
            not np.isfinite(rows).all()
            or (rows < -TOLERANCE).any()
            or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-6)
            or (rows[~legal] > TOLERANCE).any()
        ):
            return (
                f"at {obs.label} policy() for '{actor}' is not a probability over the "
                "available options in every running crisis"
            )
    return None


def _leak(
    sc: Scenario,
    engine: Engine,
    state: BatchState,
    seats: list[str],
    probers: Mapping[str, Agent],
    rng: np.random.Generator,
) -> str | None:
    """Pairs of copies of running crises, the second of each with what a seat cannot see
    redrawn: the first seat whose agent chooses differently between the two, in words."""
    live = np.flatnonzero(~state.done)[:8]
    if live.size == 0:
        return None
    for a in seats:
        twin = state.select(np.repeat(live, 2))
        _scramble(sc, twin, engine.observe(twin, a), np.arange(1, twin.n, 2), rng)
        obs = engine.observe(twin, a)
        chosen = np.asarray(probers[a].act(obs))
        differ = chosen[0::2] != chosen[1::2]
        policy = getattr(probers[a], "policy", None)
        if policy is not None:
            p = np.asarray(policy(obs), dtype=float)
            differ |= ~np.isclose(p[0::2], p[1::2]).all(axis=1)
        if differ.any():
            i = int(np.flatnonzero(differ)[0])
            first, second = (sc.actions_of(a)[int(c)].id for c in chosen[2 * i : 2 * i + 2])
            how = (
                f"{first} against {second}"
                if first != second
                else "its choice probabilities differ"
            )
            return (
                f"at {obs.label} the agent for '{a}' chooses differently in two copies "
                f"of crisis {int(twin.streams.crisis_ids[2 * i])} that differ only in "
                f"values '{a}' cannot see ({how})"
            )
    return None


# ---- scenarios ---------------------------------------------------------------------------


def _time_check(
    checks: _Checks,
    time_limit: float | None,
    clock: Callable[[], float],
    large_batch: int,
    run: Callable[[], Any],
    what: str,
    fix: str,
) -> None:
    """The time check of a kit: ``run`` (a batch of ``large_batch`` crises of ``what``)
    within ``time_limit`` seconds by ``clock``, or skipped without a limit."""
    if time_limit is None:
        checks.skipped("time", "no time limit given")
        return
    began = clock()
    run()
    seconds = clock() - began
    checks.report.seconds = seconds
    if seconds > time_limit:
        raise checks.fail(
            "time",
            f"{large_batch:,} {what} took {seconds:.1f} s, more than the {time_limit:g} s allowed",
            fix,
        )
    checks.passed("time")


def check_scenario(
    scenario: Scenario | str | Path,
    *,
    runs: int = 64,
    seed: int = 0,
    start_turn: int | None = None,
    turns: int | None = None,
    probes: int = 5,
    time_limit: float | None = 120.0,
    large_batch: int = 100_000,
    skip: Collection[str] = (),
    clock: Callable[[], float] = time.perf_counter,
) -> Report:
    """Check that a scenario runs as the engine promises (see the module docstring).

    Crises are played by agents that choose at random among the legal options (so every
    corner the rules allow is visited) and, for lumping and the time bound, by the
    historical agents. ``time_limit`` bounds the seconds a batch of ``large_batch``
    crises under the historical agents may take (None leaves the time check out)."""
    from crisislab.agents.historical import RandomAgent

    sc = _scenario(scenario)
    checks = _Checks(f"scenario {sc.id} {sc.version}", SCENARIO_CHECKS, skip)
    with checks.guard():
        start = _start(sc, start_turn)
        span = len(sc.clock) - start if turns is None else turns
        ids = np.arange(runs, dtype=np.int64)

        def randoms() -> dict[str, Agent]:
            return complete_agents(
                sc, {a: RandomAgent(sc, a) for a in sc.players if sc.role(a) == "player"}
            )

        def run(
            engine: Engine,
            agents: Mapping[str, Agent],
            lumped: bool = False,
            crisis_ids: np.ndarray = ids,
            each_turn: Callable[[BatchState], None] | None = None,
        ) -> dict[str, np.ndarray]:
            state = start_batch(
                engine,
                len(crisis_ids),
                seed,
                crisis_ids=crisis_ids,
                start_turn=start,
                lumped=lumped,
            )
            return _per_crisis(sc, _play(engine, state, agents, turns, each_turn))

        engine = Engine(sc)
        first = run(engine, randoms())
        if checks.wants("determinism"):
            diff = _difference(sc, first, run(Engine(sc), randoms()), ids)
            if diff:
                raise checks.fail(
                    "determinism",
                    f"two runs with seed {seed} differ: {diff}",
                    "draw every chance from the crises' streams (the engine's "
                    "hazards, an agent's observation.uniform()); no rule may read "
                    "a clock, a global generator or the order of a set",
                )
            checks.passed("determinism")
        if checks.wants("alone_equals_batch"):
            for i in sorted({0, runs // 2, runs - 1}):
                alone = run(Engine(sc), randoms(), crisis_ids=ids[i : i + 1])
                diff = _difference(
                    sc, {k: v[..., i : i + 1] for k, v in first.items()}, alone, ids[i : i + 1]
                )
                if diff:
                    raise checks.fail(
                        "alone_equals_batch",
                        f"crisis {i} alone differs from crisis {i} in a batch of {runs}: {diff}",
                        "a crisis's rules must read only its own column of the "
                        "state: no sums, means or orderings across crises",
                    )
            checks.passed("alone_equals_batch")
        if checks.wants("lumped_equals_unlumped"):
            hist = complete_agents(sc, historical_agents(sc))
            plain = run(Engine(sc), hist, lumped=False)
            lumped = run(Engine(sc), hist, lumped=True)
            diff = _difference(sc, plain, lumped, ids)
            if diff:
                raise checks.fail(
                    "lumped_equals_unlumped",
                    f"under the historical agents a lumped batch differs from the "
                    f"same crises stepped one by one: {diff}",
                    "this is an engine fault, not the scenario's: report it with "
                    "the scenario file and the seed",
                )
            checks.passed("lumped_equals_unlumped")
        if checks.wants("reuse"):
            diff = _difference(sc, first, run(engine, randoms()), ids)
            if diff:
                raise checks.fail(
                    "reuse",
                    f"an engine used once gives other crises when reset with the same seed: {diff}",
                    "keep no state in the engine between runs: everything a crisis "
                    "holds must live in its BatchState",
                )
            checks.passed("reuse")
        if checks.wants("information"):
            rng = np.random.default_rng(seed)
            at = _probe_turns(start, span, probes)
            problem: list[str] = []

            def probe(state: BatchState) -> None:
                if problem or state.turn not in at or state.done.all():
                    return
                live = np.flatnonzero(~state.done)[:8]
                twin = state.select(np.repeat(live, 2))
                for actor in sc.actors:
                    before = engine.observe(twin, actor)
                    rows = [before.row(i) for i in range(0, twin.n, 2)]
                    legal = before.legal[0::2].copy()
                    scrambled = twin.select(np.arange(twin.n))
                    _scramble(sc, scrambled, before, np.arange(1, twin.n, 2), rng)
                    after = engine.observe(scrambled, actor)
                    for k, i in enumerate(range(1, twin.n, 2)):
                        seen = after.row(i)
                        if seen != rows[k] or not np.array_equal(after.legal[i], legal[k]):
                            changed = sorted(
                                set(seen["state"].items()) ^ set(rows[k]["state"].items())
                            )
                            first_change = changed[:1] or "its options"
                            problem.append(
                                f"at {before.label}, what '{actor}' observes changes when values "
                                f"it cannot see are redrawn (first change: {first_change})"
                            )
                            return

            run(engine, randoms(), each_turn=probe)
            if problem:
                raise checks.fail(
                    "information",
                    problem[0],
                    "make the variable's `observers` rule, and every `when` of the "
                    "actor's actions, read only what the actor always sees",
                )
            checks.passed("information")
        if checks.wants("bounds"):
            hazards = _HazardProbe(sc, seed)
            agents = randoms()
            state = start_batch(engine, runs, seed, start_turn=start)
            stop = None if turns is None else state.turn + turns
            problem_text = _bounds_problem(sc, state)
            if problem_text is None and hazards.bad is None:
                for _ in play_turns(engine, state, agents, until=stop, chance=hazards):
                    problem_text = _bounds_problem(sc, state)
                    if problem_text is not None or hazards.bad is not None:
                        break
            if hazards.bad is not None:
                raise checks.fail(
                    "bounds",
                    hazards.bad,
                    "write the event's `hazard` so that it stays from 0 to 1 (or a "
                    "rate the event's `per` converts) for every value in range",
                )
            if problem_text is not None:
                raise checks.fail(
                    "bounds",
                    problem_text,
                    "give the variable a range that holds every value its effects "
                    "can produce, or bound the effects (min(), max())",
                )
            if turns is None and (state.outcome < 0).any():
                raise checks.fail(
                    "bounds",
                    "some crises have no outcome at the end of the clock",
                    "give the scenario a default outcome that holds on the last turn (`final`)",
                )
            checks.passed("bounds")
        if checks.wants("time"):
            _time_check(
                checks,
                time_limit,
                clock,
                large_batch,
                lambda: run_batch(
                    sc, historical_agents(sc), large_batch, seed=seed, start_turn=start_turn
                ),
                "crises under the historical agents",
                "look for rules that stop crises from being lumped (stochastic "
                "agents) or rows that never end; docs/performance.md explains what "
                "costs time",
            )
    return checks.report


# ---- agents ------------------------------------------------------------------------------


def _factory(agent: AgentFactory | str) -> tuple[AgentFactory, str]:
    if isinstance(agent, str):
        from crisislab.agents.registry import make_agent

        spec = agent
        return (lambda sc, actor: make_agent(spec, sc, actor)), f"agent '{spec}'"
    name = getattr(agent, "name", None) or getattr(agent, "__name__", "agent")
    return agent, f"agent {name}"


def check_agent(
    agent: AgentFactory | str,
    scenario: Scenario | str | Path,
    *,
    actors: Collection[str] | None = None,
    runs: int = 32,
    seed: int = 0,
    start_turn: int | None = None,
    turns: int | None = None,
    probes: int = 4,
    time_limit: float | None = 120.0,
    large_batch: int = 10_000,
    skip: Collection[str] = (),
    clock: Callable[[], float] = time.perf_counter,
) -> Report:
    """Check an agent (a registered name such as ``"hawk"`` or ``"leader:preset=hawk"``,
    or a factory ``(scenario, actor) -> agent``) in the seats ``actors`` of a scenario
    (every player's by default; the other seats are played by the historical agent).

    Each run builds fresh agents from the factory, except the ``reuse`` check, which plays
    the same agents again and expects what fresh ones do."""
    factory, subject = _factory(agent)
    sc = _scenario(scenario)
    seats = [a for a in sc.players if sc.role(a) == "player"] if actors is None else list(actors)
    unknown = [a for a in seats if a not in sc.players]
    if unknown or not seats:
        raise ValueError(
            f"actors must be acting actors of {sc.id} "
            f"({', '.join(sc.players)}), not {unknown or 'none'}"
        )
    checks = _Checks(f"{subject} on {sc.id}", AGENT_CHECKS, skip)
    with checks.guard():
        start = _start(sc, start_turn)
        span = len(sc.clock) - start if turns is None else turns
        ids = np.arange(runs, dtype=np.int64)

        def build() -> dict[str, Agent]:
            made = {a: factory(sc, a) for a in seats}
            others = {
                a: x
                for a, x in historical_agents(sc).items()
                if a not in made and sc.role(a) == "player"
            }
            return complete_agents(sc, {**others, **made})

        def run(
            agents: Mapping[str, Agent],
            lumped: bool = False,
            crisis_ids: np.ndarray = ids,
            each_turn: Callable[[BatchState], None] | None = None,
            engine: Engine | None = None,
        ) -> dict[str, np.ndarray]:
            engine = engine or Engine(sc)
            state = start_batch(
                engine,
                len(crisis_ids),
                seed,
                crisis_ids=crisis_ids,
                start_turn=start,
                lumped=lumped,
            )
            return _per_crisis(sc, _play(engine, state, agents, turns, each_turn))

        agents = build()
        if checks.wants("protocol"):
            for a in seats:
                made = agents[a]
                missing = [
                    k for k in ("name", "stochastic", "needs_model_server") if not hasattr(made, k)
                ]
                if missing or not callable(getattr(made, "act", None)):
                    raise checks.fail(
                        "protocol",
                        f"the agent for '{a}' lacks "
                        f"{', '.join(missing) or 'an act(observation) method'}",
                        "give the class `name`, `stochastic` and "
                        "`needs_model_server` class attributes and an "
                        "act(observation) method (crisislab.agents.base.Agent)",
                    )
                if made.needs_model_server:
                    checks.skipped("protocol", "the agent needs a model server")
                    checks.report.skipped.update(
                        {c: "the agent needs a model server" for c in AGENT_CHECKS[1:]}
                    )
                    return checks.report
            checks.passed("protocol")
        # the first run checks the bounds and the information, turn by turn: the run's own
        # agents are asked only what the run asks them (an agent may remember its calls);
        # policies and scrambled copies go to separate probing agents
        engine = Engine(sc)
        probers = build()
        want_bounds = checks.wants("bounds")
        want_information = checks.wants("information")
        at = _probe_turns(start, span, probes)
        rng = np.random.default_rng(seed + 1)
        problems: dict[str, str] = {}
        checks.current = "bounds"  # what the first run is for, if it fails on its own
        state = start_batch(engine, runs, seed, crisis_ids=ids, start_turn=start)
        stop = None if turns is None else state.turn + turns

        def decided(choices: dict[str, np.ndarray]) -> None:
            """Check each turn's choices and observations before the step applies them."""
            if want_bounds and "bounds" not in problems:
                for a in seats:
                    problem = _choice_problem(
                        sc,
                        engine.observe(state, a),
                        a,
                        choices[a],
                        getattr(probers[a], "policy", None),
                        state,
                    )
                    if problem:
                        problems["bounds"] = problem
                        break
            if want_information and "information" not in problems and state.turn in at:
                leak = _leak(sc, engine, state, seats, probers, rng)
                if leak:
                    problems["information"] = leak

        for _ in play_turns(engine, state, agents, until=stop, decided=decided):
            pass
        first = _per_crisis(sc, state)
        if want_bounds:
            if "bounds" in problems:
                raise checks.fail(
                    "bounds",
                    problems["bounds"],
                    "choose only among observation.legal (e.g. with "
                    "crisislab.agents.base.first_legal); a policy gives each "
                    "crisis non-negative probabilities on legal options, summing "
                    "to 1",
                )
            checks.passed("bounds")
        if want_information:
            if "information" in problems:
                raise checks.fail(
                    "information",
                    problems["information"],
                    "read the crisis only through the observation's public "
                    "methods (values, known, legal, seen_actions, seen_events, "
                    "row); never its private state. An agent that plans from the "
                    "true state on purpose should say so in its documentation "
                    "and skip this check",
                )
            checks.passed("information")
        if checks.wants("determinism"):
            diff = _difference(sc, first, run(build()), ids)
            if diff:
                raise checks.fail(
                    "determinism",
                    f"two runs with seed {seed} differ: {diff}",
                    "draw chance only from observation.uniform(); never from "
                    "numpy's or Python's global generators, a clock or the order "
                    "of a set",
                )
            checks.passed("determinism")
        if checks.wants("alone_equals_batch"):
            for i in (runs - 1,):
                alone = run(build(), crisis_ids=ids[i : i + 1])
                diff = _difference(
                    sc, {k: v[..., i : i + 1] for k, v in first.items()}, alone, ids[i : i + 1]
                )
                if diff:
                    raise checks.fail(
                        "alone_equals_batch",
                        f"crisis {i} alone differs from crisis {i} in a batch of {runs}: {diff}",
                        "choose for each crisis from its own row of the "
                        "observation; no statistics across the batch, no "
                        "draws shaped by its size",
                    )
            checks.passed("alone_equals_batch")
        if checks.wants("lumped_equals_unlumped"):
            if not lumpable(build()):
                checks.skipped(
                    "lumped_equals_unlumped",
                    "the agent declares its own chance (stochastic, without a "
                    "policy), so its batches are never lumped",
                )
            else:
                diff = _difference(sc, first, run(build(), lumped=True), ids)
                if diff:
                    raise checks.fail(
                        "lumped_equals_unlumped",
                        f"a lumped batch (one row per shared history) differs from "
                        f"the same crises stepped one by one: {diff}",
                        "an agent that is not stochastic must choose the same in "
                        "every crisis that looks the same to it; one that draws "
                        "chance should give policy() and let the engine draw, or "
                        "declare stochastic = True without a policy",
                    )
                checks.passed("lumped_equals_unlumped")
        if checks.wants("reuse"):
            diff = _difference(sc, first, run(agents), ids)
            if diff:
                raise checks.fail(
                    "reuse",
                    f"the same agents, played a second time, give other "
                    f"crises than fresh ones: {diff}",
                    "keep nothing between calls that the next crisis could read "
                    "(or key it by the crisis and turn), so that an agent can be "
                    "reused across runs",
                )
            checks.passed("reuse")
        if checks.wants("time"):
            _time_check(
                checks,
                time_limit,
                clock,
                large_batch,
                lambda: run_batch(sc, build(), large_batch, seed=seed, start_turn=start_turn),
                "crises",
                "vectorise act() over the batch (numpy on whole columns, not a loop "
                "over crises), or choose once per distinct observation",
            )
    return checks.report


# ---- the reinforcement-learning environment ------------------------------------------------


def check_env(
    env: Any, *, seed: int = 0, episodes: int = 1, api_cycles: int = 50, skip: Collection[str] = ()
) -> Report:
    """Check a PettingZoo parallel environment such as
    :class:`crisislab.rl.CrisisParallelEnv`, through its public API only: PettingZoo's
    own parallel API test (``api``), observations inside their spaces with an available
    action for every live seat (``spaces``), hidden entries that show nothing
    (``information``: a value is 0 wherever its mask says hidden), rewards only at the
    end and finite, and episodes that end within the clock (``bounds``), the same
    episode for the same seed (``determinism``) and again after ``episodes`` episodes of
    other seeds (``reuse``). Actions are a fixed choice among the legal ones, so an
    episode can be replayed."""
    import io

    from crisislab.extras import missing_extra

    with missing_extra("rl"):
        from pettingzoo.test import parallel_api_test

    scenario = getattr(env, "scenario", None)
    name = getattr(scenario, "id", type(env).__name__)
    checks = _Checks(f"environment on {name}", ENV_CHECKS, skip)
    with checks.guard():
        if checks.wants("api"):
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    parallel_api_test(env, num_cycles=api_cycles)
            except AssertionError as e:
                raise checks.fail(
                    "api",
                    f"PettingZoo's parallel API test failed: {e}",
                    "follow pettingzoo.ParallelEnv: reset() returns (observations, "
                    "infos), step() five dicts keyed by the live agents",
                ) from None
            checks.passed("api")
        want = {c: checks.wants(c) for c in ("spaces", "information", "bounds")}
        limit = len(scenario.clock) + 1 if scenario is not None else 100_000

        def policy(obs: dict[str, Any], step: int) -> dict[str, int]:
            """A fixed, seed-free choice among the legal actions (to replay an episode)."""
            picks = {}
            for a in env.agents:
                legal = np.flatnonzero(obs[a]["action_mask"])
                picks[a] = int(legal[(step * 7 + len(a)) % legal.size]) if legal.size else 0
            return picks

        def look(obs: dict[str, Any], step: int, s: int) -> None:
            for a, o in obs.items():
                if want["spaces"]:
                    if not env.observation_space(a).contains(o):
                        raise checks.fail(
                            "spaces",
                            f"the observation of '{a}' at step {step} "
                            f"of seed {s} is not inside its observation space",
                            "clip values to the space's box, and keep its dtypes",
                        )
                    if a in env.agents and not np.asarray(o["action_mask"]).any():
                        raise checks.fail(
                            "spaces",
                            f"'{a}' has no available action at step {step} of seed {s}",
                            "every seat of a running crisis needs an option (its default action)",
                        )
                if want["information"]:
                    vector = np.asarray(o["observation"])
                    k = (vector.size - 1) // 2
                    if ((vector[k : 2 * k] == 0) & (vector[:k] != 0)).any():
                        raise checks.fail(
                            "information",
                            f"the observation of '{a}' at step "
                            f"{step} of seed {s} shows a value where its mask says "
                            "the value is hidden",
                            "show 0 for every variable the actor cannot see now",
                        )

        def episode(s: int) -> list[Any]:
            obs, _ = env.reset(seed=s)
            look(obs, 0, s)
            trail: list[Any] = [_plain(obs)]
            step = 0
            while env.agents:
                obs, rewards, terms, truncs, _ = env.step(policy(obs, step))
                step += 1
                look(obs, step, s)
                trail.append((_plain(obs), dict(rewards), dict(terms), dict(truncs)))
                if want["bounds"]:
                    over = all(terms.values()) or all(truncs.values())
                    if not over and any(r != 0 for r in rewards.values()):
                        raise checks.fail(
                            "bounds",
                            f"a reward before the end of the episode (step {step} of seed {s})",
                            "give rewards only when the crisis ends",
                        )
                    if not all(np.isfinite(r) for r in rewards.values()):
                        raise checks.fail(
                            "bounds",
                            f"a reward that is not a finite number (step {step} of seed {s})",
                            "check the outcomes' payoffs",
                        )
                    if step > limit:
                        raise checks.fail(
                            "bounds",
                            f"the episode of seed {s} runs past the scenario's clock",
                            "end every crisis on its last turn",
                        )
            return trail

        first = episode(seed)
        for c in ("spaces", "information", "bounds"):
            if want[c]:
                checks.passed(c)
        if checks.wants("determinism"):
            if episode(seed) != first:
                raise checks.fail(
                    "determinism",
                    f"two episodes reset with seed {seed} and played with the same actions differ",
                    "draw chance only from the crisis's streams, seeded by reset()",
                )
            checks.passed("determinism")
        if checks.wants("reuse"):
            for k in range(1, episodes + 1):
                episode(seed + k)
            if episode(seed) != first:
                raise checks.fail(
                    "reuse",
                    "an episode replayed after others differs from its first playing",
                    "let reset() rebuild everything an episode "
                    "holds, keeping nothing from the last one",
                )
            checks.passed("reuse")
    return checks.report


def _plain(value: Any) -> Any:
    """Observations as nested lists, comparable with ``==``."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
