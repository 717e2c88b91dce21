"""Replaying the historical track: the crisis day by day, every step with its sources.

The replay plays every actor's documented choices with chance forced to the record, and
sets beside what was played the track's narrative entries (the record that is no model
choice) and its epilogue. Each entry carries what it changed both as numbers and in the
scenario's own words, so that the chronicle (:mod:`crisislab.render`) never shows a code
name, and the JSON keeps every field.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from crisislab.agents.base import Agent
from crisislab.engine.engine import Engine, Happening, StepResult
from crisislab.engine.loop import lumpable, play_out
from crisislab.engine.state import BatchState
from crisislab.engine.version import engine_version
from crisislab.runner import complete_agents, historical_agents, start_batch
from crisislab.scenario.display import (
    actor_name,
    format_change,
    format_value,
    shows_in_chronicle,
    variable_label,
)
from crisislab.scenario.model import Scenario, TrackStep
from crisislab.scenario.schema import Citation, TrackEntry


@dataclass(frozen=True)
class Change:
    """One variable moved by a happening: its values, and the words a reader sees."""

    variable: str
    label: str
    before: float
    after: float
    before_text: str
    after_text: str
    text: str  # "missiles in Cuba: 36 → 37"
    chronicle: bool  # shown by default

    def to_json(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "label": self.label,
            "before": self.before_text,
            "after": self.after_text,
            "before_value": self.before,
            "after_value": self.after,
            "text": self.text,
            "chronicle": self.chronicle,
        }


@dataclass(frozen=True)
class ReplayEntry:
    """One happening of the replay, or one narrative entry of the record."""

    turn: int  # -1 for a narrative entry outside the clock
    date: str
    label: str  # the turn, as the clock names it
    half: str | None
    phase: str | None
    actor: str | None
    who: str  # the name a reader sees: "Kennedy", "Soviet air defence"
    kind: str  # action, event, delivery, outcome or record
    id: str  # "" for a narrative entry, which is no rule of the model
    summary: str
    citations: tuple[Citation, ...]
    changes: tuple[Change, ...]
    documented: bool
    routine: bool  # model mechanics repeated within a phase (shipping, construction)
    dated: bool  # the date is the event's own, not only its turn's first day
    note: str | None = None
    own_citations: int = 0  # the first ones are the record's own; the rest the rule's
    title: str | None = None  # the rule's short label ("Missiles land in Cuba")

    @property
    def record_citations(self) -> tuple[Citation, ...]:
        """What a reader is shown: the record's own sources, or the rule's if it has none."""
        return self.citations[: self.own_citations] or self.citations

    def to_json(self) -> dict[str, Any]:
        return {
            "turn": self.turn if self.turn >= 0 else None,
            "date": self.date,
            "when": self.label,
            "half": self.half,
            "phase": self.phase,
            "actor": self.actor,
            "who": self.who,
            "kind": self.kind,
            "id": self.id or None,
            "summary": self.summary,
            "note": self.note,
            "documented": self.documented,
            "routine": self.routine,
            "dated": self.dated,
            "title": self.title,
            "changes": [c.to_json() for c in self.changes],
            "citations": [c.model_dump(exclude_none=True) for c in self.citations],
        }


@dataclass(frozen=True)
class PhaseInfo:
    id: str
    label: str
    start: str
    end: str
    step: str  # week, day or half-day


@dataclass(frozen=True)
class SourceInfo:
    id: str
    title: str
    short: str
    kind: str
    url: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "short": self.short,
            "kind": self.kind,
            "url": self.url,
        }


@dataclass(frozen=True)
class Replay:
    scenario: str
    title: str
    version: str
    content_hash: str
    seed: int
    outcome: str
    outcome_label: str
    outcome_summary: str
    end_date: str
    entries: tuple[ReplayEntry, ...]
    epilogue: tuple[ReplayEntry, ...] = ()
    phases: tuple[PhaseInfo, ...] = ()
    sources: tuple[SourceInfo, ...] = ()
    crisis: int | None = None  # a simulated crisis: its index in the run of ``seed``

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "version": self.version,
            "engine_version": engine_version(),
            "content_hash": self.content_hash,
            "seed": self.seed,
            **({"crisis": self.crisis} if self.crisis is not None else {}),
            "outcome": self.outcome,
            "outcome_label": self.outcome_label,
            "outcome_summary": self.outcome_summary,
            "end_date": self.end_date,
            "events": [e.to_json() for e in self.entries],
            "epilogue": [e.to_json() for e in self.epilogue],
            "sources": [s.to_json() for s in self.sources],
        }

    def between(
        self, start: dt.date | None, end: dt.date | None, actor: str | None = None
    ) -> Replay:
        """The same replay told only from ``start`` to ``end`` (inclusive), and only the
        entries of ``actor`` if given; what each entry changed is as in the whole."""

        def keep(e: ReplayEntry) -> bool:
            d = dt.date.fromisoformat(e.date)
            return (
                (start is None or d >= start)
                and (end is None or d <= end)
                and (actor is None or e.actor == actor)
            )

        return replace(
            self,
            entries=tuple(e for e in self.entries if keep(e)),
            epilogue=tuple(e for e in self.epilogue if keep(e)),
        )


def replay(scenario: Scenario, seed: int = 0, start_turn: int | None = None) -> Replay:
    """Play every actor's documented choices with chance forced to the record."""
    engine = Engine(scenario, chance="history")
    state = start_batch(engine, 1, seed, start_turn=start_turn)
    steps = play_out(engine, state, historical_agents(scenario), trace=True)
    first = (
        scenario.clock.turns[0].date
        if start_turn is None
        else scenario.clock.turns[start_turn].date
    )
    last = scenario.clock.turns[-1].date
    ended = int(state.end_turn[0])
    told = [_narrative(scenario, e) for e in scenario.spec.history if e.narrative]
    before = [e for e in told if e.turn < 0 and dt.date.fromisoformat(e.date) < last]
    # the epilogue: what the record tells after the crisis ended, on the clock or past it
    after = [
        e for e in told if (e.turn < 0 and dt.date.fromisoformat(e.date) > last) or e.turn > ended
    ]
    inside = [e for e in told if 0 <= e.turn <= ended and dt.date.fromisoformat(e.date) >= first]
    return _told(
        scenario, seed, steps, int(state.outcome[0]), int(state.end_turn[0]), inside, before, after
    )


