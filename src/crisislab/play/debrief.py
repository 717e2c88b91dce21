"""The debrief: a played crisis set beside the historical one.

Everything is recomputed from the saved game (scenario, seed, seats, the people's
choices): the game is replayed through the engine, the historical track is replayed with
chance forced to the record, and the odds around each of the people's decisions are
estimated with :func:`~crisislab.engine.run.run_onward`, as many crises simulated onward
from the state before the decision, once with a stand-in agent in the person's seat and
once with the person's actual choice followed by the stand-in. Both runs share their
random streams, so the difference between them is the decision's, not chance's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.registry import make_agent
from crisislab.engine.observation import Observation
from crisislab.engine.run import run_onward
from crisislab.engine.state import BatchState
from crisislab.play.essays import EssayView, essays_for
from crisislab.play.session import GameSetup, Session, TurnTrace, _name
from crisislab.replay import replay
from crisislab.scenario.model import Scenario


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (95% by default)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Odds:
    """An outcome distribution estimated from ``n`` simulated crises."""

    n: int
    counts: dict[str, int]

    def p(self, outcome: str) -> float:
        return self.counts.get(outcome, 0) / self.n if self.n else 0.0

    def interval(self, outcome: str) -> tuple[float, float]:
        return wilson(self.counts.get(outcome, 0), self.n)


@dataclass(frozen=True)
class Decision:
    turn: int
    label: str
    actor: str
    choice: str
    choice_label: str
    stand_in: str
    stand_in_label: str
    before: Odds
    after: Odds


@dataclass(frozen=True)
class Line:
    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    turn: int
    label: str
    game: tuple[Line, ...]
    history: tuple[Line, ...]
    diverged: bool
    cause: str


@dataclass
class Debrief:
    game_id: int | None
    title: str
    scenario: str
    version: str
    seed: int
    chance: str
    players: list[str]  # "usa (human)" ...
    outcome: str
    outcome_label: str
    outcome_summary: str
    end_label: str
    history_outcome: str
    history_outcome_label: str
    history_end_label: str
    rows: list[Row]
    first_divergence: Row | None
    curve_game: list[tuple[int, float]]
    curve_history: list[tuple[int, float]]
    escalation_labels: dict[int, str]
    turn_labels: dict[int, str]
    terms: list[tuple[str, str, str]]  # (term, this game, history)
    outcomes: list[tuple[str, str]]  # (id, label) in file order
    decisions: list[Decision] = field(default_factory=list)
    start_odds: Odds | None = None
    runs: int = 0
    stand_in: str = ""
    essays: list[EssayView] = field(default_factory=list)
    finished: bool = True

    @property
    def diverged(self) -> bool:
        return self.first_divergence is not None


class _Forced:
    """Plays ``choice`` on ``turn``, then defers to ``then``."""

    name: ClassVar[str] = "forced"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False

    def __init__(self, turn: int, choice: int, then: Agent) -> None:
        self.turn, self.choice, self.then = turn, choice, then

    def act(self, observation: Observation) -> np.ndarray:
        if observation.turn == self.turn:
            return np.full(observation.n, self.choice, dtype=np.int64)
        return self.then.act(observation)


def history_session(scenario: Scenario, setup: GameSetup) -> Session:
    """The record, played through the same engine: every seat historical, chance forced."""
    seats = {a: "historical" for a in scenario.players if scenario.role(a) == "player"}
    hist = Session.new(scenario, GameSetup(setup.scenario, setup.seed, seats, "history",
                                           setup.start_turn))
    while not hist.done:
        hist.play_turn({}, [])
    return hist


def _visible(scenario: Scenario, trace: TurnTrace) -> list[dict[str, Any]]:
    defaults = {scenario.default_action(a).id for a in scenario.players}
    return [h for h in trace.happenings
            if not (h["kind"] == "action" and h["id"] in defaults and not h["changes"])]


def _key(h: dict[str, Any]) -> tuple[str, str, str]:
    return (h["kind"], h["id"], h["actor"] or "")


def _describe(scenario: Scenario, h: dict[str, Any]) -> str:
    kind, ident = h["kind"], h["id"]
    if kind == "action":
        return f"{_name(scenario, h['actor'])}: {scenario.action(ident).label}"
    if kind == "event":
        return scenario.event(ident).label
    if kind == "outcome":
        return f"Outcome: {scenario.outcome(ident).label}"
    message = next(m for m in scenario.messages if m.id == ident)
    return f"Arrives: {' '.join(message.summary.split())[:120]}"


def build(session: Session, game_id: int | None = None, runs: int = 2000,
          stand_in: str = "historical", seed: int = 0, max_decisions: int = 40) -> Debrief:
    """The debrief of a (finished or unfinished) game."""
    sc = session.scenario
    setup = session.setup
    hist = history_session(sc, setup)
    record = replay(sc, seed=setup.seed, start_turn=setup.start_turn)
    cites: dict[tuple[int, str], tuple[str, ...]] = {}
    summaries: dict[tuple[int, str], str] = {}
    for e in record.entries:
        cites[(e.turn, e.id)] = tuple(
            f"{c.source}, {c.locator}" + (f' "{c.anchor}"' if c.anchor else "")
            for c in e.citations[:3])
        text = " ".join(e.summary.split())
        if e.kind == "outcome":
            text = f"Outcome: {sc.outcome(e.id).label}. {text}"
        summaries[(e.turn, e.id)] = text
    game_by_turn = {t.turn: t for t in session.traces}
    hist_by_turn = {t.turn: t for t in hist.traces}
    rows: list[Row] = []
    first: Row | None = None
    last_turn = max([*game_by_turn, *hist_by_turn], default=-1)
    for turn in range(min([*game_by_turn, *hist_by_turn], default=0), last_turn + 1):
        g, h = game_by_turn.get(turn), hist_by_turn.get(turn)
        gv = _visible(sc, g) if g else []
        hv = _visible(sc, h) if h else []
        diverged = {_key(x) for x in gv} != {_key(x) for x in hv}
        cause = ""
        if diverged:
            cause = _cause(sc, session, g, h)
        if not gv and not hv:
            continue
        row = Row(turn, sc.clock.turns[turn].label,
                  tuple(Line(_describe(sc, x)) for x in gv),
                  tuple(Line(summaries.get((turn, x["id"]), _describe(sc, x)),
                             cites.get((turn, x["id"]), ())) for x in hv),
                  diverged, cause)
        rows.append(row)
        if diverged and first is None:
            first = row
    outcome = session.outcome
    o_rule = sc.outcome(outcome) if outcome else None
    end = int(session.state.end_turn[0])
    h_out = sc.outcome(hist.outcome) if hist.outcome else None
    seat_words = [f"{a} ({'you' if s == 'human' else s})" for a, s in setup.seats.items()]
    d = Debrief(
        game_id=game_id, title=sc.title, scenario=sc.id, version=sc.version,
        seed=setup.seed, chance=setup.chance, players=seat_words,
        outcome=outcome or "", outcome_label=o_rule.label if o_rule else "not finished",
        outcome_summary=" ".join(o_rule.summary.split()) if o_rule else
        "The game was left before the crisis ended.",
        end_label=sc.clock.turns[end].label if end >= 0 else session.turn_label(),
        history_outcome=h_out.id if h_out else "", history_outcome_label=h_out.label
        if h_out else "", history_end_label=sc.clock.turns[int(hist.state.end_turn[0])].label,
        rows=rows, first_divergence=first,
        curve_game=[(t.turn, t.escalation) for t in session.traces],
        curve_history=[(t.turn, t.escalation) for t in hist.traces],
        escalation_labels=dict(sc.escalation_labels),
        turn_labels={t.index: t.label for t in sc.clock.turns},
        terms=_terms(session, hist), outcomes=[(o.id, o.label) for o in sc.outcomes],
        runs=runs, stand_in=stand_in, finished=session.done,
    )
    if runs > 0:
        _odds(d, session, runs, stand_in, seed, max_decisions)
    d.essays = essays_for(session, hist, d)
    return d


def _cause(sc: Scenario, session: Session, g: TurnTrace | None, h: TurnTrace | None) -> str:
    if g is None or h is None:
        return "one crisis had already ended"
    for actor in session.humans:
        if g.choices.get(actor) != h.choices.get(actor):
            return f"your choice ({actor})"
    for actor in sc.players:
        if g.choices.get(actor) != h.choices.get(actor):
            return f"{_name(sc, actor)}'s choice"
    return "chance, or what earlier differences set in motion"


def _terms(session: Session, hist: Session) -> list[tuple[str, str, str]]:
    """The settlement's terms: every variable a message of the scenario names."""
    sc = session.scenario
    names: list[str] = []
    for m in sc.messages:
        for t in m.terms:
            if t not in names:
                names.append(t)
    out = []
    for name in names:
        try:
            v = sc.variable(name)
        except KeyError:
            continue
        out.append((name, v.format(float(session.state.values[v.index, 0])),
                    v.format(float(hist.state.values[v.index, 0]))))
    return out


