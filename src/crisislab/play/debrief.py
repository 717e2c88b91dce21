"""The debrief: a played crisis set beside the historical one.

Everything is recomputed from the saved game (scenario, seed, seats, the people's
choices): the game is replayed through the engine, the historical track is replayed with
chance forced to the record, and each of the people's decisions is weighed with
:func:`~crisislab.runner.run_onward`: many crises simulated onward from the state
before the decision, with the same stand-in policy in the person's seat afterwards. The
odds "after" are computed twice, once with the person's choice and once with the
record's choice (or the stand-in's own where the record is silent), on the same seed and
so the same crisis streams (common random numbers): crisis *i* of one run meets the
same chance as crisis *i* of the other, and the paired difference is the effect of that
one choice. Turns the person only followed are not decisions.

The simulations are planned first and each is run once (a decision's "before" is the
start's odds when it is the first turn, and another person's "before" on the same turn);
one whose forced choice is what the stand-in makes there for certain, with no draw, is
the "before" simulation itself, crisis by crisis, and is not run (:func:`_certain_choice`).
The rest run on several processes when they are many (:func:`debrief_workers`); a
simulation's outcomes do not depend on the process that runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.registry import make_agent
from crisislab.engine.observation import Observation
from crisislab.engine.state import BatchState
from crisislab.play.essays import EssayView, essays_for
from crisislab.play.session import GameSetup, Session, TurnTrace, _name, record_choice
from crisislab.play.words import plain
from crisislab.replay import SimulatedCrisis, onward, replay
from crisislab.runner import default_workers, run_onward, run_shared
from crisislab.scenario.display import actor_name, format_value, turn_words
from crisislab.scenario.model import Scenario


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (95% by default)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at k = 0 or k = n the bound is exactly 0 or 1 (not a rounding error away)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Odds:
    """An outcome distribution estimated from ``n`` simulated crises."""

    n: int
    counts: dict[str, int]

    def p(self, outcome: str) -> float:
        return self.counts.get(outcome, 0) / self.n if self.n else 0.0

    def interval(self, outcome: str) -> tuple[float, float]:
        return wilson(self.counts.get(outcome, 0), self.n)


def newcombe_paired(
    both: int, only_first: int, only_second: int, neither: int, z: float = 1.959964
) -> tuple[float, float]:
    """95% interval for p1 - p2 from paired binary data: Newcombe's method 10 (Newcombe,
    "Improved confidence intervals for the difference between binomial proportions based
    on paired data", Statistics in Medicine 17 (1998) 2635-2650): the two margins' Wilson
    intervals, combined with the correlation of the pairs. ``only_first`` counts pairs
    where the first member has the outcome and the second has not."""
    a, b, c, d = both, only_first, only_second, neither
    n = a + b + c + d
    if n == 0:
        return -1.0, 1.0
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    # Newcombe's phi: the product-moment correlation of the pairs, with a continuity
    # correction of n/2 when it is positive
    corrected = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0.0)
    phi = corrected / math.sqrt(denom) if denom > 0 else 0.0
    diff = p1 - p2
    low = diff - math.sqrt(
        max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    )
    high = diff + math.sqrt(
        max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    )
    return max(-1.0, low), min(1.0, high)


@dataclass(frozen=True)
class Effect:
    """The change one choice makes to an outcome's probability, with its interval."""

    p: float
    low: float
    high: float


@dataclass(frozen=True)
class Decision:
    """One of the people's choices, weighed against the record's (or the stand-in's)."""

    turn: int
    label: str
    actor: str
    choice: str
    choice_label: str
    alternative: str
    alternative_label: str
    alternative_from: str  # "record" or "stand-in"
    before: Odds  # the stand-in choosing at this turn
    after: Odds  # the person's choice, then the stand-in
    alternative_after: Odds  # the alternative, then the stand-in, same streams
    effect: dict[str, Effect]  # per outcome: after minus alternative_after, paired


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
    dates: dict[str, str] = field(default_factory=dict)  # a turn's label -> in words
    names: dict[str, str] = field(default_factory=dict)  # an actor's id -> its name

    def when(self, label: str) -> str:
        """A turn's label (``1962-10-27 pm``) as a reader reads it (``Saturday 27
        October 1962, evening``)."""
        return self.dates.get(label, label)

    @property
    def diverged(self) -> bool:
        return self.first_divergence is not None


