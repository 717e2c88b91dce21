"""A game in progress: a scenario, the engine, a batch-of-one state, seats and a log.

The session holds no rules: every move goes through :meth:`Engine.step`. A game is fully
determined by its :class:`GameSetup` (scenario, seed, seats, chance mode, start) and the
people's choices and letters per turn, so a saved game stores only those and
:meth:`Session.rebuild` replays them through the engine (no pickles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.historical import HistoricalAgent
from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import step_turn
from crisislab.engine.observation import Observation
from crisislab.engine.state import BatchState
from crisislab.engine.streams import below
from crisislab.play.letters import (
    Letter,
    LetterError,
    answer,
    can_write,
    channel_by_id,
    delay_turns,
    explain,
    joins,
    model_letter,
    pick_channel,
)
from crisislab.play.words import plain
from crisislab.runner import complete_agents, start_batch
from crisislab.scenario.model import Scenario

HUMAN = "human"


class GameError(ValueError):
    """A game cannot be set up, played on or resumed; the message says why."""


@dataclass(frozen=True)
class GameSetup:
    """Everything that, with the people's choices, determines a game."""

    scenario: str  # the reference it was loaded from: a built-in id or a path
    seed: int
    seats: dict[str, str]  # acting actor -> "human" or an agent spec ("historical")
    chance: str = "free"  # "free", or "history": chance events fire as on the record
    start_turn: int | None = None

    @property
    def humans(self) -> list[str]:
        return [a for a, s in self.seats.items() if s == HUMAN]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GameSetup:
        return cls(**data)


@dataclass
class News:
    """One thing an actor learnt, on the turn it learnt it."""

    turn: int
    label: str
    kind: str  # "action", "event", "letter", "public"
    text: str


@dataclass
class TurnTrace:
    """What a played turn did (ground truth, for the debrief only)."""

    turn: int
    choices: dict[str, str]  # every acting actor's action id
    happenings: list[dict[str, Any]]
    escalation: float
    peak: float
    injected: list[str] = field(default_factory=list)  # events the facilitator injected


