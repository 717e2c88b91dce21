"""The one engine: a batch of N independent crises advanced turn by turn with numpy.

An interactive game is a batch of one, a Monte Carlo run a batch of a million; both go
through :meth:`Engine.step`, so play and statistics share every rule. The engine holds
no randomness of its own: chance events draw from the crises' :class:`CrisisStreams`.
"""

from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from crisislab.engine.observation import Observation
from crisislab.engine.state import BatchState
from crisislab.engine.streams import AGENT_STREAM_BASE, CrisisStreams, below
from crisislab.engine.subenv import SubEnv
from crisislab.scenario.expr import (
    Effect,
    Node,
    Value,
    evaluate,
    evaluate_scalar,
    names_in,
    scalar_function,
)
from crisislab.scenario.model import EventRule, Scenario, VariableRule

ChanceMode = Literal["free", "history"]
COMPACT_MIN_ROWS = 256  # a lumped batch drops its ended rows once they are most of it
MERGE_GROWTH = 3.0  # and joins rows whose states met again once rows have tripled


class ChancePolicy(Protocol):
    """Decides chance events instead of the random streams, for analyses that enumerate
    chance (a game tree's chance nodes): given an event, its per-row hazard and which
    rows are eligible, say which rows it fires in."""

    def decide(
        self, event: int, hazard: np.ndarray, eligible: np.ndarray, turn: int
    ) -> np.ndarray: ...


class IllegalAction(ValueError):
    """An agent chose an action that is not available to it in some crisis."""


@dataclass(frozen=True)
class Change:
    variable: str
    before: float
    after: float


@dataclass(frozen=True)
class Happening:
    """One action taken or event fired in a traced crisis, with what it changed."""

    turn: int
    kind: Literal["action", "event", "outcome", "delivery"]
    id: str
    actor: str | None
    changes: tuple[Change, ...]


@dataclass
class StepResult:
    """What one step did, per crisis."""

    turn: int
    actions: dict[str, np.ndarray]  # actor -> local action index (-1 where the crisis had ended)
    events: np.ndarray  # (E, N) bool: fired this turn
    ended: np.ndarray  # (N,) bool: ended this turn
    trace: list[Happening] = field(default_factory=list)


@dataclass
class _Turn:
    """What the phases of one :meth:`Engine.step` share, as the step goes: the turn, a
    batch of one row (then the rules read plain numbers, ``fenv``) and whether its crisis
    runs, the rules' environments (renewed when a chance draw splits lumped rows), the
    result so far and each actor's choice (``picked``: one row's, as a number)."""

    t: int
    one: bool
    running: bool
    env: Mapping[str, Value]
    fenv: Mapping[str, Value]
    result: StepResult
    trace: bool
    chance: ChancePolicy | None
    chosen: dict[str, np.ndarray] = field(default_factory=dict)
    picked: dict[str, int] = field(default_factory=dict)