class _Forced:
    """Plays ``choice`` on ``turn``, then defers to ``then``; as stochastic, and as
    lumpable, as ``then`` (its choices on other turns are ``then``'s)."""

    name: ClassVar[str] = "forced"
    needs_model_server: ClassVar[bool] = False

    def __init__(self, turn: int, choice: int, then: Agent) -> None:
        self.turn, self.choice, self.then = turn, choice, then
        self.stochastic = bool(getattr(then, "stochastic", True))
        self.lumpable = bool(getattr(then, "lumpable", False))

    def act(self, observation: Observation) -> np.ndarray:
        if observation.turn == self.turn:
            return np.full(observation.n, self.choice, dtype=np.int64)
        return self.then.act(observation)

    def policy(self, observation: Observation) -> np.ndarray:
        if observation.turn == self.turn:
            out = np.zeros((observation.n, len(observation.actions)))
            out[:, self.choice] = 1.0
            return out
        inner = getattr(self.then, "policy", None)
        if inner is not None:
            return np.asarray(inner(observation))
        out = np.zeros((observation.n, len(observation.actions)))
        out[np.arange(observation.n), np.asarray(self.then.act(observation))] = 1.0
        return out


def history_session(scenario: Scenario, setup: GameSetup) -> Session:
    """The record, played through the same engine: every seat historical, chance forced."""
    seats = {a: "historical" for a in scenario.players if scenario.role(a) == "player"}
    hist = Session.new(
        scenario, GameSetup(setup.scenario, setup.seed, seats, "history", setup.start_turn)
    )
    while not hist.done:
        hist.play_turn({}, [])
    return hist


def _visible(scenario: Scenario, trace: TurnTrace) -> list[dict[str, Any]]:
    defaults = {scenario.default_action(a).id for a in scenario.players}
    return [
        h
        for h in trace.happenings
        if not (h["kind"] == "action" and h["id"] in defaults and not h["changes"])
    ]


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
    return f"Arrives: {plain(message.summary, scenario)[:120]}"


def game_events(session: Session) -> list[dict[str, Any]]:
    """What happened in a game, turn by turn, in words (ground truth, for after the
    game): every action other than a routine wait, every event, letter and outcome."""
    sc = session.scenario
    out: list[dict[str, Any]] = []
    for trace in session.traces:
        for h in _visible(sc, trace):
            out.append(
                {
                    "date": sc.clock.turns[trace.turn].label,
                    "kind": h["kind"],
                    "id": h["id"],
                    "actor": h["actor"],
                    "text": _describe(sc, h),
                }
            )
    return out


def build(
    session: Session,
    game_id: int | None = None,
    runs: int = 2000,
    stand_in: str = "historical",
    seed: int = 0,
    max_decisions: int = 40,
    workers: int | None = None,
) -> Debrief:
    """The debrief of a (finished or unfinished) game. Its simulations run on ``workers``
    processes (by default :func:`debrief_workers`) when there are enough of them to pay
    for starting the processes; the odds are the same on any number."""
    sc = session.scenario
    setup = session.setup
    hist = history_session(sc, setup)
    record = replay(sc, seed=setup.seed, start_turn=setup.start_turn)
    cites: dict[tuple[int, str], tuple[str, ...]] = {}
    summaries: dict[tuple[int, str], str] = {}
    for e in record.entries:
        cites[(e.turn, e.id)] = tuple(
            f"{c.source}, {c.locator}" + (f' "{c.anchor}"' if c.anchor else "")
            for c in e.citations[:3]
        )
        text = plain(e.summary, sc)
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
        row = Row(
            turn,
            sc.clock.turns[turn].label,
            tuple(Line(_describe(sc, x)) for x in gv),
            tuple(
                Line(
                    summaries.get((turn, x["id"]), _describe(sc, x)), cites.get((turn, x["id"]), ())
                )
                for x in hv
            ),
            diverged,
            cause,
        )
        rows.append(row)
        if diverged and first is None:
            first = row
    outcome = session.outcome
    o_rule = sc.outcome(outcome) if outcome else None
    end = int(session.state.end_turn[0])
    h_out = sc.outcome(hist.outcome) if hist.outcome else None
    seat_words = [
        f"{actor_name(sc, a)} ({'you' if s == 'human' else s})" for a, s in setup.seats.items()
    ]
    d = Debrief(
        game_id=game_id,
        title=sc.title,
        scenario=sc.id,
        version=sc.version,
        seed=setup.seed,
        chance=setup.chance,
        players=seat_words,
        outcome=outcome or "",
        outcome_label=o_rule.label if o_rule else "not finished",
        outcome_summary=" ".join(o_rule.summary.split())
        if o_rule
        else "The game was left before the crisis ended.",
        end_label=sc.clock.turns[end].label if end >= 0 else session.turn_label(),
        history_outcome=h_out.id if h_out else "",
        history_outcome_label=h_out.label if h_out else "",
        history_end_label=sc.clock.turns[int(hist.state.end_turn[0])].label,
        rows=rows,
        first_divergence=first,
        curve_game=[(t.turn, t.escalation) for t in session.traces],
        curve_history=[(t.turn, t.escalation) for t in hist.traces],
        escalation_labels=dict(sc.escalation_labels),
        turn_labels={t.index: t.label for t in sc.clock.turns},
        terms=_terms(session, hist),
        outcomes=[(o.id, o.label) for o in sc.outcomes],
        runs=runs,
        stand_in=stand_in,
        finished=session.done,
        dates={t.label: turn_words(sc, t.index, weekday=True) for t in sc.clock.turns},
        names={a: _name(sc, a) for a in sc.actors},
    )
    if runs > 0:
        _odds(d, session, runs, stand_in, seed, max_decisions, workers)
    d.essays = essays_for(session, hist, d)
    return d