def _odds(d: Debrief, session: Session, runs: int, stand_in: str, seed: int,
          max_decisions: int) -> None:
    sc = session.scenario
    outcome_ids = [o.id for o in sc.outcomes]

    def seats(override: dict[str, Agent]) -> dict[str, Agent]:
        agents: dict[str, Agent] = dict(session.agents)
        for actor in session.humans:
            agents[actor] = make_agent(stand_in, sc, actor)
        agents.update(override)
        return agents

    def simulate(state: BatchState, override: dict[str, Agent]) -> Odds:
        result = run_onward(sc, state, seats(override), runs, seed=seed)
        counts: dict[str, int] = {}
        for i in result.outcome:
            counts[outcome_ids[int(i)]] = counts.get(outcome_ids[int(i)], 0) + 1
        return Odds(runs, counts)

    first_turn = min(session.before, default=None)
    if first_turn is not None:
        d.start_odds = simulate(session.before[first_turn], {})
    for trace in session.traces:
        if len(d.decisions) >= max_decisions:
            break
        state = session.before[trace.turn]
        for actor in session.humans:
            choice = trace.choices[actor]
            obs = session.engine.observe(state, actor)
            proxy = make_agent(stand_in, sc, actor)
            pick = int(np.asarray(proxy.act(obs))[0])
            standin_choice = obs.actions[pick]
            if choice == standin_choice and choice == sc.default_action(actor).id:
                continue
            before = simulate(state, {})
            local = obs.actions.index(choice)
            after = before if choice == standin_choice else simulate(
                state, {actor: _Forced(trace.turn, local, make_agent(stand_in, sc, actor))})
            d.decisions.append(Decision(
                trace.turn, sc.clock.turns[trace.turn].label, actor, choice,
                sc.action(choice).label, standin_choice, sc.action(standin_choice).label,
                before, after))
