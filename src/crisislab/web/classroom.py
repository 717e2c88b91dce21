"""A class session: parallel worlds of one scenario, people in seats, a turn clock.

This module holds no rules and no web code. Each world is a :class:`Session` of the
terminal game; a turn is played with :meth:`Session.play_turn` when every occupied seat
of the world has chosen, when the facilitator advances, or when the world's timer runs
out (a seat that has not chosen then follows the record, as "follow" does in the
terminal). Everything that changes is written to the store first: a world is its game
row's log of turns (rebuilt through the engine after a restart), the turn being played
is its rows of choices, letters and votes, and a timer is a stored deadline.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from crisislab.agents.registry import AgentSpecError, make_agent
from crisislab.play.letters import (
    MAX_LETTERS_PER_TURN,
    LetterError,
    arrival_words,
    clean_text,
    delay_turns,
    pick_channel,
)
from crisislab.play.letters import terms as letter_terms
from crisislab.play.session import (
    HUMAN,
    GameError,
    GameSetup,
    Session,
    check_inject,
    follow_choice,
)
from crisislab.scenario.model import Scenario, UnknownPhase
from crisislab.scenario.problems import ScenarioError
from crisislab.store import GameRow, Store, StoreError
from crisislab.web.models import (
    ChoiceRow,
    ClassRow,
    DraftRow,
    InjectRow,
    PlayerRow,
    VoteRow,
    WorldRow,
)

MAX_WORLDS = 12
MAX_PLAYERS = 200  # per class session
MIN_TURN_SECONDS, MAX_TURN_SECONDS = 20, 3 * 3600
MAX_NAME = 40
MAX_SEED = 2**31 - 1 - MAX_WORLDS
MAX_INJECT = 600
OFFSTAGE = (
    "The UN Secretary-General",
    "The NATO allies",
    "The press",
    "The Organization of American States",
    "The facilitator",
)
FOLLOW = "follow"  # the choice that plays the record's move


class ClassError(ValueError):
    """A request the class session refuses; ``status`` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Forbidden(ClassError):
    status = 403


class NotFound(ClassError):
    status = 404