def _cause(sc: Scenario, session: Session, g: TurnTrace | None, h: TurnTrace | None) -> str:
    if g is None or h is None:
        return "one crisis had already ended"
    for actor in session.humans:
        if g.choices.get(actor) != h.choices.get(actor):
            return f"your choice ({_name(sc, actor)})"
    for actor in sc.players:
        if g.choices.get(actor) != h.choices.get(actor):
            return f"{_name(sc, actor)}'s choice"
    if g.injected:
        return "the facilitator's inject: " + "; ".join(sc.event(e).label for e in g.injected)
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
        out.append(
            (
                name,
                format_value(sc, name, float(session.state.values[v.index, 0])),
                format_value(sc, name, float(hist.state.values[v.index, 0])),
            )
        )
    return out


def _odds(
    d: Debrief,
    session: Session,
    runs: int,
    stand_in: str,
    seed: int,
    max_decisions: int,
    workers: int | None = None,
) -> None:
    sc = session.scenario
    outcome_ids = [o.id for o in sc.outcomes]
    context = _Context(sc, dict(session.agents), tuple(session.humans), stand_in, runs, seed)

    def odds(outcomes: np.ndarray) -> Odds:
        counts: dict[str, int] = {}
        for i in outcomes:
            counts[outcome_ids[int(i)]] = counts.get(outcome_ids[int(i)], 0) + 1
        return Odds(runs, counts)

    # first the simulations the debrief needs, each once (see _Job), then the odds
    jobs: list[_Job] = []
    certain: dict[tuple[int, str], int | None] = {}

    def job(turn: int, actor: str | None = None, choice: int | None = None) -> _Job:
        if actor is not None and choice is not None:
            if (turn, actor) not in certain:
                certain[(turn, actor)] = _certain_choice(context, session.before[turn], actor)
            if certain[(turn, actor)] == choice:
                actor, choice = None, None  # the stand-in plays it anyway: the same crises
        out = _Job(turn, actor, choice)
        if out not in jobs:
            jobs.append(out)
        return out

    first_turn = min(session.before, default=None)
    start_job = job(first_turn) if first_turn is not None else None
    planned: list[tuple[TurnTrace, str, str, str, str, _Job, _Job, _Job]] = []
    for trace in session.traces:
        followed = session.followed(trace.turn)
        state = session.before[trace.turn]
        for actor in session.humans:
            if actor in followed or len(planned) >= max_decisions:
                continue
            choice = trace.choices[actor]
            obs = session.engine.observe(state, actor)
            alternative = record_choice(session, actor, state)
            source = "record"
            if alternative is None:
                proxy = make_agent(stand_in, sc, actor)
                alternative = obs.actions[int(np.asarray(proxy.act(obs))[0])]
                source = "stand-in"
            if choice == alternative:
                continue  # what following would have played: no effect to weigh
            planned.append(
                (
                    trace,
                    actor,
                    choice,
                    alternative,
                    source,
                    job(trace.turn),
                    job(trace.turn, actor, obs.actions.index(choice)),
                    job(trace.turn, actor, obs.actions.index(alternative)),
                )
            )
    states = {j.turn: session.before[j.turn] for j in jobs}
    done = dict(zip(jobs, _run_jobs(context, states, jobs, workers), strict=True))
    if start_job is not None:
        d.start_odds = odds(done[start_job])
    for trace, actor, choice, alternative, source, before, after, alt in planned:
        d.decisions.append(
            Decision(
                trace.turn,
                sc.clock.turns[trace.turn].label,
                actor,
                choice,
                sc.action(choice).label,
                alternative,
                sc.action(alternative).label,
                source,
                odds(done[before]),
                odds(done[after]),
                odds(done[alt]),
                _effects(done[after], done[alt], outcome_ids),
            )
        )


