"""Replaying the historical track: the crisis day by day, every step with its sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crisislab.engine.engine import Engine, Happening
from crisislab.engine.run import historical_agents, play_out
from crisislab.scenario.model import Scenario, TrackStep
from crisislab.scenario.schema import Citation


@dataclass(frozen=True)
class ReplayEntry:
    """One happening of the replay."""

    turn: int
    date: str
    label: str
    actor: str | None
    kind: str
    id: str
    summary: str
    citations: tuple[Citation, ...]
    changes: tuple[tuple[str, str, str], ...]  # (variable, before, after), formatted
    documented: bool
    routine: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "turn": self.turn,
            "date": self.date,
            "when": self.label,
            "actor": self.actor,
            "kind": self.kind,
            "id": self.id,
            "summary": self.summary,
            "documented": self.documented,
            "routine": self.routine,
            "changes": [{"variable": v, "before": b, "after": a} for v, b, a in self.changes],
            "citations": [c.model_dump(exclude_none=True) for c in self.citations],
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

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "version": self.version,
            "content_hash": self.content_hash,
            "seed": self.seed,
            "outcome": self.outcome,
            "outcome_label": self.outcome_label,
            "end_date": self.end_date,
            "events": [e.to_json() for e in self.entries],
        }


def replay(scenario: Scenario, seed: int = 0, start_turn: int | None = None) -> Replay:
    """Play every actor's documented choices with chance forced to the record."""
    engine = Engine(scenario, chance="history")
    state = engine.reset(1, seed, start_turn=start_turn)
    steps = play_out(engine, state, historical_agents(scenario), trace=True)
    documented: dict[tuple[int, str], TrackStep] = {}
    for step in scenario.track:
        documented.setdefault((step.turn, step.action or step.event or ""), step)
    defaults = {scenario.default_action(a).id for a in scenario.players}
    seen: set[str] = set()
    entries: list[ReplayEntry] = []
    for result in steps:
        for h in result.trace:
            if h.kind == "action" and h.id in defaults and not h.changes:
                continue
            entries.append(_entry(scenario, h, documented.get((h.turn, h.id)), h.id in seen))
            seen.add(h.id)
    # within a long (weekly) turn, tell what happened in the order of its dates
    entries.sort(key=lambda e: (e.turn, e.date))
    outcome = scenario.outcomes[int(state.outcome[0])]
    end = scenario.clock.turns[int(state.end_turn[0])]
    return Replay(
        scenario=scenario.id, title=scenario.title, version=scenario.version,
        content_hash=scenario.content_hash, seed=seed, outcome=outcome.id,
        outcome_label=outcome.label, outcome_summary=outcome.summary,
        end_date=end.date.isoformat(), entries=tuple(entries),
    )


def _entry(scenario: Scenario, h: Happening, step: TrackStep | None,
           repeated: bool) -> ReplayEntry:
    turn = scenario.clock.turns[h.turn]
    if h.kind == "action":
        rule_summary, rule_cite = scenario.action(h.id).summary, scenario.action(h.id).cite
    elif h.kind == "event":
        rule_summary, rule_cite = scenario.event(h.id).summary, scenario.event(h.id).cite
    elif h.kind == "outcome":
        rule_summary, rule_cite = scenario.outcome(h.id).summary, scenario.outcome(h.id).cite
    else:
        message = next(m for m in scenario.messages if m.id == h.id)
        rule_summary = f"Arrives: {message.summary}"
        rule_cite = next(tuple(m.cite) for m in scenario.spec.messages if m.id == h.id)
    documented = step is not None and not step.standing
    summary = step.summary if step is not None else rule_summary
    own = tuple(step.cite) if step is not None else ()
    cites = own + tuple(c for c in rule_cite if c not in own)
    changes = tuple(
        (c.variable, scenario.variable(c.variable).format(c.before),
         scenario.variable(c.variable).format(c.after))
        for c in h.changes
    )
    return ReplayEntry(
        turn=h.turn,
        date=(step.date if documented and step is not None else turn.date).isoformat(),
        label=turn.label, actor=h.actor, kind=h.kind, id=h.id, summary=summary,
        citations=cites, changes=changes, documented=documented,
        routine=repeated and not documented,
    )
