"""A compiled scenario: the static rules of a crisis, ready for the engine.

The scenario is the game, not its state (the engine holds the state). Everything here is
derived once from a validated :class:`~crisislab.scenario.schema.ScenarioSpec`: ids become
indices, expressions become translated trees, dates become turns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np

from crisislab.scenario.expr import Effect, Node
from crisislab.scenario.problems import Problem
from crisislab.scenario.schema import STEP_DAYS, Citation, ScenarioSpec

BUILTINS = ("turn", "day", "turn_days", "final", "escalation", "peak_escalation")


@dataclass(frozen=True)
class Turn:
    """One step of the clock."""

    index: int
    phase: str
    date: dt.date
    half: Literal["am", "pm"] | None
    step_days: float
    day: float  # days since the clock's first day, at the start of the turn

    @property
    def label(self) -> str:
        if self.half:
            return f"{self.date.isoformat()} {self.half}"
        if self.step_days > 1:
            return f"week of {self.date.isoformat()}"
        return self.date.isoformat()


MAX_TURNS = 5000  # turns a clock may have


@dataclass(frozen=True)
class Clock:
    turns: tuple[Turn, ...]
    epoch: dt.date

    @classmethod
    def from_spec(cls, spec: ScenarioSpec) -> Clock:
        """The turns of the clock's phases; at most ``MAX_TURNS + 1`` are built (the
        compiler refuses a clock past the limit), and none past the last date there is."""
        epoch = spec.clock.phases[0].start
        turns: list[Turn] = []
        for phase in spec.clock.phases:
            step = STEP_DAYS[phase.step]
            day = phase.start
            while day <= phase.end and len(turns) <= MAX_TURNS:
                offset = float((day - epoch).days)
                if phase.step == "half-day":
                    turns.append(Turn(len(turns), phase.id, day, "am", step, offset))
                    turns.append(Turn(len(turns), phase.id, day, "pm", step, offset + 0.5))
                else:
                    # the last turn of a phase ends with the phase: no turn spills over
                    span = min(step, float((phase.end - day).days + 1))
                    turns.append(Turn(len(turns), phase.id, day, None, span, offset))
                if (dt.date.max - day).days < max(int(step), 1):
                    break  # the calendar ends on 31 December 9999
                day += dt.timedelta(days=max(int(step), 1))
        return cls(tuple(turns), epoch)

    def __len__(self) -> int:
        return len(self.turns)

    def turn_of(self, date: dt.date, half: str | None = None) -> int | None:
        """The turn whose span holds ``date`` (its evening turn with ``half='pm'``)."""
        offset = float((date - self.epoch).days) + (0.5 if half == "pm" else 0.0)
        for turn in self.turns:
            if turn.day <= offset < turn.day + turn.step_days:
                return turn.index
        return None

    @property
    def phases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.phase for t in self.turns))

    def first_of_phase(self, phase: str) -> int:
        """The first turn of ``phase``; an unknown phase is a :class:`UnknownPhase`."""
        for turn in self.turns:
            if turn.phase == phase:
                return turn.index
        raise UnknownPhase(phase, self.phases)


class UnknownPhase(KeyError):
    """A phase the clock does not have; says which it has."""

    def __init__(self, phase: str, known: tuple[str, ...]) -> None:
        super().__init__(phase)
        self.phase = phase
        self.known = known

    def __str__(self) -> str:
        return f"no phase '{self.phase}'"

    @property
    def hint(self) -> str:
        return f"use one of: {', '.join(self.known)}"


@dataclass(frozen=True)
class VariableRule:
    id: str
    index: int
    type: Literal["bool", "int", "float", "enum"]
    low: float
    high: float
    initial: float
    values: tuple[str, ...] | None
    observers: dict[str, Node | bool]  # actor -> always (True) or while a condition holds
    derived: bool = False  # message flags are kept by the engine, not by effects

    def format(self, value: float) -> str:
        if self.type == "bool":
            return "yes" if value else "no"
        if self.type == "enum" and self.values is not None:
            return self.values[int(value)]
        if self.type == "int":
            return str(int(value))
        return f"{value:g}" if abs(value - round(value)) > 1e-9 else str(int(round(value)))


@dataclass(frozen=True)
class MessageRule:
    id: str
    sender: str
    to: tuple[str, ...]
    public: bool
    delay: Node
    terms: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class ActionRule:
    id: str
    index: int  # among all actions
    actor: str
    local: int  # among the actor's actions
    label: str
    summary: str
    when: Node
    effects: tuple[Effect, ...]
    escalation: int
    seen_by: frozenset[str]
    sends: str | None
    cite: tuple[Citation, ...]
    seen_as: tuple[tuple[str, str], ...] = ()  # (observer or "others", summary)
    forced: bool = False  # a what-if forces it: every agent takes it whenever it is legal

    def summary_for(self, observer: str) -> str:
        """The summary ``observer`` reads: its own, or what others are told."""
        return _summary_for(self.actor, self.summary, self.seen_as, observer)


@dataclass(frozen=True)
class EventRule:
    id: str
    index: int
    label: str
    summary: str
    kind: Literal["rule", "chance"]
    when: Node
    hazard: Node | None
    once: bool
    effects: tuple[Effect, ...]
    escalation: int | None
    incident: bool
    seen_by: frozenset[str]
    cite: tuple[Citation, ...]
    seen_as: tuple[tuple[str, str], ...] = ()  # (observer or "others", summary)
    per_day: bool = False  # ``hazard`` is a rate per day, not a probability per turn
    inject: bool = False  # a facilitator may fire it in a class session

    def probability(self, value: np.ndarray, turn_days: float) -> np.ndarray:
        """The chance of firing in a turn of ``turn_days`` days, given the evaluated
        ``hazard`` (a rate per day when ``per_day``), in [0, 1]."""
        value = np.nan_to_num(np.asarray(value, dtype=np.float64), nan=0.0)
        if self.per_day:
            return np.clip(-np.expm1(-np.maximum(value, 0.0) * turn_days), 0.0, 1.0)
        return np.clip(value, 0.0, 1.0)

    def summary_for(self, observer: str) -> str:
        """The summary ``observer`` reads (an event's ``others`` text is for everyone
        not named)."""
        return _summary_for(None, self.summary, self.seen_as, observer)


def _summary_for(
    actor: str | None, summary: str, seen_as: tuple[tuple[str, str], ...], observer: str
) -> str:
    if observer == actor:
        return summary
    texts = dict(seen_as)
    return texts.get(observer, texts.get("others", summary))


@dataclass(frozen=True)
class OutcomeRule:
    id: str
    index: int
    label: str
    summary: str
    when: Node
    default: bool
    escalation: int
    payoffs: dict[str, Node]
    cite: tuple[Citation, ...]
    tags: tuple[str, ...] = ()  # what kind of end: nuclear, war, settlement...


@dataclass(frozen=True)
class EvidenceRule:
    """One line of game evidence of a question (see ``schema.GameEvidence``), its
    conditions compiled; they read the final state and ``outcome``."""

    show: str
    text: str
    when: Node | None = None
    otherwise: str | None = None
    variable: str | None = None
    items: tuple[tuple[Node, str], ...] = ()
    none: str | None = None
    tags: tuple[str, ...] = ()
    share: float = 0.05


@dataclass(frozen=True)
class QuestionRule:
    """An essay or discussion question of the scenario's teaching material."""

    id: str
    question: str
    quote: str
    cite: tuple[Citation, ...]
    game: tuple[EvidenceRule, ...]
    evidence: tuple[tuple[str, Citation], ...]  # (what the passage says, where)