def _told(
    scenario: Scenario,
    seed: int,
    steps: list[StepResult],
    outcome_index: int,
    end_turn: int,
    inside: list[ReplayEntry],
    before: list[ReplayEntry],
    after: list[ReplayEntry],
    crisis: int | None = None,
) -> Replay:
    """The entries of what was played (with the record's words where a step is on the
    record), with narrative entries ``inside`` the clock, ``before`` and ``after`` it."""
    documented: dict[tuple[int, str], TrackStep] = {}
    for step in scenario.track:
        documented.setdefault((step.turn, step.action or step.event or ""), step)
    defaults = {scenario.default_action(a).id for a in scenario.players}
    played: list[ReplayEntry] = []
    for result in steps:
        for h in result.trace:
            if h.kind == "action" and h.id in defaults and not h.changes:
                continue
            played.append(_entry(scenario, h, documented.get((h.turn, h.id))))
    chapter = chapters([(p.id, p.step) for p in scenario.spec.clock.phases])
    entries = _mark_routine(played, chapter) + inside
    # within a long (weekly) turn, tell what happened in the order of its dates; a
    # narrative entry comes after what was played on its turn and date
    order = {id(e): i for i, e in enumerate(entries)}
    entries.sort(key=lambda e: (e.turn, e.date, _half_rank(e.half), order[id(e)]))
    outcome = scenario.outcomes[outcome_index]
    end = scenario.clock.turns[end_turn]
    title = (
        scenario.title if crisis is None else f"{scenario.title}: simulated crisis {seed}:{crisis}"
    )
    return Replay(
        scenario=scenario.id,
        title=title,
        version=scenario.version,
        content_hash=scenario.content_hash,
        seed=seed,
        outcome=outcome.id,
        outcome_label=outcome.label,
        outcome_summary=outcome.summary,
        end_date=end.date.isoformat(),
        entries=tuple(sorted(before, key=_by_date) + entries),
        epilogue=tuple(sorted(after, key=_by_date)),
        phases=tuple(
            PhaseInfo(p.id, p.label, p.start.isoformat(), p.end.isoformat(), p.step)
            for p in scenario.spec.clock.phases
        ),
        sources=tuple(
            SourceInfo(s.id, s.title, s.short or s.title, s.kind, s.url)
            for s in scenario.spec.sources
        ),
        crisis=crisis,
    )