@dataclass(frozen=True)
class _Context:
    """What every simulation of one debrief shares (a worker process is handed it once)."""

    scenario: Scenario
    agents: dict[str, Agent]  # the game's seats other than the people's
    humans: tuple[str, ...]
    stand_in: str
    runs: int
    seed: int

    def seats(self, job: _Job | None = None) -> dict[str, Agent]:
        """The line-up of a simulation: the stand-in in every person's seat, and in
        ``job``'s actor's seat the stand-in made to play ``job``'s choice on its turn."""
        sc = self.scenario
        agents: dict[str, Agent] = dict(self.agents)
        for actor in self.humans:
            agents[actor] = make_agent(self.stand_in, sc, actor)
        if job is not None and job.actor is not None and job.choice is not None:
            then = make_agent(self.stand_in, sc, job.actor)
            agents[job.actor] = cast(Agent, _Forced(job.turn, job.choice, then))
        return agents


@dataclass(frozen=True)
class _Job:
    """One simulation of the debrief: ``runs`` crises onward from the game's state before
    ``turn``, with ``actor`` (if any) made to play ``choice`` there. Two decisions' or
    the start's simulations that are the same job are run once."""

    turn: int
    actor: str | None = None
    choice: int | None = None


def _simulate(context: _Context, state: BatchState, job: _Job) -> np.ndarray:
    """Per crisis (in crisis-id order) the index of its outcome."""
    result = run_onward(
        context.scenario, state, context.seats(job), context.runs, seed=context.seed
    )
    return np.asarray(result.outcome)[np.argsort(result.crisis_ids, kind="stable")]


def _certain_choice(context: _Context, state: BatchState, actor: str) -> int | None:
    """The choice the stand-in in ``actor``'s seat makes, with no draw, in every crisis
    of a simulation onward from ``state`` (row 0), if there is one: then forcing that
    choice changes nothing, crisis by crisis, and that simulation need not be run.

    It is known only where the line-up is lumpable (:func:`~crisislab.engine.loop.lumpable`):
    there every crisis starts in the one lumped row, and a lumpable seat's choice depends
    on nothing but what its row observes (it draws no chance of its own: the engine draws
    from its ``policy``). The turn's choices are made here as :func:`run_onward` makes
    them, on a batch of its own, and the stand-in is asked about exactly what it observed
    there: if its probabilities (or, for a seat without a policy or a deterministic one,
    its choices) are those of :class:`_Forced` on every row, the two simulations hand the
    engine the same choices and the same probabilities to draw from, and step the same."""
    from crisislab.engine.engine import Engine
    from crisislab.engine.loop import decide, lumpable
    from crisislab.engine.streams import CrisisStreams
    from crisislab.runner import complete_agents

    sc = context.scenario
    seated = complete_agents(sc, context.seats())
    if not lumpable(seated):
        return None
    engine = Engine(sc, chance="free")
    streams = CrisisStreams(context.seed, np.arange(context.runs, dtype=np.int64))
    batch = state.select(np.array([0])).lump(streams)
    if batch.done.any():
        return None
    probe = _Probe(seated[actor])
    seated[actor] = cast(Agent, probe)
    decide(engine, batch, seated)
    if len(probe.seen) != 1:
        return None
    kind, active, out = probe.seen[0]
    if not bool(np.all(active)):
        return None
    if kind == "policy":
        top = np.argmax(out, axis=1)
        one_hot = np.zeros_like(out)
        one_hot[np.arange(out.shape[0]), top] = 1.0
        ok = bool(np.array_equal(out, one_hot)) and bool(np.all(top == top[0]))
    else:
        top = out
        ok = bool(np.all(top == top[0]))
    return int(top[0]) if ok and top.size else None