@dataclass(frozen=True)
class TrackStep:
    """A documented choice or occurrence placed on its turn."""

    turn: int
    date: dt.date
    actor: str | None
    action: str | None
    event: str | None
    summary: str
    cite: tuple[Citation, ...]
    standing: bool = False  # repeated from an `until` entry


@dataclass(frozen=True)
class Scenario:
    """The static rules of a crisis. Immutable; :meth:`with_parameters` gives a variant."""

    spec: ScenarioSpec
    file: str
    content_hash: str
    clock: Clock
    actors: tuple[str, ...]
    players: tuple[str, ...]  # actors who choose (players and scripted)
    variables: tuple[VariableRule, ...]
    parameters: dict[str, float]
    messages: tuple[MessageRule, ...]
    actions: tuple[ActionRule, ...]
    events: tuple[EventRule, ...]
    outcomes: tuple[OutcomeRule, ...]
    track: tuple[TrackStep, ...]
    start_turn: int
    escalation_labels: dict[int, str] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()  # fit to run, but a reader would see code names
    # the scenario whose record this one departs from (a what-if's base), if any
    departs_from: Scenario | None = field(default=None, compare=False, repr=False)
    questions: tuple[QuestionRule, ...] = ()  # the teaching material's questions

    @property
    def id(self) -> str:
        return self.spec.scenario.id

    @property
    def version(self) -> str:
        return self.spec.scenario.version

    @property
    def title(self) -> str:
        return self.spec.scenario.title

    @cached_property
    def _by_id(self) -> dict[str, dict[str, Any]]:
        return {
            "variable": {v.id: v for v in self.variables},
            "action": {a.id: a for a in self.actions},
            "event": {e.id: e for e in self.events},
            "outcome": {o.id: o for o in self.outcomes},
        }

    def variable(self, name: str) -> VariableRule:
        return self._by_id["variable"][name]  # type: ignore[no-any-return]

    def action(self, name: str) -> ActionRule:
        return self._by_id["action"][name]  # type: ignore[no-any-return]

    def event(self, name: str) -> EventRule:
        return self._by_id["event"][name]  # type: ignore[no-any-return]

    def outcome(self, name: str) -> OutcomeRule:
        return self._by_id["outcome"][name]  # type: ignore[no-any-return]

    def actions_of(self, actor: str) -> tuple[ActionRule, ...]:
        return tuple(a for a in self.actions if a.actor == actor)

    @cached_property
    def documented_actions(self) -> tuple[ActionRule, ...]:
        """The actions the historical track has someone take, in the order of their first
        documented use. The engine notes, per crisis, the day each first became
        available, so that a leader off the record can be drawn to what the real leader
        did that long after the same option opened."""
        seen: dict[str, ActionRule] = {}
        for step in self.track:
            if step.action is not None and step.action not in seen:
                seen[step.action] = self.action(step.action)
        return tuple(seen.values())

    def default_action(self, actor: str) -> ActionRule:
        for spec_actor in self.spec.actors:
            if spec_actor.id == actor and spec_actor.default_action:
                return self.action(spec_actor.default_action)
        raise KeyError(f"actor '{actor}' has no default action")

    def role(self, actor: str) -> str:
        return next(a.role for a in self.spec.actors if a.id == actor)

    @property
    def history(self) -> Scenario:
        """The scenario whose track is what really happened, with this one's parameter
        values: itself, or a what-if's base (a what-if may forbid documented actions and
        drop them from its own track). The terms a documented concession was made on are
        read here."""
        base = self.departs_from
        if base is None:
            return self
        shared = {k: v for k, v in self.parameters.items() if k in base.parameters}
        return base.with_parameters(**shared) if shared != base.parameters else base

    def outcomes_tagged(self, *tags: str) -> tuple[str, ...]:
        """The ids of the outcomes that carry any of ``tags``, in file order."""
        return tuple(o.id for o in self.outcomes if set(o.tags) & set(tags))

    def doctrine_options(self, doctrine: str, actor: str) -> dict[str, Any]:
        """The scenario's tuning of ``doctrine`` for ``actor`` (its ``doctrines``
        section), as options; empty where it tunes nothing."""
        tuning = self.spec.doctrines.get(doctrine)  # type: ignore[call-overload]
        seat = tuning.actors.get(actor) if tuning is not None else None
        return seat.options() if seat is not None else {}

    @property
    def tree_decisions(self) -> tuple[str, ...]:
        """The actions a game tree branches on by default (``game_tree.decisions``)."""
        tree = self.spec.game_tree
        return tuple(tree.decisions) if tree is not None else ()

    @property
    def tree_start(self) -> str | None:
        """Where a game tree starts by default: a date (YYYY-MM-DD) or a phase id."""
        tree = self.spec.game_tree
        if tree is None or tree.start is None:
            return None
        return tree.start.isoformat() if isinstance(tree.start, dt.date) else tree.start

    def with_parameters(self, **values: float) -> Scenario:
        """The same rules with some parameters changed (what-ifs, sweeps)."""
        unknown = set(values) - set(self.parameters)
        if unknown:
            raise KeyError(f"unknown parameters: {', '.join(sorted(unknown))}")
        return replace(self, parameters={**self.parameters, **values})