@dataclass
class Session:
    scenario: Scenario
    setup: GameSetup
    engine: Engine
    state: BatchState
    agents: dict[str, Agent]
    log: list[dict[str, Any]] = field(default_factory=list)
    letters: list[Letter] = field(default_factory=list)
    traces: list[TurnTrace] = field(default_factory=list)
    news: dict[str, list[News]] = field(default_factory=dict)
    before: dict[int, BatchState] = field(default_factory=dict)  # state at each turn's start
    commitments: dict[str, list[str]] = field(default_factory=dict)
    stand_ins: dict[str, Agent] = field(default_factory=dict)  # what "follow" defers to

    # ---- set-up ------------------------------------------------------------------------

    @classmethod
    def new(cls, scenario: Scenario, setup: GameSetup) -> Session:
        if setup.chance not in ("free", "history"):
            raise GameError(f"chance must be 'free' or 'history', not '{setup.chance}'")
        unknown = set(setup.seats) - set(scenario.players)
        if unknown:
            raise GameError(
                f"not an acting actor of {scenario.id}: "
                f"{', '.join(sorted(unknown))}; use: {', '.join(scenario.players)}"
            )
        agents: dict[str, Agent] = {}
        for actor, spec in setup.seats.items():
            if spec != HUMAN:
                agents[actor] = make_agent(spec, scenario, actor)
        humans = set(setup.humans)
        missing = [
            a for a in scenario.players if a not in setup.seats and scenario.role(a) != "scripted"
        ]
        if missing:
            raise GameError(f"no seat given for {', '.join(missing)}")
        human_seats = {a: agents.get(a) for a in scenario.players if a in humans}
        agents = complete_agents(scenario, {**agents, **{a: _Nobody() for a in human_seats}})
        for a in humans:
            del agents[a]
        engine = Engine(scenario, chance=setup.chance)  # type: ignore[arg-type]
        state = start_batch(engine, 1, setup.seed, start_turn=setup.start_turn)
        session = cls(scenario, setup, engine, state, agents, news={a: [] for a in scenario.actors})
        session.before[state.turn] = state.select(np.array([0]))
        return session

    @classmethod
    def rebuild(cls, scenario: Scenario, setup: GameSetup, log: list[dict[str, Any]]) -> Session:
        """Replay a saved game's turns through the engine; check each turn's digest."""
        session = cls.new(scenario, setup)
        for record in log:
            if session.done:
                raise GameError("the saved game has turns after its end")
            if record.get("turn") != session.state.turn:
                raise GameError(f"the saved game is out of step at turn {record.get('turn')}")
            session.play_turn(
                record["choices"],
                record.get("letters", []),
                followed=record.get("followed", ()),
                injected=record.get("injected", ()),
            )
            if not record.get("digest"):
                raise GameError(
                    f"the saved turn {record['turn']} has no digest, so the "
                    "replayed crisis cannot be checked against the one played"
                )
            if record["digest"] != session.digest():
                raise GameError(
                    f"replaying the saved choices gives a different crisis at turn "
                    f"{record['turn']}: the scenario or the agents have changed since the "
                    "game was saved"
                )
        return session

    # ---- reading -----------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return bool(self.state.done[0]) or self.state.turn >= self.engine.n_turns

    @property
    def turn(self) -> int:
        return self.state.turn

    @property
    def humans(self) -> list[str]:
        return self.setup.humans

    def turn_label(self, turn: int | None = None) -> str:
        t = self.state.turn if turn is None else turn
        return self.scenario.clock.turns[min(t, self.engine.n_turns - 1)].label

    def date(self, turn: int | None = None, year: bool = False) -> str:
        """A turn's date in words, for what a person reads: ``Saturday 27 October,
        evening`` (``turn_label`` is the clock's label, ``1962-10-27 pm``, for files)."""
        from crisislab.scenario.display import turn_words

        t = self.state.turn if turn is None else turn
        return turn_words(self.scenario, min(t, self.engine.n_turns - 1), weekday=True, year=year)

    def observe(self, actor: str) -> Observation:
        return self.engine.observe(self.state, actor)

    def legal(self, actor: str) -> dict[str, bool]:
        """Which of the actor's actions are available now (without the reasons, which
        take longer to put in words: see :meth:`availability`)."""
        obs = self.observe(actor)
        return {a: bool(ok) for a, ok in zip(obs.actions, obs.legal[0], strict=True)}

    def availability(self, actor: str) -> tuple[dict[str, bool], dict[str, str]]:
        """Which of the actor's actions are available now, and why the others are not."""
        legal = self.legal(actor)
        env = {
            k: (v[:1] if isinstance(v, np.ndarray) and v.ndim else v)
            for k, v in self.engine.env(self.state).items()
        }
        why: dict[str, str] = {}
        for a in self.scenario.actions_of(actor):
            if not legal[a.id]:
                why[a.id] = (
                    "the crisis is over"
                    if self.done
                    else plain(explain(a.when, env, self.scenario), self.scenario)
                )
        return legal, why

    def cannot_inject(self, name: str) -> str:
        """Why the injectable event ``name`` could not happen on this turn, in words (""
        if it could: its condition holds now and, for a ``once`` event, it has not yet
        happened)."""
        check_inject(self.scenario, name)
        e = self.scenario.event(name)
        if self.done:
            return "the crisis is over"
        if e.once and bool(self.state.fired[e.index, 0]):
            return "it has already happened, and it happens only once"
        env = {
            k: (v[:1] if isinstance(v, np.ndarray) and v.ndim else v)
            for k, v in self.engine.env(self.state).items()
        }
        if _holds(e.when, env):
            return ""
        return plain(explain(e.when, env, self.scenario), self.scenario)

    @property
    def outcome(self) -> str | None:
        o = int(self.state.outcome[0])
        return self.scenario.outcomes[o].id if o >= 0 else None

    def digest(self) -> str:
        s = self.state
        payload = np.concatenate(
            [np.round(s.values[:, 0], 9), [s.turn, float(s.done[0]), float(s.outcome[0])]]
        )
        return hashlib.sha256(payload.tobytes()).hexdigest()[:16]

    def letters_for(self, actor: str) -> list[Letter]:
        """Letters this actor may read: its own, those delivered to it, public ones."""
        return [
            x
            for x in self.letters
            if x.sender == actor or (x.delivered and (x.to == actor or x.public))
        ]

    # ---- playing -----------------------------------------------------------------------

    def play_turn(
        self,
        choices: dict[str, str],
        drafts: list[dict[str, Any]],
        followed: Collection[str] = (),
        injected: Collection[str] = (),
    ) -> TurnTrace:
        """Play one turn: the people's ``choices`` (action ids) and letters, the agents'
        moves, the engine's step, then the letters that arrive and agents' answers.
        ``followed`` names the people who only followed the record this turn (see
        :func:`follow_choice`): the debrief does not count those turns as decisions.
        ``injected`` names chance events a facilitator injected (see
        :func:`check_inject`): each fires this turn where its condition holds, as if its
        draw had come up; every other event draws as usual."""
        if self.done:
            raise GameError("the crisis is over")
        injected = list(dict.fromkeys(injected))
        for name in injected:
            check_inject(self.scenario, name)
        t = self.state.turn
        missing = [a for a in self.humans if a not in choices]
        if missing:
            raise GameError(f"no choice for {', '.join(missing)}")
        for draft in drafts:
            self._post(draft, t)
        picks: dict[str, np.ndarray] = {}
        names: dict[str, str] = {}
        for actor in self.scenario.players:
            local = {a.id: a.local for a in self.engine.actions_by_actor[actor]}
            if actor in self.humans:
                name = choices[actor]
                if name not in local:
                    raise GameError(f"'{name}' is not an action of {actor}")
                if not self.legal(actor)[name]:
                    _, why = self.availability(actor)
                    raise GameError(f"'{name}' is not available: {why.get(name, '')}")
                pick = local[name]
            else:
                obs = self.observe(actor)
                pick = int(np.asarray(self.agents[actor].act(obs))[0])
                pick = self._committed(actor, obs, pick)
                name = self.engine.actions_by_actor[actor][pick].id
                self._agent_letter(actor, self.agents[actor], t)
            picks[actor] = np.array([pick], dtype=np.int64)
            names[actor] = name
        self.before[t] = self.state.select(np.array([0]))
        previous = self._snapshot()
        policy = (
            _Injected(
                self.engine, self.state, {self.scenario.event(name).index for name in injected}
            )
            if injected
            else None
        )
        result = step_turn(self.engine, self.state, {}, given=picks, trace=True, chance=policy)
        trace = TurnTrace(
            turn=t,
            choices=names,
            happenings=[
                {
                    "kind": h.kind,
                    "id": h.id,
                    "actor": h.actor,
                    "changes": [(c.variable, c.before, c.after) for c in h.changes],
                }
                for h in result.trace
            ],
            escalation=float(self.state.escalation[0]),
            peak=float(self.state.peak[0]),
            injected=injected,
        )
        self.traces.append(trace)
        self._learn(t, previous)
        self._deliver()
        record: dict[str, Any] = {
            "turn": t,
            "choices": {a: names[a] for a in self.humans},
            "letters": drafts,
            "digest": self.digest(),
        }
        follows = [a for a in self.humans if a in set(followed)]
        if follows:
            record["followed"] = follows
        if injected:
            record["injected"] = injected
        self.log.append(record)
        return trace

    def followed(self, turn: int) -> set[str]:
        """The people who only followed the record on ``turn``."""
        return {a for r in self.log if r.get("turn") == turn for a in r.get("followed", ())}

    def _committed(self, actor: str, obs: Observation, pick: int) -> int:
        """An agent that accepted a letter plays the granting action it committed to."""
        queue = self.commitments.get(actor, [])
        for i, name in enumerate(queue):
            local = obs.actions.index(name)
            if obs.legal[0, local]:
                del queue[i]
                return local
        return pick

    def _agent_letter(self, actor: str, agent: Agent, t: int) -> Letter | None:
        """A letter an agent wrote with its choice (a language model's ``letters``),
        posted as a person's would be: it travels, and an agent recipient judges it by
        the same rule (:func:`answer`). Unknown recipients and terms are dropped (see
        :func:`crisislab.play.letters.model_letter`)."""
        written = getattr(agent, "letters", None)
        draft = model_letter(self.scenario, actor, written[0] if written else None)
        return None if draft is None else self._post(draft, t)

    def _post(self, draft: dict[str, Any], t: int) -> Letter:
        """Send a draft: by its ``channel`` (an id) or, without one, by the first channel
        of its kind (``public``) that joins writer and recipient."""
        sender, to = draft["sender"], draft["to"]
        try:
            c = pick_channel(
                self.scenario, sender, to, bool(draft.get("public")), draft.get("channel") or None
            )
        except LetterError as e:
            raise GameError(f"the letter cannot be sent: {e}") from None
        delay = delay_turns(self.scenario, channel=c)
        letter = Letter(
            id=len(self.letters) + 1,
            sender=sender,
            to=to,
            public=c.public,
            terms=list(draft.get("terms", [])),
            text=str(draft.get("text", "")),
            turn=t,
            arrives=t + delay,
            reply_to=draft.get("reply_to"),
            stance=str(draft.get("stance", "")),
            ask=list(draft["ask"]) if draft.get("ask") is not None else None,
            offer=list(draft["offer"]) if draft.get("offer") is not None else None,
            channel=c.id,
        )
        self.letters.append(letter)
        return letter

    def _deliver(self) -> None:
        now = self.state.turn
        if self.done:
            return
        for letter in list(self.letters):
            if letter.delivered or letter.arrives > now:
                continue
            letter.delivered = True
            label = self.date(now)
            readers = self.scenario.actors if letter.public else (letter.to,)
            for reader in readers:
                if reader != letter.sender:
                    kind = "letter" if reader == letter.to else "public"
                    self.news[reader].append(
                        News(
                            now,
                            label,
                            kind,
                            f"letter {letter.id} from {_name(self.scenario, letter.sender)}",
                        )
                    )
            if letter.to in self.humans or letter.reply_to is not None:
                continue
            legal, why = self.availability(letter.to)
            reply = answer(
                self.scenario, letter.to, letter, legal, why, observation=self.observe(letter.to)
            )
            self.commitments.setdefault(letter.to, []).extend(reply.commits)
            out = self._post(
                {
                    "sender": letter.to,
                    "to": letter.sender,
                    "public": not can_write(self.scenario, letter.to, letter.sender),
                    "channel": self._reply_channel(letter),
                    "terms": list(letter.terms),
                    "text": reply.note,
                    "reply_to": letter.id,
                    "stance": reply.stance,
                },
                now,
            )
            out.answer_note = reply.note
            out.commits = list(reply.commits)

    def _reply_channel(self, letter: Letter) -> str | None:
        """An agent answers a private letter by its own channel where it may write back
        by it; otherwise (a public letter, or a channel it may not use) by its first
        private channel to the writer, or failing one its first public channel."""
        if letter.public or not letter.channel:
            return None
        c = channel_by_id(self.scenario, letter.channel)
        return c.id if joins(self.scenario, c, letter.to, letter.sender) else None

    def _snapshot(self) -> dict[str, dict[str, float]]:
        """What each actor sees of the message flags now (to notice arrivals)."""
        out: dict[str, dict[str, float]] = {}
        for actor in self.scenario.actors:
            obs = self.observe(actor)
            out[actor] = {
                k: float(obs.values[k][0])
                for k in obs.values
                if k.endswith("_received") and obs.known[k][0]
            }
        return out

    def _learn(self, t: int, previous: dict[str, dict[str, float]]) -> None:
        """Add to each actor's news what its observation now shows of the last turn."""
        for actor in self.scenario.actors:
            self.news[actor].extend(self.news_since(actor, t, previous[actor]))

    def news_since(self, actor: str, t: int, previous: dict[str, float]) -> list[News]:
        """What ``actor``'s observation shows now of turn ``t`` (just played): others'
        actions it saw, events it witnessed, messages that reached it. Built from the
        observation alone, each step in the words written for this observer."""
        sc = self.scenario
        label = self.date(t)
        defaults = {a: sc.default_action(a).id for a in sc.players}
        out: list[News] = []
        obs = self.observe(actor)
        for other, chosen in obs.seen_actions.items():
            idx = int(chosen[0])
            if other == actor or idx < 0:
                continue
            rule = self.engine.actions_by_actor[other][idx]
            if rule.id == defaults.get(other):
                continue
            out.append(
                News(
                    t,
                    label,
                    "action",
                    f"{_name(sc, other)}: {rule.label}. {plain(rule.summary_for(actor), sc)}",
                )
            )
        for event_id, fired in obs.seen_events.items():
            if fired[0]:
                e = sc.event(event_id)
                out.append(News(t, label, "event", f"{e.label}. {plain(e.summary_for(actor), sc)}"))
        for m in sc.messages:
            key = f"{m.id}_received"
            if (
                key in obs.values
                and obs.known[key][0]
                and obs.values[key][0]
                and not previous.get(key)
            ):
                out.append(
                    News(
                        t,
                        label,
                        "letter" if actor in m.to else "public",
                        f"{_name(sc, m.sender)}: {plain(m.summary, sc)}",
                    )
                )
        return out