class Conflict(ClassError):
    status = 409


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class Live:
    """A class session's worlds in memory (rebuilt from the store when missing)."""

    class_id: int
    scenario: Scenario
    worlds: dict[int, Session]
    game_ids: dict[int, int]
    debriefs: dict[tuple[int, int], Any] = field(default_factory=dict)
    # what a seat is shown and may do only changes when its world plays a turn: kept
    # per (world, seat, turns played), dropped when the world moves on
    briefs: dict[tuple[int, str, int], dict[str, Any]] = field(default_factory=dict)
    options: dict[tuple[int, str, int], dict[str, bool]] = field(default_factory=dict)
    # one lock a world: its turn is played, and its seats act, one at a time; other
    # worlds go on meanwhile (the store's writes still take the classroom's lock)
    locks: dict[int, threading.RLock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for number in self.worlds:
            self.locks.setdefault(number, threading.RLock())


@dataclass
class Snapshot:
    """What was read from the store for one revision of a class session. Every change to a
    session raises its revision in the change's own transaction, and a snapshot is filled
    only from reads made after that revision was read, so what it holds is at least as
    new as its revision: many requests of one revision share one read of each thing."""

    revision: int
    players: list[PlayerRow] | None = None
    worlds: dict[int, WorldRow] | None = None
    pending: dict[tuple[int, int], tuple[list[ChoiceRow], list[DraftRow], list[VoteRow]]] = field(
        default_factory=dict
    )
    injects: dict[int, list[InjectRow]] = field(default_factory=dict)
    events: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    pages: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # views, rendered parts


@dataclass(frozen=True)
class SessionSettings:
    """What the facilitator chooses when creating a class session."""

    scenario: str = "cuba-1962"  # a built-in id (or the uploaded file's name)
    scenario_text: str | None = None  # an uploaded scenario's YAML
    worlds: int = 1
    seats: dict[str, str] = field(default_factory=dict)  # actor -> "human" or agent spec
    start: str | None = None  # a phase id
    turn_seconds: int | None = None  # None: the facilitator advances by hand
    seed: int = 0
    chance: str = "free"
    debrief_runs: int = 500


class Classroom:
    """Every class session of one store. Methods are safe to call from several threads:
    changes are made one at a time, each written to the store before it is answered.

    What is read is kept in memory: a seat's token (a seat never changes once joined),
    each session's row as this process last committed it, and, per revision of a
    session, what the store held (:class:`Snapshot`); so a revision poll needs no
    database round trip. This assumes, as the worlds in memory already do, that one
    process serves a store (``crisislab serve`` runs one)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], dt.datetime] = _now,
        load: Callable[[str], Scenario] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lock = threading.RLock()
        self._live: dict[int, Live] = {}
        self._load = load
        self._builtin: dict[str, Scenario] = {}
        self._seats_by_hash: dict[str, PlayerRow] = {}
        self._facilitators: dict[str, int] = {}  # facilitator's token hash -> session id
        self._rows: dict[int, ClassRow] = {}  # each session's row as last committed
        self._changes: dict[int, int] = {}  # changes committed by this process, per session
        self._snaps: dict[int, Snapshot] = {}
        self._cache_lock = threading.Lock()
        store.fast_writes()

    # ---- what is kept in memory ------------------------------------------------------

    @contextlib.contextmanager
    def _write(self, class_id: int) -> Iterator[Any]:
        """A transaction that changes a session; once it is committed (or failed) the
        session's row in memory is read again, so the many reads that follow a change
        (every page's revision poll) find it in memory."""
        try:
            with self.store.session() as s:
                yield s
        finally:
            self._changed(class_id)
            with contextlib.suppress(StoreError):  # (an error here would hide the first)
                self._row(class_id)

    def _changed(self, class_id: int) -> None:
        with self._cache_lock:
            self._changes[class_id] = self._changes.get(class_id, 0) + 1
            self._rows.pop(class_id, None)

    def _row(self, class_id: int) -> ClassRow | None:
        """The session's row, from memory unless a change was committed since it was read."""
        row = self._rows.get(class_id)
        if row is not None:
            return row
        with self._cache_lock:
            seen = self._changes.get(class_id, 0)
        with self.store.session() as s:
            row = s.get(ClassRow, class_id)
        if row is not None:
            with self._cache_lock:  # kept only if no change was committed meanwhile
                if self._changes.get(class_id, 0) == seen:
                    self._rows[class_id] = row
        return row

    @contextlib.contextmanager
    def _every_world(self, row: ClassRow) -> Iterator[Live]:
        """Hold every world's lock of the session (in order), then the classroom's."""
        live = self.live(row)
        with contextlib.ExitStack() as stack:
            for number in sorted(live.locks):
                stack.enter_context(live.locks[number])
            stack.enter_context(self.lock)
            yield live

    def snapshot(self, row: ClassRow) -> Snapshot:
        """The shared reads of ``row``'s revision (a stale row gets a fresh, unkept one)."""
        with self._cache_lock:
            snap = self._snaps.get(row.id)
            if snap is not None and snap.revision == row.revision:
                return snap
            if snap is not None and snap.revision > row.revision:
                return Snapshot(row.revision)
            snap = self._snaps[row.id] = Snapshot(row.revision)
            return snap

    # ---- scenarios -------------------------------------------------------------------

    def scenario_of(self, settings: SessionSettings) -> Scenario:
        from crisislab.scenario.loader import load_scenario, load_text

        try:
            if settings.scenario_text is not None:
                return load_text(settings.scenario_text, settings.scenario)
            if self._load is not None:
                return self._load(settings.scenario)
            from crisislab.scenario.loader import builtin_ids

            if settings.scenario not in builtin_ids():
                raise ClassError(
                    f"'{settings.scenario}' is not a built-in scenario",
                    f"use one of: {', '.join(builtin_ids())}, or upload a file",
                )
            if settings.scenario not in self._builtin:
                self._builtin[settings.scenario] = load_scenario(settings.scenario)
            return self._builtin[settings.scenario]
        except ScenarioError as e:
            raise ClassError(
                "the scenario has problems: " + "; ".join(str(p) for p in e.problems[:20]),
                "fix the file (crisislab validate FILE shows the same "
                "problems) and upload it again",
            ) from None

    # ---- creating and joining ----------------------------------------------------------

    def create(self, settings: SessionSettings) -> tuple[ClassRow, str]:
        """A new class session; returns it and the facilitator's secret token."""
        sc = self.scenario_of(settings)
        if not 1 <= settings.worlds <= MAX_WORLDS:
            raise ClassError(
                f"the number of worlds must be 1 to {MAX_WORLDS}, not {settings.worlds}"
            )
        if settings.turn_seconds is not None and not (
            MIN_TURN_SECONDS <= settings.turn_seconds <= MAX_TURN_SECONDS
        ):
            raise ClassError(
                f"a turn's timer must be {MIN_TURN_SECONDS} to "
                f"{MAX_TURN_SECONDS} seconds, not {settings.turn_seconds}",
                "or leave it empty to advance by hand",
            )
        if not 0 <= settings.seed <= MAX_SEED:  # games.seed is a 32-bit column
            raise ClassError(f"the seed must be 0 to {MAX_SEED:,}, not {settings.seed:,}")
        if not 0 <= settings.debrief_runs <= 100_000:
            raise ClassError("the debrief's simulated crises must be 0 to 100,000")
        if settings.chance not in ("free", "history"):
            raise ClassError(f"chance must be free or history, not '{settings.chance}'")
        seats = self._seats(sc, settings.seats)
        start_turn = None
        if settings.start:
            try:
                start_turn = sc.clock.first_of_phase(settings.start)
            except UnknownPhase as e:
                raise ClassError(f"{e} in {sc.id}", e.hint) from None
        token = secrets.token_urlsafe(24)
        with self.lock, self.store.session() as s:
            code = self._new_code(s)
            row = ClassRow(
                code=code,
                facilitator_hash=token_hash(token),
                scenario=settings.scenario,
                scenario_text=settings.scenario_text,
                content_hash=sc.content_hash,
                title=sc.title,
                seed=settings.seed,
                worlds=settings.worlds,
                seats=seats,
                start_turn=start_turn,
                chance=settings.chance,
                turn_seconds=settings.turn_seconds,
                debrief_runs=settings.debrief_runs,
                status="running",
                revision=0,
            )
            s.add(row)
            s.flush()
            worlds: dict[int, Session] = {}
            games: dict[int, int] = {}
            for number in range(1, settings.worlds + 1):
                setup = GameSetup(
                    self._ref(settings),
                    settings.seed + number - 1,
                    seats,
                    settings.chance,
                    start_turn,
                )
                try:
                    session = Session.new(sc, setup)
                except (GameError, AgentSpecError, KeyError) as e:
                    raise ClassError(str(e)) from None
                game = GameRow(
                    scenario=sc.id,
                    version=sc.version,
                    content_hash=sc.content_hash,
                    seats=seats,
                    seed=setup.seed,
                    status="running",
                    turn=session.turn,
                    log=[{"setup": setup.to_json()}],
                    letters=[],
                    notes=f"class {code}, world {number}",
                )
                s.add(game)
                s.flush()
                s.add(
                    WorldRow(
                        class_id=row.id,
                        number=number,
                        game_id=game.id,
                        deadline=self._deadline(settings.turn_seconds),
                    )
                )
                worlds[number], games[number] = session, game.id
            self._live[row.id] = Live(row.id, sc, worlds, games)
        return row, token

    @staticmethod
    def _ref(settings: SessionSettings) -> str:
        return (
            settings.scenario
            if settings.scenario_text is None
            else f"uploaded file {settings.scenario}"
        )

    def _deadline(self, seconds: int | float | None) -> dt.datetime | None:
        return None if seconds is None else self.clock() + dt.timedelta(seconds=seconds)

    @staticmethod
    def _seats(sc: Scenario, given: dict[str, str]) -> dict[str, str]:
        playable = [a for a in sc.players if sc.role(a) == "player"]
        seats: dict[str, str] = {}
        for actor, spec in given.items():
            spec = spec.strip()
            if actor not in playable:
                raise ClassError(
                    f"'{actor}' is not a seat of {sc.id}", f"the seats are: {', '.join(playable)}"
                )
            if spec != HUMAN:
                try:
                    make_agent(spec, sc, actor)
                except AgentSpecError as e:
                    raise ClassError(f"{actor}: {e}") from None
            seats[actor] = spec
        for actor in playable:
            seats.setdefault(actor, "historical")
        if HUMAN not in seats.values():
            raise ClassError("no seat is played by people", "make at least one seat human")
        return seats

    @staticmethod
    def _new_code(s: Any) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # nothing read two ways (O/0, I/1)
        while True:
            code = "".join(secrets.choice(alphabet) for _ in range(6))
            if s.scalar(select(ClassRow.id).where(ClassRow.code == code)) is None:
                return code

    def join(
        self, code: str, name: str, world: int | None = None, actor: str | None = None
    ) -> tuple[PlayerRow, str]:
        """A person joins with the code and a display name; returns the seat and its
        secret token. Without ``world`` or ``actor`` the emptiest one is given."""
        try:
            shown = clean_text(name, MAX_NAME, "the name")
        except LetterError as e:
            raise ClassError(str(e)) from None
        if not shown:
            raise ClassError("type a display name", "any name the class will recognise")
        with self.lock, self.store.session() as s:
            row = s.scalar(select(ClassRow).where(ClassRow.code == code.strip().upper()))
            if row is None:
                raise NotFound(
                    f"there is no class session with the code '{code.strip()}'",
                    "check the code on the facilitator's screen",
                )
            if row.status == "ended":
                raise ClassError("this class session has ended")
            players = list(s.scalars(select(PlayerRow).where(PlayerRow.class_id == row.id)))
            if len(players) >= MAX_PLAYERS:
                raise ClassError(f"this class session is full ({MAX_PLAYERS} people)")
            humans = [a for a, spec in row.seats.items() if spec == HUMAN]
            count: dict[tuple[int, str], int] = {
                (w, a): 0 for w in range(1, row.worlds + 1) for a in humans
            }
            for p in players:
                count[(p.world, p.actor)] = count.get((p.world, p.actor), 0) + 1
            if world is not None and not 1 <= world <= row.worlds:
                raise ClassError(f"there is no world {world}; this session has {row.worlds}")
            if actor is not None and actor not in humans:
                raise ClassError(
                    f"'{actor}' is not a seat people play here",
                    f"the seats people play: {', '.join(humans)}",
                )
            places = [
                k
                for k in count
                if (world is None or k[0] == world) and (actor is None or k[1] == actor)
            ]
            place = min(places, key=lambda k: (count[k], humans.index(k[1]), k[0]))
            token = secrets.token_urlsafe(24)
            role = "adviser" if count[place] else "decider"
            player = PlayerRow(
                class_id=row.id,
                world=place[0],
                actor=place[1],
                role=role,
                name=shown,
                token_hash=token_hash(token),
            )
            s.add(player)
            row.revision += 1
        self._changed(row.id)
        with contextlib.suppress(StoreError):
            self._row(row.id)
        return player, token

    # ---- finding things by token -------------------------------------------------------

    def facilitated(self, token: str) -> ClassRow:
        digest = token_hash(token or "")
        class_id = self._facilitators.get(digest)
        row = self._row(class_id) if class_id is not None else None
        if row is None:
            with self.store.session() as s:
                row = s.scalar(select(ClassRow).where(ClassRow.facilitator_hash == digest))
            if row is not None:
                self._facilitators[digest] = row.id
        if row is None:
            raise Forbidden("this needs the facilitator's link (its secret token)")
        return row

    def player(self, token: str) -> tuple[ClassRow, PlayerRow]:
        """The seat of a token and its session's current row. A seat's row never changes
        once joined, so it is read once; a wrong token is never kept."""
        digest = token_hash(token or "")
        p = self._seats_by_hash.get(digest)
        if p is None:
            with self.store.session() as s:
                p = s.scalar(select(PlayerRow).where(PlayerRow.token_hash == digest))
            if p is not None:
                if len(self._seats_by_hash) > 100_000:
                    self._seats_by_hash.clear()
                self._seats_by_hash[digest] = p
        row = self._row(p.class_id) if p is not None else None
        if p is None or row is None:
            raise Forbidden(
                "this needs your own seat's link (its secret token)",
                "join again with the class code",
            )
        return row, p

    def remembered(self, token: str) -> tuple[ClassRow, PlayerRow] | None:
        """:meth:`player` from memory alone (None if it would need the store: a token not
        seen yet, or a session changed since its row was read)."""
        p = self._seats_by_hash.get(token_hash(token or ""))
        row = self._rows.get(p.class_id) if p is not None else None
        return None if p is None or row is None else (row, p)

    def poll(self, token: str) -> dict[str, int] | None:
        """A seat's revision poll from memory alone (None if it needs the store)."""
        found = self.remembered(token)
        live = self._live.get(found[0].id) if found is not None else None
        if found is None or live is None:
            return None
        row, p = found
        return {"revision": row.revision, "turn": live.worlds[p.world].turn}

    def by_code(self, code: str) -> ClassRow:
        with self.store.session() as s:
            row = s.scalar(select(ClassRow).where(ClassRow.code == code.strip().upper()))
        if row is None:
            raise NotFound(f"there is no class session with the code '{code.strip()}'")
        return row

    def live(self, row: ClassRow) -> Live:
        """The session's worlds, rebuilt from the store if this process has not got them
        (then a turn whose every seat had chosen is played, see :meth:`_catch_up`)."""
        found = self._live.get(row.id)
        if found is not None:
            return found
        with self.lock:
            if row.id in self._live:
                return self._live[row.id]
            settings = SessionSettings(scenario=row.scenario, scenario_text=row.scenario_text)
            sc = self.scenario_of(settings)
            if sc.content_hash != row.content_hash:
                raise ClassError(
                    f"class session {row.code} was created on another "
                    f"version of {sc.id}; its worlds cannot be replayed"
                )
            worlds: dict[int, Session] = {}
            games: dict[int, int] = {}
            with self.store.session() as s:
                for w in s.scalars(select(WorldRow).where(WorldRow.class_id == row.id)):
                    game = s.get(GameRow, w.game_id)
                    if game is None:
                        raise StoreError(f"world {w.number} of class {row.code} has no game")
                    log = list(game.log)
                    try:
                        worlds[w.number] = Session.rebuild(
                            sc, GameSetup.from_json(log[0]["setup"]), log[1:]
                        )
                    except (GameError, AgentSpecError) as e:
                        raise ClassError(f"world {w.number} cannot be rebuilt: {e}") from None
                    games[w.number] = game.id
            live = Live(row.id, sc, worlds, games)
            # the new worlds' locks are taken before anyone can see them, so no seat acts
            # on a world until the turns the stop interrupted are played
            held = contextlib.ExitStack()
            for number in sorted(live.locks):
                held.enter_context(live.locks[number])
            self._live[row.id] = live
        with held:
            self._catch_up(row, live)
        return live

    def _catch_up(self, row: ClassRow, live: Live) -> None:
        """Play each world's turn whose every seat had chosen when the server stopped
        (between the last choice being saved and the turn being played), as the last
        choice would have. The caller holds every world's lock."""
        fresh = self._row(row.id)
        if fresh is None or fresh.status != "running":
            return
        for number in sorted(live.worlds):
            self._maybe_play(fresh, number)

    def forget(self) -> None:
        """Drop what is in memory (what a restart does; for tests)."""
        with self.lock, self._cache_lock:
            self._live.clear()
            self._rows.clear()
            self._snaps.clear()

    # ---- what a seat sees and may do (cached until its world plays a turn) ---------------

    def briefing(self, row: ClassRow, world: int, actor: str) -> dict[str, Any]:
        """:func:`crisislab.play.briefing.brief` for the seat, as plain data."""
        from dataclasses import asdict

        from crisislab.play.briefing import brief

        live = self.live(row)
        found = live.briefs.get((world, actor, len(live.worlds[world].log)))
        if found is not None:
            return found
        with live.locks[world]:
            session = live.worlds[world]
            key = (world, actor, len(session.log))
            if key not in live.briefs:
                live.briefs[key] = asdict(brief(session, actor))
            return live.briefs[key]

    def legal(self, row: ClassRow, world: int, actor: str) -> dict[str, bool]:
        """Which of the seat's options are available (the reasons are put in words only
        for a refusal, and on the seat's screen by its briefing)."""
        live = self.live(row)
        found = live.options.get((world, actor, len(live.worlds[world].log)))
        if found is not None:
            return found
        with live.locks[world]:
            session = live.worlds[world]
            key = (world, actor, len(session.log))
            if key not in live.options:
                live.options[key] = session.legal(actor)
            return live.options[key]

    # ---- the turn ------------------------------------------------------------------------

    def _open(self, row: ClassRow) -> None:
        if row.status == "ended":
            raise ClassError("the class session has ended", "see the class debrief")
        if row.status == "paused":
            raise ClassError("the facilitator has paused the game", "wait for it to resume")

    def choose(self, token: str, action: str) -> str:
        """The seat's decider chooses this turn's option (or ``follow``); the first choice
        of a turn is kept, a second gets :class:`Conflict`. Returns the action played."""
        row, p = self.player(token)
        with self.live(row).locks[p.world]:
            row, p = self.player(token)  # as it is now that the world is this seat's
            self._open(row)
            if p.role != "decider":
                raise Forbidden(
                    "only the seat's decider chooses; an adviser proposes",
                    "propose this option to your decider instead",
                )
            live = self.live(row)
            session = live.worlds[p.world]
            if session.done:
                raise ClassError("the crisis in your world is over")
            followed = action == FOLLOW
            if followed:
                action = follow_choice(session, p.actor)
            legal = self.legal(row, p.world, p.actor)
            if action not in legal:
                raise ClassError(f"'{action}' is not one of your options")
            if not legal[action]:
                _, why = session.availability(p.actor)
                raise ClassError(f"that option is not available: {why.get(action, '')}")
            turn = session.turn
            with self.lock, self._write(row.id) as s:  # one transaction: check, write, count
                taken = s.scalar(
                    select(ChoiceRow.id).where(
                        ChoiceRow.class_id == row.id,
                        ChoiceRow.world == p.world,
                        ChoiceRow.turn == turn,
                        ChoiceRow.actor == p.actor,
                    )
                )
                if taken is None:
                    s.add(
                        ChoiceRow(
                            class_id=row.id,
                            world=p.world,
                            turn=turn,
                            actor=p.actor,
                            action=action,
                            followed=followed,
                            player_id=p.id,
                        )
                    )
                    fresh = s.get(ClassRow, row.id)
                    assert fresh is not None
                    fresh.revision += 1
                    s.flush()
                    chosen = set(
                        s.scalars(
                            select(ChoiceRow.actor).where(
                                ChoiceRow.class_id == row.id,
                                ChoiceRow.world == p.world,
                                ChoiceRow.turn == turn,
                            )
                        )
                    )
                    occupied = set(
                        s.scalars(
                            select(PlayerRow.actor).where(
                                PlayerRow.class_id == row.id,
                                PlayerRow.world == p.world,
                                PlayerRow.role == "decider",
                            )
                        )
                    )
            if taken is not None:  # (the unique constraint also holds across processes)
                raise Conflict(self._chosen_message(row, p, turn))
            if occupied <= chosen:
                self._play(row, p.world)
            return action

    def _chosen_message(self, row: ClassRow, p: PlayerRow, turn: int) -> str:
        with self.store.session() as s:
            c = s.scalar(
                select(ChoiceRow).where(
                    ChoiceRow.class_id == row.id,
                    ChoiceRow.world == p.world,
                    ChoiceRow.turn == turn,
                    ChoiceRow.actor == p.actor,
                )
            )
            who = s.get(PlayerRow, c.player_id) if c is not None and c.player_id else None
        live = self.live(row)
        label = next(
            (
                a.label
                for a in live.scenario.actions_of(p.actor)
                if c is not None and a.id == c.action
            ),
            "an option",
        )
        by = f" by {who.name}" if who is not None else ""
        return f"this turn's choice was already made{by}: {label}"

    def vote(self, token: str, action: str) -> None:
        """A team member proposes an option for the seat (one proposal per member)."""
        row, p = self.player(token)
        with self.live(row).locks[p.world], self.lock:
            row, p = self.player(token)
            self._open(row)
            session = self.live(row).worlds[p.world]
            legal = self.legal(row, p.world, p.actor)
            if action not in legal:
                raise ClassError(f"'{action}' is not one of your seat's options")
            with self._write(row.id) as s:
                old = s.scalar(
                    select(VoteRow).where(
                        VoteRow.class_id == row.id,
                        VoteRow.world == p.world,
                        VoteRow.turn == session.turn,
                        VoteRow.player_id == p.id,
                    )
                )
                if old is None:
                    s.add(
                        VoteRow(
                            class_id=row.id,
                            world=p.world,
                            turn=session.turn,
                            actor=p.actor,
                            player_id=p.id,
                            action=action,
                        )
                    )
                else:
                    old.action = action
            self._bump(row.id)

    def write(
        self,
        token: str,
        to: str,
        public: bool,
        terms: list[str],
        text: str,
        reply_to: int | None = None,
        stance: str = "",
        channel: str | None = None,
    ) -> dict[str, Any]:
        """A letter from the player's seat, by ``channel`` (a channel's id; without one,
        the first channel of its kind, ``public``, that joins the seat to ``to``); it goes
        when the turn is played and travels for the channel's delay. Any member of the
        team may write."""
        row, p = self.player(token)
        with self.live(row).locks[p.world], self.lock:
            row, p = self.player(token)
            self._open(row)
            live = self.live(row)
            session = live.worlds[p.world]
            sc = live.scenario
            if to == p.actor or to not in sc.actors:
                others = [a for a in sc.actors if a != p.actor]
                raise ClassError(
                    f"a letter cannot go to '{to}'", f"write to one of: {', '.join(others)}"
                )
            try:
                by = pick_channel(sc, p.actor, to, bool(public), channel or None)
            except LetterError as e:
                raise ClassError(
                    str(e), "choose a channel the letter form lists for that recipient"
                ) from None
            known = letter_terms(sc)
            bad = [t for t in terms if t not in known]
            if bad:
                raise ClassError(
                    f"not a term: {', '.join(bad)}", f"the terms are: {', '.join(known)}"
                )
            if stance not in ("", "accept", "decline"):
                raise ClassError("a stance is accept, decline or nothing")
            if reply_to is not None and reply_to not in {
                x.id for x in session.letters_for(p.actor) if x.sender != p.actor
            }:
                raise ClassError(f"you have received no letter {reply_to} to answer")
            try:
                body = clean_text(text)
            except LetterError as e:
                raise ClassError(str(e)) from None
            draft = {
                "sender": p.actor,
                "to": to,
                "public": by.public,
                "channel": by.id,
                "terms": list(dict.fromkeys(terms)),
                "text": body,
                "reply_to": reply_to,
                "stance": stance,
            }
            with self._write(row.id) as s:
                n = (
                    s.scalar(
                        select(func.count(DraftRow.id)).where(
                            DraftRow.class_id == row.id,
                            DraftRow.world == p.world,
                            DraftRow.turn == session.turn,
                            DraftRow.actor == p.actor,
                        )
                    )
                    or 0
                )
                if n >= MAX_LETTERS_PER_TURN:
                    raise ClassError(
                        f"your seat has written {MAX_LETTERS_PER_TURN} letters "
                        "this turn, the most a turn allows"
                    )
                s.add(
                    DraftRow(
                        class_id=row.id,
                        world=p.world,
                        turn=session.turn,
                        actor=p.actor,
                        player_id=p.id,
                        letter=draft,
                    )
                )
            self._bump(row.id)
            delay = delay_turns(sc, channel=by)
            return {
                **draft,
                "arrives_turn": session.turn + delay,
                "arrives": arrival_words(sc, session.turn, session.turn + delay),
            }

    def _pending(
        self, row: ClassRow, world: int, turn: int
    ) -> tuple[list[ChoiceRow], list[DraftRow], list[VoteRow]]:
        with self.store.session() as s:
            where = (ChoiceRow.class_id == row.id, ChoiceRow.world == world, ChoiceRow.turn == turn)
            choices = list(s.scalars(select(ChoiceRow).where(*where)))
            drafts = list(
                s.scalars(
                    select(DraftRow)
                    .where(
                        DraftRow.class_id == row.id, DraftRow.world == world, DraftRow.turn == turn
                    )
                    .order_by(DraftRow.id)
                )
            )
            votes = list(
                s.scalars(
                    select(VoteRow).where(
                        VoteRow.class_id == row.id, VoteRow.world == world, VoteRow.turn == turn
                    )
                )
            )
        return choices, drafts, votes

    def _occupied(self, row: ClassRow, world: int) -> set[str]:
        with self.store.session() as s:
            return set(
                s.scalars(
                    select(PlayerRow.actor).where(
                        PlayerRow.class_id == row.id,
                        PlayerRow.world == world,
                        PlayerRow.role == "decider",
                    )
                )
            )

    def _maybe_play(self, row: ClassRow, world: int) -> None:
        session = self.live(row).worlds[world]
        choices, _, _ = self._pending(row, world, session.turn)
        occupied = self._occupied(row, world)
        if occupied and occupied <= {c.actor for c in choices}:
            self._play(row, world)

    def _play(self, row: ClassRow, world: int) -> None:
        """Play the world's turn: the seats' choices, the record's move for a seat that
        has none, the letters written; then save the world and start its clock again.
        The caller holds the world's lock."""
        live = self.live(row)
        session = live.worlds[world]
        if session.done:
            return
        t = session.turn
        choices, drafts, _ = self._pending(row, world, t)
        chosen = {c.actor: c.action for c in choices}
        followed = [c.actor for c in choices if c.followed]
        for actor in session.humans:
            if actor not in chosen:
                chosen[actor] = follow_choice(session, actor)
                followed.append(actor)
        letters = [d.letter for d in drafts]
        session.play_turn(chosen, letters, followed=followed, injected=self._events(row, world))
        for cache in (live.briefs, live.options):
            for key in [k for k in list(cache) if k[0] == world]:
                cache.pop(key, None)
        with self.lock, self._write(row.id) as s:
            game = s.get(GameRow, live.game_ids[world])
            assert game is not None
            game.log = [{"setup": session.setup.to_json()}, *session.log]
            game.letters = [x.to_json() for x in session.letters]
            game.turn = session.turn
            game.status = "finished" if session.done else "running"
            game.outcome = session.outcome
            game.notes = (
                f"class {row.code}, world {world}; last turn played: "
                f"{session.turn_label(max(session.turn - 1, 0))}"
            )
            w = s.scalar(
                select(WorldRow).where(WorldRow.class_id == row.id, WorldRow.number == world)
            )
            assert w is not None
            fresh = s.get(ClassRow, row.id)
            seconds = fresh.turn_seconds if fresh is not None else None
            paused = fresh is not None and fresh.status == "paused"
            w.deadline = None if session.done or paused else self._deadline(seconds)
            w.remaining = float(seconds) if paused and seconds and not session.done else None
            if fresh is not None:
                fresh.revision += 1

    def _bump(self, class_id: int) -> None:
        with self._write(class_id) as s:
            row = s.get(ClassRow, class_id)
            if row is not None:
                row.revision += 1

    # ---- the facilitator -----------------------------------------------------------------

    def advance(self, token: str, world: int | None = None) -> None:
        """Play the current turn of every world (or one) now; a seat that has not chosen
        follows the record."""
        row = self.facilitated(token)
        if row.status == "ended":
            raise ClassError("the class session has ended")
        numbers = range(1, row.worlds + 1) if world is None else [world]
        if world is not None and not 1 <= world <= row.worlds:
            raise ClassError(f"there is no world {world}")
        live = self.live(row)
        for number in numbers:
            with live.locks[number]:
                self._play(self.facilitated(token), number)

    def pause(self, token: str) -> None:
        with self._every_world(self.facilitated(token)):
            row = self.facilitated(token)
            if row.status != "running":
                raise ClassError(f"the game is {row.status}, not running")
            now = self.clock()
            with self._write(row.id) as s:
                for w in s.scalars(select(WorldRow).where(WorldRow.class_id == row.id)):
                    if w.deadline is not None:
                        w.remaining = max(0.0, (w.deadline - now).total_seconds())
                        w.deadline = None
                fresh = s.get(ClassRow, row.id)
                assert fresh is not None
                fresh.status = "paused"
                fresh.revision += 1

    def resume(self, token: str) -> None:
        with self._every_world(self.facilitated(token)):
            row = self.facilitated(token)
            if row.status != "paused":
                raise ClassError(f"the game is {row.status}, not paused")
            with self._write(row.id) as s:
                for w in s.scalars(select(WorldRow).where(WorldRow.class_id == row.id)):
                    if w.remaining is not None:
                        w.deadline = self._deadline(w.remaining)
                        w.remaining = None
                fresh = s.get(ClassRow, row.id)
                assert fresh is not None
                fresh.status = "running"
                fresh.revision += 1

    def extend(self, token: str, seconds: int) -> None:
        """Give every world's current turn more time."""
        with self._every_world(self.facilitated(token)):
            row = self.facilitated(token)
            if not 1 <= seconds <= MAX_TURN_SECONDS:
                raise ClassError(f"extend by 1 to {MAX_TURN_SECONDS} seconds, not {seconds}")
            if row.turn_seconds is None:
                raise ClassError("this game has no timer: it advances by hand")
            with self._write(row.id) as s:
                for w in s.scalars(select(WorldRow).where(WorldRow.class_id == row.id)):
                    if w.deadline is not None:
                        w.deadline += dt.timedelta(seconds=seconds)
                    elif w.remaining is not None:
                        w.remaining += seconds
                fresh = s.get(ClassRow, row.id)
                assert fresh is not None
                fresh.revision += 1

    def inject(
        self, token: str, sender: str, text: str, world: int | None = None, to: str | None = None
    ) -> int:
        """A message from an offstage actor to every world (or one), every seat (or
        one). It is news on the seats' screens; it does not change the crisis's state.
        Returns how many worlds it reached."""
        with self._every_world(self.facilitated(token)):
            row = self.facilitated(token)
            if row.status == "ended":
                raise ClassError("the class session has ended")
            try:
                who = clean_text(sender, 80, "the sender")
                body = clean_text(text, MAX_INJECT, "the message")
            except LetterError as e:
                raise ClassError(str(e)) from None
            if not who or not body:
                raise ClassError("an inject needs a sender and a message")
            live = self.live(row)
            if to is not None and to not in live.scenario.actors:
                raise ClassError(f"'{to}' is not an actor of {live.scenario.id}")
            if world is not None and not 1 <= world <= row.worlds:
                raise ClassError(f"there is no world {world}")
            numbers = range(1, row.worlds + 1) if world is None else [world]
            with self._write(row.id) as s:
                for n in numbers:
                    s.add(
                        InjectRow(
                            class_id=row.id,
                            world=n,
                            to=to,
                            turn=live.worlds[n].turn,
                            sender=who,
                            text=body,
                        )
                    )
                fresh = s.get(ClassRow, row.id)
                assert fresh is not None
                fresh.revision += 1
            return len(numbers)

    def inject_event(self, token: str, event: str, world: int | None = None) -> dict[str, Any]:
        """Make one of the scenario's injectable events happen on the next turn of every
        world (or one) where it can happen now: when the turn is played it fires through
        the engine as if chance had fired it (if its condition still holds after that
        turn's choices), each seat learns of it as of the real event (or not at all), and
        the world's log records it, so a restart replays it. Returns the worlds it will
        happen in and, for the others, why not."""
        with self._every_world(self.facilitated(token)):
            row = self.facilitated(token)
            if row.status == "ended":
                raise ClassError("the class session has ended")
            live = self.live(row)
            sc = live.scenario
            try:
                check_inject(sc, (event or "").strip())
            except GameError as e:
                raise ClassError(
                    str(e),
                    "pick one of the events the scenario marks as "
                    "injectable (GET /api/class lists them)",
                ) from None
            event = event.strip()
            if world is not None and not 1 <= world <= row.worlds:
                raise ClassError(f"there is no world {world}; this session has {row.worlds}")
            numbers = range(1, row.worlds + 1) if world is None else [world]
            label = sc.event(event).label
            why = {n: live.worlds[n].cannot_inject(event) for n in numbers}
            worlds = [n for n in numbers if not why[n]]
            if not worlds:
                where = "; ".join(f"world {n}: {w}" for n, w in why.items())
                raise ClassError(
                    f"“{label}” cannot happen now ({where})",
                    "inject it later, when its conditions hold, or another event",
                )
            with self._write(row.id) as s:
                for n in worlds:
                    game = s.get(GameRow, live.game_ids[n])
                    assert game is not None
                    head = dict(game.log[0])
                    turn = live.worlds[n].turn
                    pending = head.get("pending") or {}
                    events = list(pending.get("events", [])) if pending.get("turn") == turn else []
                    if event not in events:
                        events.append(event)
                    head["pending"] = {"turn": turn, "events": events}
                    game.log = [head, *game.log[1:]]
                fresh = s.get(ClassRow, row.id)
                assert fresh is not None
                fresh.revision += 1
            return {
                "event": event,
                "label": label,
                "worlds": worlds,
                "not_now": {str(n): w for n, w in why.items() if w},
            }

    def pending_events(self, row: ClassRow, world: int) -> list[str]:
        """The events injected into a world's current turn, not yet played."""
        key = (world, self.live(row).worlds[world].turn)
        snap = self.snapshot(row)
        if key not in snap.events:
            snap.events[key] = self._events(row, world)
        return list(snap.events[key])

    def _events(self, row: ClassRow, world: int) -> list[str]:
        live = self.live(row)
        with self.store.session() as s:
            game = s.get(GameRow, live.game_ids[world])
            head = game.log[0] if game is not None and game.log else {}
        pending = head.get("pending") or {}
        if pending.get("turn") != live.worlds[world].turn:
            return []
        return list(pending.get("events", []))

    def end(self, token: str) -> None:
        with self._every_world(self.facilitated(token)):
            row = self.facilitated(token)
            with self._write(row.id) as s:
                for w in s.scalars(select(WorldRow).where(WorldRow.class_id == row.id)):
                    w.deadline, w.remaining = None, None
                fresh = s.get(ClassRow, row.id)
                assert fresh is not None
                fresh.status = "ended"
                fresh.revision += 1

    def tick(self) -> int:
        """Play every world whose timer has run out; returns how many turns were played."""
        played = 0
        now = self.clock()
        with self.store.session() as s:
            due = list(
                s.execute(
                    select(WorldRow.class_id, WorldRow.number).where(
                        WorldRow.deadline.is_not(None), WorldRow.deadline <= now
                    )
                )
            )
        for class_id, number in due:
            row = self._row(class_id)
            if row is None or row.status != "running":
                continue
            with self.live(row).locks[number]:
                with self.store.session() as s:  # still due? (a last choice may have played it)
                    w = s.scalar(
                        select(WorldRow).where(
                            WorldRow.class_id == class_id, WorldRow.number == number
                        )
                    )
                row = self._row(class_id)
                if w is None or w.deadline is None or w.deadline > now:
                    continue
                if row is None or row.status != "running":
                    continue
                self._play(row, number)
                played += 1
        return played

    # ---- reading -------------------------------------------------------------------------

    # (what a screen shows: read once per revision of the session, see Snapshot)

    def seconds_left(self, row: ClassRow, world: int) -> float | None:
        snap = self.snapshot(row)
        if snap.worlds is None:
            with self.store.session() as s:
                rows = s.scalars(select(WorldRow).where(WorldRow.class_id == row.id))
                snap.worlds = {w.number: w for w in rows}
        return self.left(snap.worlds.get(world))

    def left(self, w: WorldRow | None) -> float | None:
        """The seconds left of a world's turn (None: no timer)."""
        if w is None:
            return None
        if w.remaining is not None:
            return w.remaining
        if w.deadline is None:
            return None
        return max(0.0, (w.deadline - self.clock()).total_seconds())

    def players(self, row: ClassRow) -> list[PlayerRow]:
        snap = self.snapshot(row)
        if snap.players is None:
            with self.store.session() as s:
                snap.players = list(
                    s.scalars(
                        select(PlayerRow).where(PlayerRow.class_id == row.id).order_by(PlayerRow.id)
                    )
                )
        return snap.players

    def injects_for(self, row: ClassRow, world: int, actor: str | None) -> list[InjectRow]:
        """The injects a seat was sent (``actor`` None: every inject of the world)."""
        snap = self.snapshot(row)
        if world not in snap.injects:
            with self.store.session() as s:
                snap.injects[world] = list(
                    s.scalars(
                        select(InjectRow)
                        .where(InjectRow.class_id == row.id, InjectRow.world == world)
                        .order_by(InjectRow.id)
                    )
                )
        return [r for r in snap.injects[world] if actor is None or r.to is None or r.to == actor]

    def pending(
        self, row: ClassRow, world: int
    ) -> tuple[list[ChoiceRow], list[DraftRow], list[VoteRow]]:
        """The choices, letters and proposals of the world's current turn so far."""
        key = (world, self.live(row).worlds[world].turn)
        snap = self.snapshot(row)
        if key not in snap.pending:
            snap.pending[key] = self._pending(row, *key)
        return snap.pending[key]

    def choices_made(self, row: ClassRow, world: int) -> list[ChoiceRow]:
        """Every choice a person (or the clock) made in a world, turn by turn."""
        with self.store.session() as s:
            return list(
                s.scalars(
                    select(ChoiceRow)
                    .where(ChoiceRow.class_id == row.id, ChoiceRow.world == world)
                    .order_by(ChoiceRow.turn, ChoiceRow.id)
                )
            )

    def revision(self, row: ClassRow) -> int:
        """The session's revision now (from memory unless it changed since it was read)."""
        fresh = self._row(row.id)
        return fresh.revision if fresh is not None else -1

    def debrief(self, row: ClassRow, world: int) -> Any:
        """The world's debrief (play/debrief.py), kept until the world moves on."""
        from crisislab.play.debrief import build

        live = self.live(row)
        with live.locks[world]:
            session = live.worlds[world]
            key = (world, len(session.log))
            if key not in live.debriefs:
                live.debriefs[key] = build(
                    session, game_id=live.game_ids[world], runs=row.debrief_runs, seed=0
                )
            return live.debriefs[key]