class _ScalarEnv(Mapping[str, Value]):
    """The names of a batch of one row as plain numbers, read from the state when asked
    (so an effect shows in what is read after it, as it does through the array env's
    views): what :func:`evaluate_scalar` reads."""

    __slots__ = ("_state", "_index", "_fixed")

    def __init__(
        self, state: BatchState, index: Mapping[str, int], fixed: Mapping[str, Value]
    ) -> None:
        self._state = state
        self._index = index
        self._fixed = fixed  # the parameters and the clock's builtins

    def __getitem__(self, key: str) -> Value:
        i = self._index.get(key)
        if i is not None:
            return self._state._values.item(i, 0)  # type: ignore[no-any-return]
        if key == "escalation":
            return self._state._escalation.item(0)  # type: ignore[no-any-return]
        if key == "peak_escalation":
            return self._state._peak.item(0)  # type: ignore[no-any-return]
        return self._fixed[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self._index
        yield from self._fixed
        yield from ("escalation", "peak_escalation")

    def __len__(self) -> int:
        return len(self._index) + len(self._fixed) + 2


class Engine:
    """Runs a :class:`Scenario`. ``chance='history'`` fires chance events exactly where the
    historical track puts them and never elsewhere (used to replay what happened)."""

    def __init__(
        self, scenario: Scenario, chance: ChanceMode = "free", watch: float = float("inf")
    ) -> None:
        self.scenario = scenario
        self.chance = chance
        self.watch = watch  # noted per crisis: the first turn its escalation reached this
        self.var_index = {v.id: v.index for v in scenario.variables}
        self.players = scenario.players
        self.actions_by_actor = {a: scenario.actions_of(a) for a in scenario.actors}
        self.action_ids = {
            a: tuple(r.id for r in rules) for a, rules in self.actions_by_actor.items()
        }
        self.forced: dict[int, set[int]] = {}
        for step in scenario.track:
            if step.event is not None:
                self.forced.setdefault(step.turn, set()).add(scenario.event(step.event).index)
        self.n_turns = len(scenario.clock)
        self._msg_vars = {
            m.id: (self.var_index[f"{m.id}_sent"], self.var_index[f"{m.id}_received"])
            for m in scenario.messages
        }
        self._message_index = {m.id: i for i, m in enumerate(scenario.messages)}
        # per actor: the variables it may ever observe, with their visibility rules (True:
        # always), their rows in the state, and (place, rule) of those seen only sometimes
        self.observed: dict[str, dict[str, Node | bool]] = {
            a: {
                v.id: v.observers[a]
                for v in scenario.variables
                if v.observers.get(a) not in (None, False)
            }
            for a in scenario.actors
        }
        self.observed_index = {
            a: (tuple(seen), np.array([self.var_index[k] for k in seen], dtype=np.int64))
            for a, seen in self.observed.items()
        }
        # per actor: what its options' conditions read (rows of the state, and the other
        # names), so that a batch of one row finds its options by that key once per
        # distinct key (``legal_row``)
        self._legal_reads: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
        for a, rules in self.actions_by_actor.items():
            read: set[str] = set()
            for rule in rules:
                read |= names_in(rule.when)
            rows = sorted(self.var_index[k] for k in read if k in self.var_index)
            others = tuple(sorted(k for k in read if k not in self.var_index))
            self._legal_reads[a] = (np.array(rows, dtype=np.int64), others)
        self._legal_kept: dict[str, dict[Any, np.ndarray]] = {a: {} for a in self.actions_by_actor}
        self.observed_rules: dict[str, list[tuple[int, Node]]] = {
            a: [(i, rule) for i, rule in enumerate(seen.values()) if not isinstance(rule, bool)]
            for a, seen in self.observed.items()
        }
        self._var_rules = {v.id: v for v in scenario.variables}
        self._var_ids = [v.id for v in scenario.variables]
        self._vars_in_order = all(v.index == i for i, v in enumerate(scenario.variables))
        # the events' and outcomes' conditions as evaluate_scalar runs them (the same
        # closures, looked up once rather than once a turn), for a batch of one row
        self._compile_whens()
        self._turn_names: dict[int, dict[str, Value]] = {}
        self._env_kept: (
            tuple[Any, tuple[int, int], tuple[np.ndarray, ...], dict[str, Value]] | None
        ) = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_env_kept"] = None  # a weak reference to a batch: not for other processes
        state["_legal_kept"] = {a: {} for a in self.actions_by_actor}  # found again there
        del state["_event_whens"], state["_outcome_whens"]  # closures: compiled again there
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._compile_whens()

    def _compile_whens(self) -> None:
        """The events' and outcomes' conditions as :func:`evaluate_scalar` runs them (the
        same closures, looked up once rather than once a turn), for a batch of one row."""
        self._event_whens = [scalar_function(e.when) for e in self.scenario.events]
        self._outcome_whens = [scalar_function(o.when) for o in self.scenario.outcomes]

    # ---- set-up -------------------------------------------------------------------------

    def start(
        self,
        n: int,
        seed: int | np.random.SeedSequence = 0,
        crisis_ids: np.ndarray | None = None,
        lumped: bool = False,
        streams: CrisisStreams | None = None,
        origin: BatchState | None = None,
    ) -> BatchState:
        """A fresh batch of ``n`` crises (crisis ids ``0..n-1`` unless given), each a copy
        of row 0 of ``origin``, by default the scenario's state at turn 0 (its first turn,
        before anything has happened). To begin at the scenario's start or another turn
        reached along the historical track, use :func:`crisislab.runner.start_batch`.

        ``lumped`` steps crises that share a history as one row (see
        :class:`BatchState`); it is exact, and right whenever every agent is
        deterministic given what it observes. ``streams``, if given, are the crises'
        random streams (``n`` of them) in place of those of ``seed`` and ``crisis_ids``."""
        if streams is None:
            ids = np.arange(n, dtype=np.int64) if crisis_ids is None else np.asarray(crisis_ids)
            streams = CrisisStreams(seed, ids)
        elif len(streams) != n:
            raise ValueError(f"start() was given {len(streams)} streams for {n} crises")
        # one crisis, then copied: to every crisis, or (lumped) as one row for all of
        # them, never a million copies to lump again
        single = (
            BatchState.initial(self.scenario, streams.subset(np.array([0])), turn=0)
            if origin is None
            else origin
        )
        state = single.lump(streams) if lumped else single.tiled(streams)
        self._begin_turn(state)
        return state

    # ---- what an actor sees ------------------------------------------------------------

    def env(self, state: BatchState) -> dict[str, Value]:
        """Every name an expression may read, for the whole batch."""
        return dict(self._env(state))

    def _fixed(self, t: int) -> dict[str, Value]:
        """The names that are the same in every crisis at turn ``t``: the parameters and
        the clock's builtins (kept per turn)."""
        names = self._turn_names.get(t)
        if names is None:
            turn = self.scenario.clock.turns[min(t, self.n_turns - 1)]
            names = dict(self.scenario.parameters)
            names["turn"] = float(t)
            names["day"] = turn.day
            names["turn_days"] = turn.step_days
            names["final"] = t >= self.n_turns - 1
            self._turn_names[t] = names
        return names

    def _env(self, state: BatchState) -> dict[str, Value]:
        """:meth:`env`, shared: kept on the state while its turn, its number of rows and
        its arrays are the same (the env holds views of the arrays, so it shows every
        change made in them). Never to be changed by its readers."""
        arrays = (state._values, state._escalation, state._peak)
        kept = self._env_kept
        if (
            kept is not None
            and kept[0]() is state
            and kept[1] == (state.turn, state.n)
            and all(a is b for a, b in zip(kept[2], arrays, strict=True))
        ):
            return kept[3]
        values = state.values
        env: dict[str, Value] = (
            dict(zip(self._var_ids, values, strict=True))  # the rows' views, in order
            if self._vars_in_order
            else {v.id: values[v.index] for v in self.scenario.variables}
        )
        env.update(self._fixed(state.turn))
        env["escalation"] = state.escalation
        env["peak_escalation"] = state.peak
        self._env_kept = (weakref.ref(state), (state.turn, state.n), arrays, env)
        return env

    def _envs(self, state: BatchState) -> tuple[dict[str, Value], Mapping[str, Value]]:
        """The env of arrays, and the one rules are evaluated in: plain numbers for a
        batch of one row (see :func:`evaluate_scalar`), else the same env."""
        env = self._env(state)
        if state.n != 1:
            return env, env
        return env, _ScalarEnv(state, self.var_index, self._fixed(state.turn))

    def legal(self, state: BatchState, actor: str) -> np.ndarray:
        """(N, k) availability of the actor's k actions; nothing is legal in ended crises."""
        return self.observe(state, actor).legal

    def observe(self, state: BatchState, actor: str) -> Observation:
        """What ``actor`` can know now: the variables it observes (NaN where hidden), the
        actions and events of last turn it saw, and its own options (computed lazily)."""
        env, fast = self._envs(state)
        return Observation(self, state, actor, env, fast)

    def legal_row(self, state: BatchState, actor: str, fenv: Mapping[str, Value]) -> np.ndarray:
        """(k,) availability of ``actor``'s actions in a batch of one running row, from
        the plain-number env ``fenv``: evaluated once per distinct value of what the
        conditions read, then kept (read-only)."""
        rows, others = self._legal_reads[actor]
        read = state._values[rows, 0].tobytes()
        key = (read, *[fenv[k] for k in others]) if others else read
        kept = self._legal_kept[actor]
        found = kept.get(key)
        if found is None:
            if len(kept) >= 100_000:
                kept.clear()
            found = np.array(
                [bool(evaluate_scalar(a.when, fenv)) for a in self.actions_by_actor[actor]],
                dtype=bool,
            )
            found.flags.writeable = False
            kept[key] = found
        return found

    def agent_stream(self, actor: str) -> int:
        """The first random stream of ``actor``'s agent (4096 draws per turn apart)."""
        return AGENT_STREAM_BASE + self.scenario.actors.index(actor) * 4096

    # ---- one turn ------------------------------------------------------------------------

    def step(
        self,
        state: BatchState,
        choices: Mapping[str, np.ndarray],
        trace: bool = False,
        chance: ChancePolicy | None = None,
    ) -> StepResult:
        """Advance every running crisis by one turn with the actors' chosen actions (local
        indices into each actor's actions). Mutates ``state``. A ``chance`` policy, if
        given, decides this turn's chance events in place of the random streams.

        The phases of a turn, in order: the choices, checked against what is available
        (:meth:`_take_choices`), and the documented ones counted; their effects in actor
        order, then the letters with no delay (:meth:`_apply_choices`); the events in file
        order (:meth:`_fire_events`); the escalation (:meth:`_note_escalation`); the
        outcomes (:meth:`_end_crises`); and the close of the turn (:meth:`_close_turn`).

        A batch of one row takes the same steps on plain numbers (``turn.one``): the rules
        are evaluated with :func:`evaluate_scalar` and rows that cannot change are not
        looked at, which gives the same state as the arrays do (a property test compares
        crisis by crisis)."""
        if state.turn >= self.n_turns:
            raise ValueError("the crisis is over: every turn of the clock has been played")
        turn = self._open_turn(state, trace, chance)
        self._take_choices(state, turn, choices)
        self._count_documented(state, turn)
        self._apply_choices(state, turn)
        self._fire_events(state, turn)
        self._note_escalation(state)
        self._end_crises(state, turn)
        return self._close_turn(state, turn)

    def _open_turn(self, state: BatchState, trace: bool, chance: ChancePolicy | None) -> _Turn:
        """What the phases of one step share: the rules' environments (arrays and, for a
        batch of one row, plain numbers), an empty result, and this turn's escalation
        reset."""
        env, fenv = self._envs(state)
        one = state.n == 1
        state.escalation[:] = 0.0
        result = StepResult(
            state.turn,
            {},
            np.zeros((len(self.scenario.events), state.n), dtype=bool),
            np.zeros(state.n, dtype=bool),
        )
        running = not bool(state.done[0]) if one else True
        return _Turn(state.turn, one, running, env, fenv, result, trace, chance)

    def _take_choices(
        self, state: BatchState, turn: _Turn, choices: Mapping[str, np.ndarray]
    ) -> None:
        """Each actor's choice per crisis (-1 where it has ended), checked against what is
        available: only the actions chosen are evaluated, once for all the rows that
        chose each."""
        active = ~state.done
        env, fenv, t = turn.env, turn.fenv, turn.t
        for actor in self.players:
            raw = choices.get(actor)
            if raw is None:
                raise IllegalAction(f"no action given for '{actor}'")
            rules = self.actions_by_actor[actor]
            given = np.asarray(raw, dtype=np.int64)
            if turn.one and given.size == 1:
                own = int(given.reshape(-1)[0]) if turn.running else -1
                if turn.running and not 0 <= own < len(rules):
                    raise IllegalAction(
                        f"'{actor}' chose action number {own}; it has "
                        f"{len(rules)} actions (0 to {len(rules) - 1})"
                    )
                if turn.running and not evaluate_scalar(rules[own].when, fenv):
                    self._unavailable(state, actor, rules[own].id, 0, t)
                turn.picked[actor] = own
                turn.chosen[actor] = np.array([own], dtype=np.int64)
                continue
            pick = np.where(active, np.broadcast_to(given, (state.n,)), -1)
            live = pick[active]
            if live.size and (live.min() < 0 or live.max() >= len(rules)):
                bad = int(live[(live < 0) | (live >= len(rules))][0])
                raise IllegalAction(
                    f"'{actor}' chose action number {bad}; it has "
                    f"{len(rules)} actions (0 to {len(rules) - 1})"
                )
            for local in np.flatnonzero(np.bincount(live, minlength=len(rules))):
                rows = np.flatnonzero(pick == local)
                ok = bool(
                    np.all(
                        np.broadcast_to(
                            np.asarray(
                                evaluate(rules[int(local)].when, SubEnv(env, rows)), dtype=bool
                            ),
                            (rows.size,),
                        )
                    )
                )
                if not ok:
                    self._unavailable(state, actor, rules[int(local)].id, int(rows[0]), t)
            turn.chosen[actor] = pick
            if turn.one:
                turn.picked[actor] = int(pick[0])

    def _count_documented(self, state: BatchState, turn: _Turn) -> None:
        """The documented actions' counts, which the leaders' model reads."""
        for i, rule in enumerate(self.scenario.documented_actions):
            if turn.one:
                if turn.picked[rule.actor] == rule.local:
                    state.taken[i, 0] += 1.0
            else:  # a dense add of 1.0 or 0.0: counts are never -0.0, so the same values
                state.taken[i] += turn.chosen[rule.actor] == rule.local

    def _apply_choices(self, state: BatchState, turn: _Turn) -> None:
        """The chosen actions' effects, in actor order, with their rung of escalation and
        the letters they send; then the letters with no delay, which arrive within the
        turn."""
        whole = np.arange(1)
        for actor in self.players:
            for a in self.actions_by_actor[actor]:
                if turn.one:
                    if turn.picked[actor] != a.local:
                        continue
                    rows = whole
                else:
                    rows = np.flatnonzero(turn.chosen[actor] == a.local)
                    if rows.size == 0:
                        continue
                before = state.values[:, 0].copy() if turn.trace else None
                self._apply(state, turn.env, a.effects, rows, turn.fenv)
                if turn.one:
                    state.escalation[0] = _maximum(state.escalation.item(0), float(a.escalation))
                else:
                    np.maximum.at(state.escalation, rows, float(a.escalation))
                if a.sends is not None:
                    self._send(state, a.sends, rows, turn.t)
                if turn.trace and before is not None:
                    turn.result.trace.append(
                        Happening(turn.t, "action", a.id, actor, self._diff(before, state))
                    )
        self._deliver(state, turn.env, turn.t, turn.trace, turn.result, turn.fenv)

    def _fire_events(self, state: BatchState, turn: _Turn) -> None:
        """The events, in file order: a scripted one fires where its condition holds, a
        chance one where the crisis's own draw falls below its hazard (or as the chance
        policy or the record decides). A lumped row whose crises draw differently splits,
        and the turn's arrays grow with it."""
        t = turn.t
        forced = self.forced.get(t, set())
        # one crisis in an unlumped row stays one row (only a lumped row splits)
        single = state.n == 1 and state.row_of is None
        if single and not turn.running:
            return  # an ended crisis: no event fires
        for e, when in zip(self.scenario.events, self._event_whens, strict=True):
            env, fenv = turn.env, turn.fenv
            one = single or state.n == 1  # a lumped row of many crises may split below
            if one:
                if not turn.running or (e.once and state.fired.item(e.index, 0)) or not when(fenv):
                    continue
                eligible = np.ones(1, dtype=bool)
            else:
                active = ~state.done
                cond = np.broadcast_to(np.asarray(evaluate(e.when, env), dtype=bool), (state.n,))
                eligible = active & cond
                if e.once:
                    eligible &= ~state.fired[e.index]
                if not eligible.any():
                    continue
            if e.kind == "chance":
                if turn.chance is not None:
                    assert e.hazard is not None
                    hazard = np.broadcast_to(
                        e.probability(
                            np.asarray(self._evaluate(e.hazard, env, fenv)), float(env["turn_days"])
                        ),
                        (state.n,),
                    )
                    fire = eligible & np.asarray(
                        turn.chance.decide(e.index, hazard, eligible, t), dtype=bool
                    )
                elif self.chance == "history":
                    fire = eligible & (e.index in forced)
                elif one and self._alone(state):
                    assert e.hazard is not None
                    fire = np.array([self._fires_alone(state, e, fenv, t)])
                else:
                    assert e.hazard is not None
                    hazard = np.broadcast_to(
                        e.probability(
                            np.asarray(self._evaluate(e.hazard, env, fenv)), float(env["turn_days"])
                        ),
                        (state.n,),
                    )
                    if state.row_of is None:
                        fire = eligible & below(state.streams.bits(t, e.index), hazard)
                    else:
                        fire, parents = self._chance_split(state, e.index, eligible, hazard, t)
                        if parents.size:
                            self._split_turn(state, turn, parents)
                            env, fenv = turn.env, turn.fenv
            else:
                fire = eligible
            rows = np.flatnonzero(fire)
            if rows.size == 0:
                continue
            before = state.values[:, 0].copy() if turn.trace else None
            self._apply(state, env, e.effects, rows, fenv)
            if e.escalation is not None:
                if state.n == 1:
                    state.escalation[0] = _maximum(state.escalation.item(0), float(e.escalation))
                else:
                    np.maximum.at(state.escalation, rows, float(e.escalation))
            state.fired[e.index, rows] = True
            turn.result.events[e.index, rows] = True
            if turn.trace and before is not None:
                turn.result.trace.append(
                    Happening(t, "event", e.id, None, self._diff(before, state))
                )

    def _split_turn(self, state: BatchState, turn: _Turn, parents: np.ndarray) -> None:
        """A chance draw split lumped rows: the new rows (copies of ``parents``) get the
        turn's environments, events, endings and choices of the rows they came from."""
        turn.env, turn.fenv = self._envs(state)
        result = turn.result
        result.events = np.concatenate([result.events, result.events[:, parents]], axis=1)
        result.ended = np.concatenate([result.ended, result.ended[parents]])
        turn.chosen = {a: np.concatenate([c, c[parents]]) for a, c in turn.chosen.items()}

    def _note_escalation(self, state: BatchState) -> None:
        """The turn's escalation: the first turn it reached the watched rung, and the
        peak so far."""
        if self.watch < float("inf"):
            state.reached[(state.reached < 0) & (state.escalation >= self.watch)] = state.turn
        np.maximum(state.peak, state.escalation, out=state.peak)

    def _end_crises(self, state: BatchState, turn: _Turn) -> None:
        """The outcomes, in file order: the first whose condition holds ends a crisis
        (the default one on the last turn), with its payoffs."""
        t = turn.t
        final = t >= self.n_turns - 1
        one = state.n == 1
        whole = np.arange(1)
        env, fenv = turn.env, turn.fenv
        running = turn.running
        for o, when in zip(self.scenario.outcomes, self._outcome_whens, strict=True):
            if one:
                if not running or not (when(fenv) or (o.default and final)):
                    continue
                rows = whole
                running = False
            else:
                cond = np.broadcast_to(np.asarray(evaluate(o.when, env), dtype=bool), (state.n,))
                ends = ~state.done & cond
                if o.default and final:
                    ends = ~state.done
                rows = np.flatnonzero(ends)
            if rows.size:
                self._end(state, env, o.index, rows, t, fenv)
                turn.result.ended[rows] = True
                if turn.trace:
                    turn.result.trace.append(Happening(t, "outcome", o.id, None, ()))

    def _close_turn(self, state: BatchState, turn: _Turn) -> StepResult:
        """What the turn leaves for the next one to read (the actions and events of last
        turn), the lumped rows tidied (ended rows dropped, equal rows joined), and the
        clock moved on."""
        result = turn.result
        state.last_actions = {a: turn.chosen[a] for a in self.players}
        state.last_events = result.events
        result.actions = turn.chosen
        if state.lumped and state.n >= COMPACT_MIN_ROWS:
            # the step's result keeps the rows as they were before
            if state.done.mean() > 0.5:
                state.compact()
            if state.n >= MERGE_GROWTH * state.rows_at_merge:
                state.merge()
        state.turn = turn.t + 1
        if state.turn < self.n_turns:
            self._begin_turn(state, result if turn.trace else None)
        return result

    def _unavailable(self, state: BatchState, actor: str, name: str, row: int, t: int) -> None:
        crisis = row if state.row_of is None else int(np.flatnonzero(state.row_of == row)[0])
        raise IllegalAction(
            f"'{actor}' chose '{name}' in crisis "
            f"{int(state.streams.crisis_ids[crisis])} at "
            f"{self.scenario.clock.turns[t].label}, where it is not available"
        )

    @staticmethod
    def _evaluate(node: Node, env: Mapping[str, Value], fenv: Mapping[str, Value]) -> Value:
        """A rule's value: on plain numbers when ``fenv`` is a batch of one's."""
        if fenv is env:
            return evaluate(node, env)
        return evaluate_scalar(node, fenv)

    # ---- helpers --------------------------------------------------------------------------

    def _apply(
        self,
        state: BatchState,
        env: Mapping[str, Value],
        effects: tuple[Effect, ...],
        rows: np.ndarray,
        fenv: Mapping[str, Value] | None = None,
    ) -> None:
        if fenv is not None and fenv is not env:  # one row, on plain numbers
            values = state.values
            for eff in effects:
                var = self._var_rules[eff.target]
                values[var.index, 0] = bound_scalar(var, assigned_scalar(eff, fenv))
            return
        sub = SubEnv(env, None if rows.size == state.n else rows)
        for eff in effects:
            var = self.scenario.variables[self.var_index[eff.target]]
            new = bound(var, np.broadcast_to(assigned(eff, sub), (rows.size,)))
            state.values[var.index, rows] = new
            sub.cache[eff.target] = new

    def _chance_split(
        self, state: BatchState, event: int, eligible: np.ndarray, hazard: np.ndarray, t: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw a lumped batch's chance event crisis by crisis. Rows where only some
        crises fire are split: the firing crises move to a new copy of their row.
        Returns the rows that fire and the parents of the rows added."""
        assert state.row_of is not None and state.sizes is not None
        live = eligible & (hazard > 0)
        if not live.any():
            return np.zeros(state.n, dtype=bool), np.zeros(0, dtype=np.int64)
        row_of = state.row_of
        limit = np.ceil(hazard * (1 << 53)).astype(np.uint64)  # per row, see streams.below
        limit[~live] = 0
        # the crises still in some row (all of them until rows are first dropped), with
        # their rows and keys; draws are per crisis, so this is the split's main cost
        members = state.members
        rows, keys = (
            (row_of, state.streams.keys)
            if members is None
            else (state.member_rows, state.member_keys)
        )
        if 2 * int(state.sizes[live].sum()) >= rows.size:
            # most crises can fire: draw for all of them rather than pick them out first
            # (a crisis whose row cannot fire has a limit of 0, so it never does)
            bits = CrisisStreams.bits_of(keys, t, event)
            at = np.flatnonzero((bits >> np.uint64(11)) < limit[rows])
        else:
            candidates = np.flatnonzero(live[rows])
            bits = CrisisStreams.bits_of(keys[candidates], t, event)
            at = candidates[(bits >> np.uint64(11)) < limit[rows[candidates]]]
        if at.size == 0:
            return np.zeros(state.n, dtype=bool), np.zeros(0, dtype=np.int64)
        fired = at if members is None else members[at]
        sources = rows[at]
        count = np.bincount(sources, minlength=state.n)
        whole = (count > 0) & (count == state.sizes)
        parents = np.flatnonzero((count > 0) & (count < state.sizes))
        new_rows = state.append_rows(parents)
        if parents.size:
            target = np.full(state.n, -1, dtype=np.int64)
            target[parents] = new_rows
            moving = target[sources] >= 0
            row_of[fired[moving]] = target[sources[moving]]
            if members is not None:
                state.member_rows[at[moving]] = target[sources[moving]]
            state.sizes[parents] -= count[parents]
            state.sizes[new_rows] = count[parents]
        fire = np.zeros(state.n, dtype=bool)
        fire[: whole.size] = whole
        fire[new_rows] = True
        return fire, parents

    def draw_choices(
        self, state: BatchState, actor: str, probabilities: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``actor``'s choice in every crisis from per-row choice probabilities
        ``(rows, k)``, with each crisis's own stream (the one ``Observation.uniform``
        reads, so the draw is the same alone, in any batch and on any worker).

        In a lumped batch a row whose crises choose differently is split, as a chance
        event splits it: the crises of each other choice move to a copy of the row.
        Returns the choice per row and the parents of the rows added."""
        p = np.asarray(probabilities, dtype=np.float64)
        stream = self.agent_stream(actor)
        empty = np.zeros(0, dtype=np.int64)
        if not state.lumped:
            return pick_option(p, state.streams.uniform(state.turn, stream)), empty
        assert state.row_of is not None and state.sizes is not None
        if state.n == 1 and len(state.streams) == 1 and state.members is None:
            one = self._draw_one(state, p, stream)
            if one is not None:
                return one, empty
        certain = (p.max(axis=1) >= 1.0) | state.done | (state.sizes == 0)
        choice = np.where(p.any(axis=1), np.argmax(p, axis=1), 0).astype(np.int64)
        if certain.all():
            return choice, empty
        members = state.members
        rows, keys = (
            (state.row_of, state.streams.keys)
            if members is None
            else (state.member_rows, state.member_keys)
        )
        live = rows >= 0
        drawing = np.flatnonzero(live & ~certain[np.where(live, rows, 0)])
        u = (CrisisStreams.bits_of(keys[drawing], state.turn, stream) >> np.uint64(11)).astype(
            np.float64
        ) * (1.0 / (1 << 53))
        own = rows[drawing]
        picked = pick_option(p[own], u)
        k = p.shape[1]
        # per (row, choice) group: the smallest choice keeps the row, others get new rows
        group = own * k + picked
        keys_g, inverse, counts = np.unique(group, return_inverse=True, return_counts=True)
        g_row, g_choice = keys_g // k, keys_g % k
        first = np.ones(keys_g.size, dtype=bool)
        first[1:] = g_row[1:] != g_row[:-1]
        choice[g_row[first]] = g_choice[first]
        movers = np.flatnonzero(~first)
        parents = g_row[movers]
        new_rows = state.append_rows(parents)
        choice = np.concatenate([choice, g_choice[movers]])
        if movers.size:
            target = np.full(keys_g.size, -1, dtype=np.int64)
            target[movers] = new_rows
            dest = target[inverse.reshape(-1)]
            moving = dest >= 0
            crises = drawing[moving] if members is None else members[drawing[moving]]
            state.row_of[crises] = dest[moving]
            if members is not None:
                state.member_rows[drawing[moving]] = dest[moving]
            np.subtract.at(state.sizes, parents, counts[movers])
            state.sizes[new_rows] = counts[movers]
        return choice, parents

    @staticmethod
    def _alone(state: BatchState) -> bool:
        """Whether the batch is one crisis in one row (lumped or not)."""
        if state.n != 1 or len(state.streams) != 1:
            return False
        return state.row_of is None or (
            state.members is None and state.row_of.item(0) == 0 and state.sizes.item(0) == 1  # type: ignore[union-attr]
        )

    @staticmethod
    def _fires_alone(state: BatchState, e: EventRule, fenv: Mapping[str, Value], t: int) -> bool:
        """Whether chance event ``e`` fires in a crisis alone (:meth:`_alone`): the
        decision of :func:`below` (as :meth:`_chance_split` makes it for a lumped row),
        on plain numbers and the same 64 bits."""
        assert e.hazard is not None
        h = probability_scalar(e, float(evaluate_scalar(e.hazard, fenv)), float(fenv["turn_days"]))  # type: ignore[arg-type]
        if not h > 0:
            return False
        bits = CrisisStreams.bits_int(int(state.streams.keys[0]), t, e.index)
        return (bits >> 11) < math.ceil(h * (1 << 53))

    @staticmethod
    def _draw_one(state: BatchState, p: np.ndarray, stream: int) -> np.ndarray | None:
        """:meth:`draw_choices` for a lumped batch of one crisis in one row, on plain
        numbers: the same choice (one crisis never splits its row). None where a
        probability is NaN (numpy's argmax and comparisons are then followed as they
        are)."""
        row = p[0].tolist()
        if not row or any(x != x for x in row) or state.row_of.item(0) != 0:  # type: ignore[union-attr]
            return None
        if max(row) >= 1.0 or state.done.item(0) or state.sizes.item(0) == 0:  # type: ignore[union-attr]
            # certain: numpy's argmax is the first largest
            top = max(row)
            return np.array([row.index(top) if any(row) else 0], dtype=np.int64)
        bits = CrisisStreams.bits_int(int(state.streams.keys[0]), state.turn, stream)
        u = (bits >> 11) * (1.0 / (1 << 53))
        return np.array([pick_one(row, u)], dtype=np.int64)

    def _send(self, state: BatchState, message: str, rows: np.ndarray, t: int) -> None:
        m_index = self._message_index[message]
        fresh = rows[state.sent_turn[m_index, rows] < 0]
        state.sent_turn[m_index, fresh] = t
        state.values[self._msg_vars[message][0], fresh] = 1.0

    def _deliver(
        self,
        state: BatchState,
        env: Mapping[str, Value],
        t: int,
        trace: bool,
        result: StepResult | None,
        fenv: Mapping[str, Value] | None = None,
    ) -> None:
        """A message sent on turn s with delay d is received on turn s + d: within the
        same turn when d = 0 (heard at once, answerable next turn), else at the start of
        turn s + d."""
        one = fenv is not None and fenv is not env
        for i, m in enumerate(self.scenario.messages):
            _, received = self._msg_vars[m.id]
            if one:
                assert fenv is not None
                sent_at = state.sent_turn.item(i, 0)
                if sent_at < 0 or state.values.item(received, 0) != 0 or state.done.item(0):
                    continue
                delay = np.ceil(
                    np.clip(np.asarray(evaluate_scalar(m.delay, fenv), dtype=np.float64), 0, 1e6)
                )
                if not sent_at + delay <= t:
                    continue
                state.values[received, 0] = 1.0
                if trace and result is not None:
                    result.trace.append(
                        Happening(
                            t, "delivery", m.id, m.sender, (Change(f"{m.id}_received", 0.0, 1.0),)
                        )
                    )
                continue
            sent = state.sent_turn[i]
            pending = (sent >= 0) & (state.values[received] == 0) & ~state.done
            if not pending.any():
                continue
            delay = np.ceil(np.clip(np.asarray(evaluate(m.delay, env), dtype=np.float64), 0, 1e6))
            arrives = pending & (sent + delay <= t)
            if arrives.any():
                state.values[received, arrives] = 1.0
                if trace and result is not None and arrives[0]:
                    result.trace.append(
                        Happening(
                            t, "delivery", m.id, m.sender, (Change(f"{m.id}_received", 0.0, 1.0),)
                        )
                    )

    def _begin_turn(self, state: BatchState, result: StepResult | None = None) -> None:
        env, fenv = self._envs(state)  # views of the rows: the deliveries show in it
        self._deliver(state, env, state.turn, result is not None, result, fenv)
        self._note_opened(state, env, fenv)

    def _note_opened(
        self,
        state: BatchState,
        env: Mapping[str, Value] | None = None,
        fenv: Mapping[str, Value] | None = None,
    ) -> None:
        """Note the day each documented action first became available in each running row
        (what its actor can see of its own options; read by the leaders' model)."""
        opened = state.opened
        if opened.shape[0] == 0:
            return
        if env is None:
            env, fenv = self._envs(state)
        if fenv is not None and fenv is not env:  # one row, on plain numbers
            if state.done.item(0):
                return
            day = float(np.asarray(env["day"]))
            options: dict[str, np.ndarray] = {}
            for i, rule in enumerate(self.scenario.documented_actions):
                if opened.item(i, 0) >= 0:
                    continue
                if rule.actor not in options:
                    options[rule.actor] = self.legal_row(state, rule.actor, fenv)
                if options[rule.actor][rule.local]:
                    opened[i, 0] = day
            return
        pending = (opened < 0) & ~state.done[None, :]
        if not pending.any():
            return
        day = float(np.asarray(env["day"]))
        for i, rule in enumerate(self.scenario.documented_actions):
            rows = pending[i]
            if not rows.any():
                continue
            legal = np.asarray(evaluate(rule.when, env), dtype=bool)
            np.copyto(opened[i], day, where=rows & legal)

    def _end(
        self,
        state: BatchState,
        env: Mapping[str, Value],
        outcome: int,
        rows: np.ndarray,
        t: int,
        fenv: Mapping[str, Value] | None = None,
    ) -> None:
        state.done[rows] = True
        state.outcome[rows] = outcome
        state.end_turn[rows] = t
        rule = self.scenario.outcomes[outcome]
        if fenv is not None and fenv is not env:  # one row, on plain numbers
            for j, actor in enumerate(self.scenario.actors):
                node = rule.payoffs.get(actor)
                if node is not None:
                    state.payoffs[j, 0] = float(evaluate_scalar(node, fenv))  # type: ignore[arg-type]
            return
        sub = SubEnv(env, None if rows.size == state.n else rows)
        for j, actor in enumerate(self.scenario.actors):
            node = rule.payoffs.get(actor)
            if node is not None:
                state.payoffs[j, rows] = np.broadcast_to(
                    np.asarray(evaluate(node, sub), dtype=np.float64), (rows.size,)
                )

    def _diff(self, before: np.ndarray, state: BatchState) -> tuple[Change, ...]:
        after = state.values[:, 0]
        return tuple(
            Change(v.id, float(before[v.index]), float(after[v.index]))
            for v in self.scenario.variables
            if not math.isclose(before[v.index], after[v.index], abs_tol=1e-12)
        )


def pick_option(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, the option whose cumulative probability first exceeds ``u`` (never an
    option of probability zero)."""
    cdf = np.cumsum(p, axis=1)
    out = (cdf <= u[:, None]).sum(axis=1)
    last = np.where(p > 0, np.arange(p.shape[1])[None, :], -1).max(axis=1)
    return np.minimum(out, np.maximum(last, 0)).astype(np.int64)


def pick_one(p: list[float], u: float) -> int:
    """:func:`pick_option` of one row of plain numbers (no NaN): numpy's cumulative sum
    adds in order, so the sums, and the choice, are the same."""
    total = 0.0
    out = 0
    last = -1
    for j, pj in enumerate(p):
        total = pj if j == 0 else total + pj
        if total <= u:
            out += 1
        if pj > 0:
            last = j
    return min(out, max(last, 0))


def _maximum(a: float, b: float) -> float:
    """numpy's ``maximum`` of two numbers: NaN if either is, else ``b`` unless ``a > b``."""
    return a if a > b or a != a else b


def probability_scalar(e: EventRule, value: float, turn_days: float) -> float:
    """:meth:`EventRule.probability` of one number (numpy's own expm1)."""
    if value != value:
        value = 0.0
    elif value in (math.inf, -math.inf):  # as numpy's nan_to_num
        value = math.copysign(sys.float_info.max, value)
    if e.per_day:
        value = float(-np.expm1(-_maximum(value, 0.0) * turn_days))
    return 0.0 if value < 0.0 else (1.0 if value > 1.0 else value)


def assigned_scalar(eff: Effect, env: Mapping[str, Value]) -> float:
    """:func:`assigned` for one crisis, on plain numbers."""
    value = float(evaluate_scalar(eff.value, env))  # type: ignore[arg-type]
    if eff.op == "=":
        return value
    current = float(env[eff.target])  # type: ignore[arg-type]
    return current + value if eff.op == "+=" else current - value


def bound_scalar(var: VariableRule, value: float) -> float:
    """:func:`bound` of one number: the same number (signed zeros included)."""
    if value != value:
        value = var.low
    if var.type == "bool":
        return 1.0 if value != 0 else 0.0
    if var.type in ("int", "enum") and math.isfinite(value):
        rounded = float(round(value))  # half to even, as numpy's rint
        value = rounded if rounded != 0 else math.copysign(0.0, value)
    # np.clip keeps the value on a tie with a bound
    low, high = var.low, var.high
    if value < low:
        value = low
    if value > high:
        value = high
    return value


def assigned(eff: Effect, env: Mapping[str, Value]) -> np.ndarray:
    """The value an effect gives its variable, before bounds: ``=``, ``+=`` or ``-=``."""
    value = np.asarray(evaluate(eff.value, env), dtype=np.float64)
    if eff.op == "=":
        return value
    current = np.asarray(env[eff.target], dtype=np.float64)
    return current + value if eff.op == "+=" else current - value


def bound(var: VariableRule, value: np.ndarray) -> np.ndarray:
    """Saturate a value at its variable's bounds; whole numbers for ints and enums,
    0/1 for booleans."""
    # NaN goes to the low bound; the clip sends infinities to the bounds
    value = np.where(np.isnan(value), var.low, value)
    if var.type == "bool":
        return (value != 0).astype(np.float64)
    if var.type in ("int", "enum"):
        value = np.rint(value)
    return np.clip(value, var.low, var.high)