class _Probe:
    """A seat that hands on its agent's choices and keeps what it answered, as it was
    asked (``policy`` where the agent has one, else ``act``) and while the rows are those
    it observed."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.stochastic = bool(getattr(agent, "stochastic", True))
        self.lumpable = bool(getattr(agent, "lumpable", False))
        self.seen: list[tuple[str, np.ndarray, np.ndarray]] = []
        if getattr(agent, "policy", None) is not None:
            self.policy = self._policy

    def _policy(self, observation: Observation) -> np.ndarray:
        out = np.asarray(self.agent.policy(observation))  # type: ignore[attr-defined]
        self.seen.append(("policy", np.array(observation.active), out.copy()))
        return out

    def act(self, observation: Observation) -> np.ndarray:
        out = np.asarray(self.agent.act(observation), dtype=np.int64)
        self.seen.append(("act", np.array(observation.active), out.copy()))
        return out


def _run_jobs(
    context: _Context, states: dict[int, BatchState], jobs: list[_Job], workers: int | None
) -> list[np.ndarray]:
    """Each job's outcomes, in the order of ``jobs``: in this process, or on ``workers``
    processes when the work is large enough to pay for starting them (each job's result
    is the same wherever it runs)."""
    if workers is None:
        workers = debrief_workers()
    total = context.runs * len(jobs)
    if workers <= 1 or len(jobs) < 2 or total < POOL_FROM or not _shippable(context):
        return [_simulate(context, states[j.turn], j) for j in jobs]
    return _run_pool(context, states, jobs, min(workers, len(jobs)))


def _shippable(context: _Context) -> bool:
    """Whether the line-up may be handed to other processes: none of its seats asks a
    model server (a language model's seat keeps its conversations and cache in this
    process), and all of it pickles."""
    import pickle

    seats = context.seats()
    if any(getattr(a, "needs_model_server", False) for a in seats.values()):
        return False
    try:
        pickle.dumps(context)
    except Exception:  # an agent that cannot travel runs here, as before
        return False
    return True


# from this many simulated crises in all a debrief runs on several processes: a worker
# costs about 0.7 s to start, some 1,500 crises' work
POOL_FROM = 5000
WORKERS_VARIABLE = "CRISISLAB_DEBRIEF_WORKERS"


def debrief_workers() -> int:
    """How many processes a debrief's simulations run on: ``CRISISLAB_DEBRIEF_WORKERS``,
    else every core this process may use."""
    import os

    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(
                f"{WORKERS_VARIABLE} should be a whole number, not '{value}'"
            ) from None
    return default_workers()


_WORKER: tuple[_Context, dict[int, BatchState]] | None = None


def _init_worker(context: _Context, states: dict[int, BatchState]) -> None:
    global _WORKER
    _WORKER = (context, states)


def _worker_job(job: _Job) -> np.ndarray:
    assert _WORKER is not None, "worker not initialised"
    context, states = _WORKER
    return _simulate(context, states[job.turn], job)


def _run_pool(
    context: _Context, states: dict[int, BatchState], jobs: list[_Job], workers: int
) -> list[np.ndarray]:
    """``jobs`` on this process and ``workers - 1`` others
    (:func:`~crisislab.runner.run_shared`)."""
    return run_shared(
        jobs,
        lambda job: _simulate(context, states[job.turn], job),
        _worker_job,
        workers,
        _init_worker,
        (context, states),
    )


def _effects(after: np.ndarray, alt: np.ndarray, ids: list[str]) -> dict[str, Effect]:
    out: dict[str, Effect] = {}
    n = len(after)
    for k, oid in enumerate(ids):
        x, y = after == k, alt == k
        both, first, second = int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum())
        low, high = newcombe_paired(both, first, second, n - both - first - second)
        out[oid] = Effect((first - second) / n if n else 0.0, low, high)
    return out


def to_json(d: Debrief) -> dict[str, Any]:
    """The debrief's odds as plain data (``crisislab debrief ID --format json``)."""

    def share(o: Odds, oid: str) -> dict[str, float]:
        low, high = o.interval(oid)
        return {"p": o.p(oid), "low": low, "high": high}

    ids = [oid for oid, _ in d.outcomes]
    return {
        "game_id": d.game_id,
        "scenario": d.scenario,
        "version": d.version,
        "seed": d.seed,
        "chance": d.chance,
        "seats": d.players,
        "finished": d.finished,
        "outcome": d.outcome or None,
        "end_date": d.end_label,
        "history_outcome": d.history_outcome,
        "history_end_date": d.history_end_label,
        "first_divergence": None
        if d.first_divergence is None
        else {"date": d.first_divergence.label, "cause": d.first_divergence.cause},
        "runs": d.runs,
        "stand_in": d.stand_in,
        "intervals": {
            "before, after, alternative_after": "Wilson score, 95%",
            "effect": "Newcombe (1998) method 10 for paired proportions, 95%, "
            "over crises paired by their random streams",
        },
        "start": None if d.start_odds is None else {oid: share(d.start_odds, oid) for oid in ids},
        "decisions": [
            {
                "date": x.label,
                "turn": x.turn,
                "actor": x.actor,
                "choice": x.choice,
                "choice_label": x.choice_label,
                "alternative": x.alternative,
                "alternative_label": x.alternative_label,
                "alternative_from": x.alternative_from,
                "outcomes": {
                    oid: {
                        "before": share(x.before, oid),
                        "after": share(x.after, oid),
                        "alternative_after": share(x.alternative_after, oid),
                        "effect": {
                            "p": x.effect[oid].p,
                            "low": x.effect[oid].low,
                            "high": x.effect[oid].high,
                        },
                    }
                    for oid in ids
                },
            }
            for x in d.decisions
        ],
    }