def _holds(node: Any, env: dict[str, Any]) -> bool:
    from crisislab.scenario.expr import evaluate

    return bool(np.all(np.asarray(evaluate(node, env), dtype=bool)))


def injectable(scenario: Scenario) -> list[str]:
    """The events a facilitator may inject: chance events the scenario marks
    ``inject: true``."""
    return [e.id for e in scenario.events if e.kind == "chance" and e.inject]


def check_inject(scenario: Scenario, name: str) -> None:
    """Refuse, in words, an event that cannot be injected."""
    if name in injectable(scenario):
        return
    known = ", ".join(injectable(scenario)) or "none: no event of it is marked inject: true"
    what = (
        "is not an event"
        if name not in {e.id for e in scenario.events}
        else "is not an event the scenario lets a facilitator inject"
    )
    raise GameError(f"'{name}' {what} of {scenario.id}; the events that can be injected: {known}")


class _Injected:
    """Chance as the engine draws it (the crisis's own stream, or the record's events in
    ``chance='history'``), except that the injected events fire wherever they may."""

    def __init__(self, engine: Engine, state: BatchState, events: set[int]) -> None:
        if state.row_of is not None:
            raise GameError("an inject needs a game's own crisis, not a lumped batch")
        self.engine, self.state, self.events = engine, state, events

    def decide(self, event: int, hazard: np.ndarray, eligible: np.ndarray, turn: int) -> np.ndarray:
        if event in self.events:
            return eligible.copy()
        if self.engine.chance == "history":
            return eligible & (event in self.engine.forced.get(turn, set()))
        return eligible & below(self.state.streams.bits(turn, event), hazard)


