"""The essay questions of a scenario's teaching material, with the evidence a game gives.

The questions, and what each draws on, belong to the scenario file (its ``teaching``
section, see ``docs/scenario-format.md``). Evidence comes from two places: this game's
final state and path (read from the engine's state once the game is over), as each
question's ``game`` entries say, and passages of the sources, each named by a locator and
a short anchor phrase.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from crisislab.play.session import Session
from crisislab.scenario.expr import Node, evaluate
from crisislab.scenario.model import EvidenceRule, QuestionRule, Scenario


class _Counted(Protocol):
    """Outcomes counted over simulated crises (the debrief's ``Odds``)."""

    @property
    def n(self) -> int: ...
    @property
    def counts(self) -> Mapping[str, int]: ...


class _Weighed(Protocol):
    """One of the people's choices weighed against the record's (a ``Decision``)."""

    @property
    def label(self) -> str: ...
    @property
    def choice_label(self) -> str: ...
    @property
    def after(self) -> _Counted: ...
    @property
    def alternative_after(self) -> _Counted: ...


class Debriefed(Protocol):
    """What the questions' game evidence reads of a debrief
    (:class:`crisislab.play.debrief.Debrief`, which imports this module to fill in its
    essays)."""

    @property
    def outcome_label(self) -> str: ...
    @property
    def end_label(self) -> str: ...
    @property
    def history_outcome_label(self) -> str: ...
    @property
    def history_end_label(self) -> str: ...
    @property
    def curve_game(self) -> Sequence[tuple[int, float]]: ...
    @property
    def curve_history(self) -> Sequence[tuple[int, float]]: ...
    @property
    def escalation_labels(self) -> Mapping[int, str]: ...
    @property
    def decisions(self) -> Sequence[_Weighed]: ...
    def when(self, label: str) -> str: ...


@dataclass(frozen=True)
class SourcePoint:
    text: str
    source: str
    locator: str
    anchor: str


@dataclass(frozen=True)
class EssayView:
    question: str
    quote: str
    locator: str
    game: tuple[str, ...]
    sources: tuple[SourcePoint, ...]


class _End:
    """A finished game's final state, as the questions' conditions read it."""

    def __init__(self, session: Session) -> None:
        sc = session.scenario
        self.scenario = sc
        self.env: dict[str, Any] = session.engine.env(session.state)
        self.env["outcome"] = session.state.outcome.astype(np.float64)

    def value(self, name: str) -> float:
        return float(np.asarray(self.env[name], dtype=np.float64).reshape(-1)[0])

    def holds(self, node: Node) -> bool:
        with np.errstate(invalid="ignore"):
            return bool(np.asarray(evaluate(node, self.env), dtype=bool).reshape(-1)[0])


def _count(counts: Mapping[str, int], outcomes: tuple[str, ...]) -> int:
    return sum(counts.get(k, 0) for k in outcomes)


def _line(g: EvidenceRule, game: _End, record: _End, d: Debriefed) -> str | None:
    """One line of a question's game evidence, or None when it has nothing to say."""
    if g.when is not None and g.show != "text" and not game.holds(g.when):
        return None
    if g.show == "outcome":
        return g.text.format(
            outcome=d.outcome_label.lower(),
            end=d.when(d.end_label),
            record_outcome=d.history_outcome_label.lower(),
            record_end=d.when(d.history_end_label),
        )
    if g.show == "value":
        assert g.variable is not None
        from crisislab.scenario.display import format_value

        sc = game.scenario
        return g.text.format(
            value=format_value(sc, g.variable, game.value(g.variable)),
            history=format_value(sc, g.variable, record.value(g.variable)),
        )
    if g.show == "text":
        if g.when is None or game.holds(g.when):
            return g.text
        return g.otherwise
    if g.show == "list":
        named = [text for node, text in g.items if game.holds(node)]
        return g.text.format(items=", ".join(named) if named else (g.none or ""))
    if g.show == "peak":
        peak = max((e for _, e in d.curve_game), default=0.0)
        peak_h = max((e for _, e in d.curve_history), default=0.0)
        return g.text.format(
            game=d.escalation_labels.get(int(peak), f"{peak:g}"),
            history=d.escalation_labels.get(int(peak_h), f"{peak_h:g}"),
        )
    # decision: the first of the player's decisions that raised the tagged outcomes' share
    tagged = game.scenario.outcomes_tagged(*g.tags)
    for x in d.decisions:
        if (
            _count(x.after.counts, tagged) - _count(x.alternative_after.counts, tagged)
            >= g.share * x.after.n
        ):
            return g.text.format(label=d.when(x.label), choice=x.choice_label)
    return None


def questions(scenario: Scenario) -> tuple[QuestionRule, ...]:
    """The scenario's essay and discussion questions (its ``teaching`` section)."""
    return scenario.questions


def essays_for(session: Session, hist: Session, d: Debriefed) -> list[EssayView]:
    """Each question of the scenario with what this game (``session``, beside the record's
    ``hist``) shows for it, and the passages of the sources it draws on."""
    from crisislab.scenario.display import source_name, words_of

    sc = session.scenario
    names = {s.id: source_name(s) for s in sc.spec.sources}
    game, record = _End(session), _End(hist)
    out = []
    for q in questions(sc):
        lines = [line for g in q.game if (line := _line(g, game, record, d)) is not None]
        where = q.cite[0]
        out.append(
            EssayView(
                q.question,
                q.quote,
                f"{names.get(where.source, words_of(where.source))}, {where.locator}",
                tuple(lines),
                tuple(
                    SourcePoint(
                        text, names.get(c.source, words_of(c.source)), c.locator, c.anchor or ""
                    )
                    for text, c in q.evidence
                ),
            )
        )
    return out
