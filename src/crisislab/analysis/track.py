"""What a run follows along each crisis's history, beyond how it ends.

Two things are followed turn by turn, in the batch's own rows (``BatchState.track`` and
``BatchState.hits``), so they are split, merged and archived with the rows and stay
exact when many crises share a row:

- *reports* (``simulate --report VAR``): a numeric variable's lowest and highest value
  over the crisis, a boolean's first turn true;
- the *record*: which documented steps of the historical track (an action taken or an
  event fired, each on its date) the crisis reproduced within a tolerance in days.

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
    """What to follow in a run: reports and the record's steps."""

    reports: tuple[Report, ...]
    steps: tuple[RecordStep, ...]
    tolerance: float
    # resolved against the scenario: per step, (actor position or -1, local action or
    # event index)
    targets: tuple[tuple[int, int], ...]
    scenario: Scenario | None = None  # for conditions: their names and the clock

    @property
    def track_lines(self) -> int:
        return sum(1 if r.boolean else 2 for r in self.reports)

    @property
    def hit_lines(self) -> int:
        return -(-len(self.steps) // BITS)

    @classmethod
    def of(cls, scenario: Scenario, reports: tuple[str, ...] = (),
           tolerance: float = DEFAULT_TOLERANCE, record: bool = True) -> Tracking:
        """``reports`` are variable ids, or ``"when EXPR"`` for the first turn a
        condition holds."""
        known = {v.id: v for v in scenario.variables}
        out: list[Report] = []
        line = 0
        for name in dict.fromkeys(reports):
            if name.startswith("when "):
                out.append(Report(name, -1, True, line, condition(scenario, name[5:])))
                line += 1
                continue
            if name not in known:
                raise ReportError(f"'{name}' is not a variable of {scenario.id}; "
                                  f"--report takes one of: {', '.join(known)}")
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
        return cls(tuple(out), steps, float(tolerance), tuple(targets), scenario)

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
        state.track = track
        state.hits = np.zeros((self.hit_lines, n), dtype=np.int64)
        state.tracker = self.update

    def _value(self, state: BatchState, r: Report, turn: int) -> np.ndarray:
        if r.condition is None:
            return state.values[r.index]  # type: ignore[no-any-return]
        assert self.scenario is not None
        sc = self.scenario
        clock = sc.clock.turns[min(turn, len(sc.clock) - 1)]
        env = {v.id: state.values[v.index] for v in sc.variables}
        env.update(sc.parameters)
        env.update(turn=float(turn), day=clock.day, turn_days=clock.step_days,
                   final=turn >= len(sc.clock) - 1, escalation=state.escalation,
                   peak_escalation=state.peak)
        return np.broadcast_to(np.asarray(evaluate(r.condition, env), dtype=np.float64),
                               (state.n,))

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
        turns = tuple(t.index for t in scenario.clock.turns
                      if t.day <= day + tolerance + 1 - 1e-9
                      and t.day + t.step_days > day - tolerance + 1e-9)
        out.append(RecordStep(step.date, step.actor, step.action, step.event,
                              step.summary, turns))
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


def condition(scenario: Scenario, text: str) -> Node:
    """A boolean expression over the scenario's variables, parameters and the clock."""
    names: dict[str, NameInfo] = {b: NameInfo("builtin") for b in BUILTINS}
    for v in scenario.variables:
        names[v.id] = NameInfo("variable", v.values if v.type == "enum" else None)
    for p in scenario.parameters:
        names[p] = NameInfo("parameter")
    try:
        return parse_expression(text, Namespace(names, scenario.clock.epoch))
    except ExprError as e:
        raise ReportError(f"the condition '{text}' {e.message}"
                          + (f"; {e.hint}" if e.hint else "")) from None