def record_choice(session: Session, actor: str, state: BatchState | None = None) -> str | None:
    """The record's choice for ``actor`` at the turn of ``state`` (the session's by
    default), if the track documents one and it is available there."""
    state = session.state if state is None else state
    planned = HistoricalAgent(session.scenario, actor).plan.get(state.turn)
    if planned is None:
        return None
    obs = session.engine.observe(state, actor)
    return obs.actions[planned] if bool(obs.is_legal(planned)[0]) else None


def follow_choice(session: Session, actor: str) -> str:
    """What "follow" plays: the record's choice where it is available, otherwise what
    the seat's stand-in (the ``historical`` agent) would play."""
    planned = record_choice(session, actor)
    if planned is not None:
        return planned
    if actor not in session.stand_ins:
        session.stand_ins[actor] = make_agent("historical", session.scenario, actor)
    obs = session.observe(actor)
    return obs.actions[int(np.asarray(session.stand_ins[actor].act(obs))[0])]


def _name(scenario: Scenario, actor: str) -> str:
    return next((a.name for a in scenario.spec.actors if a.id == actor), actor)


class _Nobody:
    """Stands in a human's seat while seats are completed; never asked to act."""

    name: ClassVar[str] = "human"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = False

    def act(self, observation: Observation) -> np.ndarray:  # pragma: no cover
        raise GameError("a human seat was asked to act by an agent's rule")