@dataclass(frozen=True)
class OnwardStory:
    """One simulated crisis continuing from a player's decision: how many of ``runs``
    crises from there ended as asked, and the story of one of them."""

    turn: int
    turn_label: str
    actor: str
    choice_label: str
    wanted: str  # "war" or an outcome's id
    matching: int
    runs: int
    crisis: SimulatedCrisis | None


def decision_point(session: Session) -> tuple[int, str, str]:
    """The player's decision the story starts from: the first turn a human seat chose
    otherwise than the record, else the first turn played: (turn, actor, action id)."""
    for trace in session.traces:
        followed = session.followed(trace.turn)
        state = session.before[trace.turn]
        for actor in session.humans:
            if actor in followed:
                continue
            choice = trace.choices[actor]
            if choice != record_choice(session, actor, state):
                return trace.turn, actor, choice
    if not session.traces:
        raise ValueError("the game has no turn played yet: play at least one turn")
    first = session.traces[0]
    actor = sorted(session.humans)[0]
    return first.turn, actor, first.choices[actor]


def onward_story(
    session: Session,
    wanted: str = "war",
    runs: int = 2000,
    stand_in: str = "historical",
    seed: int = 0,
) -> OnwardStory:
    """From the player's decision point (:func:`decision_point`), with the player's own
    choice made there and ``stand_in`` in their seat afterwards, ``runs`` crises are
    simulated onward; one of those ending in ``wanted`` (``"war"``: any outcome above 0
    on the escalation scale) is drawn uniformly, reproducibly from ``seed``, and told."""
    from crisislab.engine.streams import CrisisStreams, priorities

    sc = session.scenario
    turn, actor, choice = decision_point(session)
    state = session.before[turn]
    agents: dict[str, Agent] = dict(session.agents)
    for human in session.humans:
        agents[human] = make_agent(stand_in, sc, human)
    obs = session.engine.observe(state, actor)
    agents[actor] = cast(
        Agent, _Forced(turn, obs.actions.index(choice), make_agent(stand_in, sc, actor))
    )
    result = run_onward(sc, state, agents, runs, seed=seed)
    order_ = np.argsort(result.crisis_ids, kind="stable")
    outcomes = np.asarray(result.outcome)[order_]
    if wanted == "war":
        targets = [o.index for o in sc.outcomes if o.escalation > 0]
    else:
        targets = [sc.outcome(wanted).index]
    match = np.flatnonzero(np.isin(outcomes, targets))
    crisis = None
    if match.size:
        prio = priorities(CrisisStreams(seed, np.arange(runs, dtype=np.int64)))
        index = int(match[np.argmin(prio[match])])
        crisis = onward(sc, state, agents, seed, index)
        if crisis.outcome != sc.outcomes[int(outcomes[index])].id:
            raise RuntimeError(f"crisis {seed}:{index} ended differently when told alone")
    return OnwardStory(
        turn,
        sc.clock.turns[turn].label,
        actor,
        sc.action(choice).label,
        wanted,
        int(match.size),
        runs,
        crisis,
    )