@dataclass(frozen=True)
class TurnRecord:
    """One turn of a simulated crisis: every seat's choice, the events that fired, the
    letters that arrived and what changed (ids and values, for data tools)."""

    turn: int
    date: str
    label: str
    choices: dict[str, str]  # seat -> action id
    events: tuple[str, ...]
    letters: tuple[str, ...]
    changes: tuple[Change, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "turn": self.turn,
            "date": self.date,
            "label": self.label,
            "choices": self.choices,
            "events": list(self.events),
            "letters": list(self.letters),
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(frozen=True)
class SimulatedCrisis:
    """Crisis ``index`` of the run with ``seed``, played again alone: its story and its
    turns. Its random streams depend on (seed, index) only, so it is the same crisis as
    in the run."""

    seed: int
    index: int
    story: Replay
    turns: tuple[TurnRecord, ...]
    outcome: str
    end_turn: int
    final: dict[str, float]  # every variable's value at the end

    @property
    def ref(self) -> str:
        return f"{self.seed}:{self.index}"


def simulated(
    scenario: Scenario, agents: dict[str, Agent], seed: int, index: int
) -> SimulatedCrisis:
    """Play crisis ``index`` of the run with ``seed`` on its own, as a run plays it (the
    same start, agents and streams; rows shared exactly when the run shares them)."""
    if seed < 0 or index < 0:
        raise ValueError("a crisis is SEED:INDEX, two whole numbers of zero or more")
    engine = Engine(scenario)
    seated = complete_agents(scenario, agents)
    state = start_batch(
        engine, 1, seed, crisis_ids=np.array([index], dtype=np.int64), lumped=lumpable(seated)
    )
    return _played(scenario, engine, state, seated, seed, index)


def onward(
    scenario: Scenario, start: BatchState, agents: dict[str, Agent], seed: int, index: int
) -> SimulatedCrisis:
    """Crisis ``index`` of :func:`crisislab.runner.run_onward` from crisis 0 of
    ``start`` with ``seed``, played again alone (as ``run_onward`` plays it)."""
    from crisislab.engine.streams import CrisisStreams

    engine = Engine(scenario)
    seated = complete_agents(scenario, agents)
    streams = CrisisStreams(seed, np.array([index], dtype=np.int64))
    one = start.select(np.array([0]))
    state = one.lump(streams) if lumpable(seated) else one.tiled(streams)
    return _played(scenario, engine, state, seated, seed, index)


def _played(
    scenario: Scenario,
    engine: Engine,
    state: BatchState,
    seated: dict[str, Agent],
    seed: int,
    index: int,
) -> SimulatedCrisis:
    steps = play_out(engine, state, seated, trace=True)
    outcome = int(state.crisis_field("outcome")[0])
    end_turn = int(state.crisis_field("end_turn")[0])
    story = _told(scenario, seed, steps, outcome, end_turn, [], [], [], crisis=index)
    by_turn: dict[int, list[Happening]] = {}
    for result in steps:
        for h in result.trace:
            by_turn.setdefault(h.turn, []).append(h)
    turns = []
    for result in steps:
        t = result.turn
        happened = by_turn.get(t, [])
        clock = scenario.clock.turns[t]
        choices = {
            a: scenario.actions_of(a)[int(result.actions[a][0])].id
            for a in scenario.players
            if int(result.actions[a][0]) >= 0
        }
        turns.append(
            TurnRecord(
                t,
                clock.date.isoformat(),
                clock.label,
                choices,
                tuple(h.id for h in happened if h.kind == "event"),
                tuple(h.id for h in happened if h.kind == "delivery"),
                tuple(c for h in happened for c in _changes(scenario, h)),
            )
        )
    final = {v.id: float(state.values[v.index, 0]) for v in scenario.variables}
    return SimulatedCrisis(
        seed, index, story, tuple(turns), scenario.outcomes[outcome].id, end_turn, final
    )


def _by_date(e: ReplayEntry) -> tuple[str, int]:
    return (e.date, _half_rank(e.half))


def _half_rank(half: str | None) -> int:
    return {"am": 0, None: 1, "pm": 2}[half]


def chapters(phases: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Per phase id (given as ``(id, step)`` in clock order), the chapter its mechanics are
    summed up in: consecutive phases of daily or weekly turns (the run-up to a crisis)
    form one chapter, named by the first; a phase of half-day turns is its own."""
    out: dict[str, str] = {}
    current: str | None = None
    for pid, step in phases:
        if step == "half-day" or current is None:
            current = pid
        out[pid] = current
        if step == "half-day":
            current = None
    return out


def _mark_routine(entries: list[ReplayEntry], chapter: dict[str, str]) -> list[ReplayEntry]:
    """Model mechanics: what is not a dated documented step and recurs within a chapter."""

    def key(e: ReplayEntry) -> tuple[str | None, str, str]:
        return (chapter.get(e.phase or "", e.phase), e.kind, e.id)

    counts = Counter(key(e) for e in entries if not e.documented)
    return [
        replace(e, routine=True) if not e.documented and counts[key(e)] > 1 else e for e in entries
    ]


def _changes(scenario: Scenario, h: Happening) -> tuple[Change, ...]:
    return tuple(
        Change(
            c.variable,
            variable_label(scenario, c.variable),
            float(c.before),
            float(c.after),
            format_value(scenario, c.variable, c.before),
            format_value(scenario, c.variable, c.after),
            format_change(scenario, c.variable, c.before, c.after),
            shows_in_chronicle(scenario, c.variable),
        )
        for c in h.changes
    )


def _entry(scenario: Scenario, h: Happening, step: TrackStep | None) -> ReplayEntry:
    turn = scenario.clock.turns[h.turn]
    title: str | None = None
    if h.kind == "action":
        rule_summary, rule_cite = scenario.action(h.id).summary, scenario.action(h.id).cite
        title = scenario.action(h.id).label
    elif h.kind == "event":
        rule_summary, rule_cite = scenario.event(h.id).summary, scenario.event(h.id).cite
        title = scenario.event(h.id).label
    elif h.kind == "outcome":
        rule_summary, rule_cite = scenario.outcome(h.id).summary, scenario.outcome(h.id).cite
        title = scenario.outcome(h.id).label
    else:
        message = next(m for m in scenario.messages if m.id == h.id)
        rule_summary = f"Arrives: {message.summary}"
        rule_cite = next(tuple(m.cite) for m in scenario.spec.messages if m.id == h.id)
    documented = step is not None and not step.standing
    entry = _track_entry(scenario, step) if documented else None
    summary = step.summary if step is not None else rule_summary
    own = tuple(step.cite) if step is not None else ()
    cites = own + tuple(c for c in rule_cite if c not in own)
    who = entry.who if entry is not None and entry.who else actor_name(scenario, h.actor)
    dated = documented or turn.step_days <= 1
    return ReplayEntry(
        turn=h.turn,
        date=(step.date if documented and step is not None else turn.date).isoformat(),
        label=turn.label,
        half=turn.half,
        phase=turn.phase,
        actor=h.actor,
        who=who,
        kind=h.kind,
        id=h.id,
        summary=summary,
        citations=cites,
        changes=_changes(scenario, h),
        documented=documented,
        routine=False,
        dated=dated,
        note=entry.note if entry is not None else None,
        own_citations=len(own),
        title=title,
    )


def _track_entry(scenario: Scenario, step: TrackStep | None) -> TrackEntry | None:
    if step is None:
        return None
    ident = step.action or step.event
    return next(
        (
            e
            for e in scenario.spec.history
            if (e.action or e.event) == ident and e.date == step.date
        ),
        None,
    )


def _narrative(scenario: Scenario, e: TrackEntry) -> ReplayEntry:
    turn = scenario.clock.turn_of(e.date, e.half)
    t = scenario.clock.turns[turn] if turn is not None else None
    return ReplayEntry(
        turn=turn if turn is not None else -1,
        date=e.date.isoformat(),
        label=t.label if t is not None else e.date.isoformat(),
        half=e.half,
        phase=t.phase if t is not None else None,
        actor=e.actor,
        who=e.who or actor_name(scenario, e.actor),
        kind="record",
        id="",
        summary=e.summary,
        citations=tuple(e.cite),
        changes=(),
        documented=True,
        routine=False,
        dated=True,
        note=e.note,
        own_citations=len(e.cite),
    )
