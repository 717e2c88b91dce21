"""What a run follows along each crisis's history, beyond how it ends.

Two things are followed turn by turn, in the batch's own rows (``BatchState.track`` and
``BatchState.hits``), so they are split, merged and archived with the rows and stay
exact when many crises share a row:

- *reports* (``simulate --report VAR``): a numeric variable's lowest and highest value
  over the crisis, a boolean's first turn true;
- the *record*: which documented steps of the historical track (an action taken or an
  event fired, each on its date) the crisis reproduced within a tolerance in days;
- a *condition* on how the crisis ends (``simulate --where``), held in one line that is
  the condition's value at the end of each turn, so its final value is the final state's;
- the *onset of war*: which happening first brought the escalation to the war level,
  and the scenario's key facts (variables marked ``key``) at the end of that turn;
- the *key happenings* (actions and events marked ``key``): the first turn of each.

A value is read at the end of each turn (after the turn's choices, events and outcome),
and once at the start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from crisislab.engine.state import BatchState
from crisislab.scenario.expr import (
    ExprError,
    NameInfo,
    Namespace,
    Node,
    Value,
    evaluate,
    parse_expression,
)
from crisislab.scenario.model import BUILTINS, Scenario

BITS = 62  # documented steps per line of ``hits`` (int64, sign bit unused)
DEFAULT_TOLERANCE = 3.0  # days


class ReportError(ValueError):
    """A variable that cannot be reported; the message says which ones can."""


@dataclass(frozen=True)
class Report:
    """One reported variable: its lines in ``track`` (min and max, or first turn)."""

    variable: str  # a variable's id, or "when EXPR" for a condition
    index: int  # the variable's index (-1 for a condition)
    boolean: bool
    line: int  # first line: min (numeric) or first turn true (boolean); max is line + 1
    condition: Node | None = None


@dataclass(frozen=True)
class RecordStep:
    """A documented step of the track, and the turns that count as reproducing it."""

    date: dt.date
    actor: str | None
    action: str | None
    event: str | None
    summary: str
    turns: tuple[int, ...]


@dataclass(frozen=True)
class Tracking:
    """What to follow in a run: reports, the record's steps, a condition on the end,
    the onset of war and the key happenings."""

    reports: tuple[Report, ...]
    steps: tuple[RecordStep, ...]
    tolerance: float
    # resolved against the scenario: per step, (actor position or -1, local action or
    # event index)
    targets: tuple[tuple[int, int], ...]
    scenario: Scenario | None = None  # for conditions: their names and the clock
    where: Node | None = None  # a condition on the final state and outcome
    where_text: str = ""
    war_level: float | None = None  # follow the onset of war at this escalation
    key_facts: tuple[int, ...] = ()  # variable indices recorded at the onset of war
    keys: tuple[tuple[int, int], ...] = ()  # key happenings, as ``targets``
    # the record's own path: (key happening, turn) in order, and its outcome (see
    # :func:`crisislab.analysis.sample.record_path`)
    record_path: tuple[tuple[int, int], ...] = ()
    record_outcome: int = -1

    @property
    def report_lines(self) -> int:
        return sum(1 if r.boolean else 2 for r in self.reports)

    @property
    def where_line(self) -> int:
        """The line of the condition (if any)."""
        return self.report_lines

    @property
    def origin_line(self) -> int:
        """The line of the onset's happening (code, see :meth:`onset_codes`), then one
        line per key fact."""
        return self.where_line + (self.where is not None)

    @property
    def key_line(self) -> int:
        """The first of the key happenings' lines (first turn, or -1)."""
        return self.origin_line + (1 + len(self.key_facts) if self.war_level is not None else 0)

    @property
    def track_lines(self) -> int:
        return self.key_line + len(self.keys)

    @property
    def hit_lines(self) -> int:
        return -(-len(self.steps) // BITS)

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        reports: tuple[str, ...] = (),
        tolerance: float = DEFAULT_TOLERANCE,
        record: bool = True,
        where: str | None = None,
        war_level: float | None = None,
        keys: bool = False,
    ) -> Tracking:
        """``reports`` are variable ids, or ``"when EXPR"`` for the first turn a
        condition holds; ``where`` a condition on the final state and ``outcome``;
        ``war_level`` follows the onset of war; ``keys`` the key happenings."""
        known = {v.id: v for v in scenario.variables}
        out: list[Report] = []
        line = 0
        for name in dict.fromkeys(reports):
            if name.startswith("when "):
                out.append(Report(name, -1, True, line, condition(scenario, name[5:])))
                line += 1
                continue
            if name not in known:
                raise ReportError(
                    f"'{name}' is not a variable of {scenario.id}; "
                    f"--report takes one of: {', '.join(known)}"
                )
            var = known[name]
            out.append(Report(name, var.index, var.type == "bool", line))
            line += 1 if var.type == "bool" else 2
        steps = record_steps(scenario, tolerance) if record else ()
        players = scenario.players
        targets = []
        for s in steps:
            if s.event is not None:
                targets.append((-1, scenario.event(s.event).index))
            else:
                assert s.actor is not None and s.action is not None
                targets.append((players.index(s.actor), scenario.action(s.action).local))
        key_facts = (
            tuple(scenario.variable(v.id).index for v in scenario.spec.variables if v.key)
            if war_level is not None
            else ()
        )
        key_targets = key_happenings(scenario) if keys else ()
        return cls(
            tuple(out),
            steps,
            float(tolerance),
            tuple(targets),
            scenario,
            end_condition(scenario, where) if where else None,
            where or "",
            war_level,
            key_facts,
            key_targets,
        )

    # ---- in the batch ------------------------------------------------------------------

    def start(self, state: BatchState) -> None:
        """Give every row its lines, from the values at the start."""
        n = state.n
        track = np.zeros((self.track_lines, n))
        for r in self.reports:
            v = self._value(state, r, state.turn)
            if r.boolean:
                track[r.line] = np.where(v != 0, float(state.turn), -1.0)
            else:
                track[r.line] = v
                track[r.line + 1] = v
        if self.where is not None:
            track[self.where_line] = self._holds(state, state.turn)
        if self.war_level is not None:
            track[self.origin_line] = -1.0
        track[self.key_line :] = -1.0
        state.track = track
        state.hits = np.zeros((self.hit_lines, n), dtype=np.int64)
        state.tracker = self.update

    def _env(self, state: BatchState, turn: int) -> dict[str, Value]:
        assert self.scenario is not None
        sc = self.scenario
        clock = sc.clock.turns[min(turn, len(sc.clock) - 1)]
        env: dict[str, Value] = {v.id: state.values[v.index] for v in sc.variables}
        env.update(sc.parameters)
        env.update(
            turn=float(turn),
            day=clock.day,
            turn_days=clock.step_days,
            final=turn >= len(sc.clock) - 1,
            escalation=state.escalation,
            peak_escalation=state.peak,
        )
        return env

    def _value(self, state: BatchState, r: Report, turn: int) -> np.ndarray:
        if r.condition is None:
            return state.values[r.index]  # type: ignore[no-any-return]
        return np.broadcast_to(
            np.asarray(evaluate(r.condition, self._env(state, turn)), dtype=np.float64), (state.n,)
        )

    def _holds(self, state: BatchState, turn: int) -> np.ndarray:
        """The end condition, per row, in the state at the end of ``turn``."""
        assert self.where is not None
        env = self._env(state, turn)
        env["outcome"] = state.outcome.astype(np.float64)  # -1 while the crisis runs
        return np.broadcast_to(
            np.asarray(evaluate(self.where, env), dtype=np.float64) != 0, (state.n,)
        ).astype(np.float64)

    def _onsets(self, state: BatchState, turn: int) -> None:
        """Note, in rows whose war began on ``turn``, the happening that began it: the
        first (actions in actor order, then events in file order, as the engine applies
        them) whose escalation reached the war level; and the key facts."""
        assert self.scenario is not None and self.war_level is not None
        code_line = state.track[self.origin_line]
        rows = np.flatnonzero((state.reached == turn) & (code_line < 0))
        if rows.size == 0:
            return
        sc = self.scenario
        code = np.full(rows.size, float(len(sc.actions) + len(sc.events)))  # none found
        for i, actor in enumerate(state.actors):
            level = np.array([a.escalation for a in sc.actions_of(actor)], dtype=np.float64)
            local = state.last_choice[i, rows]
            index = np.array([a.index for a in sc.actions_of(actor)], dtype=np.float64)
            hit = (local >= 0) & (level[np.maximum(local, 0)] >= self.war_level)
            pick = hit & (code >= len(sc.actions) + len(sc.events))
            code[pick] = index[local[pick]]
        for e in sc.events:
            if e.escalation is None or e.escalation < self.war_level:
                continue
            pick = state.last_events[e.index, rows] & (code >= len(sc.actions) + len(sc.events))
            code[pick] = float(len(sc.actions) + e.index)
        code_line[rows] = code
        for j, v in enumerate(self.key_facts):
            state.track[self.origin_line + 1 + j, rows] = state.values[v, rows]

    @cached_property
    def by_turn(self) -> dict[int, list[int]]:
        """Per turn, the steps it may reproduce."""
        by_turn: dict[int, list[int]] = {}
        for i, s in enumerate(self.steps):
            for t in s.turns:
                by_turn.setdefault(t, []).append(i)
        return by_turn

    def update(self, state: BatchState, turn: int) -> None:
        """Fold the rows' state at the end of ``turn`` into their lines (idempotent)."""
        track = state.track
        for r in self.reports:
            v = self._value(state, r, turn)
            if r.boolean:
                first = track[r.line]
                first[(first < 0) & (v != 0)] = float(turn)
            else:
                np.minimum(track[r.line], v, out=track[r.line])
                np.maximum(track[r.line + 1], v, out=track[r.line + 1])
        if self.where is not None:
            track[self.where_line] = self._holds(state, turn)
        if state.last_choice.shape[0] and (self.war_level is not None or self.keys):
            if self.war_level is not None:
                self._onsets(state, turn)
            for j, (who, what) in enumerate(self.keys):
                hit = state.last_events[what] if who < 0 else state.last_choice[who] == what
                first = track[self.key_line + j]
                first[(first < 0) & hit] = float(turn)
        items = self.by_turn.get(turn)
        if not items or state.last_choice.shape[0] == 0:
            return
        hits = state.hits
        for i in items:
            who, what = self.targets[i]
            hit = state.last_events[what] if who < 0 else state.last_choice[who] == what
            if hit.any():
                hits[i // BITS] |= hit.astype(np.int64) << np.int64(i % BITS)


def record_steps(scenario: Scenario, tolerance: float) -> tuple[RecordStep, ...]:
    """The documented steps of the track (each dated entry once, not its repeats), each
    with the turns whose span comes within ``tolerance`` days of its date."""
    if tolerance < 0:
        raise ReportError(f"the tolerance must be zero or more days, not {tolerance:g}")
    epoch = scenario.clock.epoch
    out = []
    seen = set()
    for step in sorted(scenario.track, key=lambda s: (s.date, s.turn)):
        if step.standing:
            continue
        key = (step.date, step.actor, step.action, step.event)
        if key in seen:
            continue
        seen.add(key)
        day = float((step.date - epoch).days)
        turns = tuple(
            t.index
            for t in scenario.clock.turns
            if t.day <= day + tolerance + 1 - 1e-9 and t.day + t.step_days > day - tolerance + 1e-9
        )
        out.append(RecordStep(step.date, step.actor, step.action, step.event, step.summary, turns))
    return tuple(out)


def step_counts(hits: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """From per-crisis bit sets ``(lines, crises)``: the crises reproducing each step,
    and the histogram of how many steps each crisis reproduced (0..n_steps)."""
    n = hits.shape[1] if hits.ndim == 2 else 0
    per_crisis = np.zeros(n, dtype=np.int64)
    per_step = np.zeros(n_steps, dtype=np.int64)
    for i in range(n_steps):
        bit = (hits[i // BITS] >> np.int64(i % BITS)) & 1
        per_step[i] = int(bit.sum())
        per_crisis += bit
    return per_step, np.bincount(per_crisis, minlength=n_steps + 1).astype(np.int64)


def key_happenings(scenario: Scenario) -> tuple[tuple[int, int], ...]:
    """The actions and events marked ``key``, as (actor position or -1, local action or
    event index): actions in file order, then events."""
    players = scenario.players
    out = [
        (players.index(a.actor), scenario.action(a.id).local)
        for a in scenario.spec.actions
        if a.key and a.actor in players
    ]
    out += [(-1, scenario.event(e.id).index) for e in scenario.spec.events if e.key]
    return tuple(out)


def key_ids(scenario: Scenario) -> tuple[str, ...]:
    """The ids of :func:`key_happenings`, in the same order."""
    players = scenario.players
    return (
        *(a.id for a in scenario.spec.actions if a.key and a.actor in players),
        *(e.id for e in scenario.spec.events if e.key),
    )


def end_condition(scenario: Scenario, text: str) -> Node:
    """A boolean expression on how a crisis ends: :func:`condition`'s names and
    ``outcome`` (compared with an outcome's id, e.g. ``outcome == 'settlement'``)."""
    return condition(scenario, text, outcome=True)


def condition(scenario: Scenario, text: str, outcome: bool = False) -> Node:
    """A boolean expression over the scenario's variables, parameters and the clock."""
    names: dict[str, NameInfo] = {b: NameInfo("builtin") for b in BUILTINS}
    for v in scenario.variables:
        names[v.id] = NameInfo("variable", v.values if v.type == "enum" else None)
    for p in scenario.parameters:
        names[p] = NameInfo("parameter")
    if outcome:
        names["outcome"] = NameInfo("variable", tuple(o.id for o in scenario.outcomes))
    try:
        return parse_expression(text, Namespace(names, scenario.clock.epoch))
    except ExprError as e:
        raise ReportError(
            f"the condition '{text}' {e.message}" + (f"; {e.hint}" if e.hint else "")
        ) from None
