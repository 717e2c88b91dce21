"""``crisislab play``, ``crisislab games`` and ``crisislab debrief``.

One function per command, its options defined just above it; the play command's phases
(the checks, a new game's session, a file of moves, the game on screen) and the debrief's
are functions of their own below it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crisislab.agents.registry import AgentSpecError, make_agent
from crisislab.cli.llm import LLM_CACHE_OPTION
from crisislab.errors import MAX_LIMIT, check_range, check_seed, fail
from crisislab.play.session import HUMAN, GameError, GameSetup, Session
from crisislab.scenario.display import label_words
from crisislab.scenario.model import Scenario, UnknownPhase
from crisislab.store import GameRecord, GameRow, Store, StoreError, shown_url

if TYPE_CHECKING:
    from crisislab.play.debrief import Debrief


MAX_ID = 2**63 - 1  # a row id is a 64-bit integer


def _fail(message: str, hint: str = "") -> NoReturn:
    fail(message, hint)


def _load(ref: str) -> Scenario:
    from crisislab.cli.common import load_or_exit

    return load_or_exit(ref)


def _store(db: str | None, writable: bool = False) -> Store:
    try:
        return Store(db, writable=writable)
    except StoreError as e:
        fail(
            str(e),
            "give --db a SQLAlchemy URL such as sqlite:///games.db, or set "
            "CRISISLAB_DB to a writable file",
            code=1,
        )
    except ImportError as e:  # a URL whose database driver is not installed
        fail(
            f"cannot open the database {shown_url(db or '')}: {e}",
            "install its driver, or use sqlite:///FILE",
        )


DB_OPTION = typer.Option(
    None,
    "--db",
    help="SQLAlchemy URL of the database of games "
    "(default: CRISISLAB_DB, else crisislab.db in your data folder).",
)


def _scenario_ref(ref: str) -> str:
    path = Path(ref)
    return str(path.resolve()) if path.exists() and path.is_file() else ref


def _seats(sc: Scenario, humans: list[str], agents: list[str]) -> dict[str, str]:
    seats: dict[str, str] = {}
    for actor in humans:
        actor = actor.strip().lower()
        if actor not in sc.players or sc.role(actor) != "player":
            playable = [a for a in sc.players if sc.role(a) == "player"]
            _fail(
                f"'{actor}' is not a seat a person can take in {sc.id}",
                f"use --as with one of: {', '.join(playable)}",
            )
        if actor in seats:
            _fail(f"--as {actor} is given twice")
        seats[actor] = HUMAN
    for opt in agents:
        actor, eq, spec = opt.partition("=")
        actor, spec = actor.strip(), spec.strip()
        if not eq or not spec:
            _fail(f"'{opt}' should be ACTOR=AGENT", "for example --agent ussr=historical")
        if actor not in sc.players:
            _fail(
                f"'{actor}' is not an acting actor of {sc.id}",
                f"use one of: {', '.join(sc.players)}",
            )
        if actor in seats:
            _fail(f"'{actor}' is given both a person and an agent", "drop its --as or its --agent")
        try:
            make_agent(spec, sc, actor)
        except AgentSpecError as e:
            _fail(str(e))
        seats[actor] = spec
    for actor in sc.players:
        if actor not in seats and sc.role(actor) == "player":
            seats[actor] = "historical"
    return seats


def _save(store: Store, row: GameRow, session: Session) -> None:
    row.log = [{"setup": session.setup.to_json()}, *session.log]
    row.letters = [x.to_json() for x in session.letters]
    row.turn = session.turn
    row.status = "finished" if session.done else "running"
    row.outcome = session.outcome
    row.notes = f"last turn played: {session.turn_label(max(session.turn - 1, 0))}"
    store.save_game(row)


def _resume(store: Store, game_id: int) -> tuple[GameRow, Session]:
    found = store.checked_game(game_id)  # a damaged row is reported by the error printer
    if found is None:
        fail(f"there is no game {game_id} in {store.shown}", "list the games with: crisislab games")
    row, record = found
    log = record.log()
    setup = GameSetup.from_json(log[0]["setup"])
    sc = _load(setup.scenario)
    if sc.content_hash != row.content_hash:
        _fail(
            f"game {game_id} was played on another version of {sc.id} "
            f"({row.version}, {row.content_hash[:12]}; now {sc.version}, "
            f"{sc.content_hash[:12]})",
            "its saved choices cannot be replayed on new rules",
        )
    try:
        session = Session.rebuild(sc, setup, log[1:])
    except (GameError, AgentSpecError) as e:
        fail(
            f"game {game_id} cannot be rebuilt: {e}",
            "the saved choices no longer replay; start a new game",
            code=1,
        )
    return row, session


def _new_row(store: Store, session: Session) -> GameRow:
    sc, setup = session.scenario, session.setup
    return store.add_game(
        scenario=sc.id,
        version=sc.version,
        content_hash=sc.content_hash,
        seats=setup.seats,
        seed=setup.seed,
        status="running",
        turn=session.turn,
        log=[{"setup": setup.to_json()}],
        letters=[],
        notes="",
    )


def _scripted(
    store: Store, session: Session, actor: str, path: Path, format: str, console: Console
) -> GameRow:
    """Play a moves file through the session, then save the game like any other."""
    from crisislab.play.debrief import game_events
    from crisislab.play.script import MovesError, load_moves, parse_moves, play_moves

    sc = session.scenario
    try:
        moves = parse_moves(load_moves(path), sc, actor)
        unused = play_moves(session, actor, moves)
    except MovesError as e:
        _fail(f"{path}: {e}", e.hint)
        raise  # unreachable: _fail exits
    row = _new_row(store, session)
    _save(store, row, session)
    end = int(session.state.end_turn[0])
    outcome = session.outcome
    result: dict[str, Any] = {
        "game_id": row.id,
        "scenario": sc.id,
        "version": sc.version,
        "content_hash": sc.content_hash,
        "seed": session.setup.seed,
        "chance": session.setup.chance,
        "seats": session.setup.seats,
        "actor": actor,
        "finished": session.done,
        "outcome": outcome,
        "outcome_label": sc.outcome(outcome).label if outcome else None,
        "end_date": sc.clock.turns[end].label if end >= 0 else None,
        "turns_played": len(session.log),
        "moves_unused": unused,
        "events": game_events(session),
    }
    if format == "json":
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return row
    if outcome:
        console.print(
            f"Game {row.id} played from {path}: {result['outcome_label']}, "
            f"{label_words(session.scenario, result['end_date'])}.",
            markup=False,
        )
    else:
        console.print(
            f"Game {row.id} played from {path} to "
            f"{label_words(session.scenario, session.turn_label())}; the moves ran "
            f"out before the crisis ended.\nGo on with: crisislab play --resume "
            f"{row.id}",
            markup=False,
        )
    if unused:
        console.print(f"The crisis ended before the last {unused} move(s) of the file.")
    console.print(f"Debrief it with: crisislab debrief {row.id}")
    return row


def register(app: typer.Typer) -> None:
    """Add the play commands to the ``crisislab`` app."""
    app.command()(play)
    app.command()(games)
    app.command()(debrief)


# -- crisislab play ----------------------------------------------------------------------

_SCENARIO = typer.Argument(None, help="A scenario file or built-in id.")
_AS = typer.Option(None, "--as", help="Seat(s) you play; two or more for hot seat.")
_AGENT = typer.Option(None, "--agent", help="ACTOR=AGENT for another seat (default: historical).")
_PLAY_SEED = typer.Option(0, help="Seed of the game's chance draws (0 to 2**63 - 1).")
_CHANCE = typer.Option("free", help="free, or history (chance events as on the record).")
_FROM = typer.Option(None, "--from", help="Start at this phase (reached along the record).")
_RESUME = typer.Option(None, "--resume", help="Continue saved game ID (see crisislab games).")
_NO_CLEAR = typer.Option(
    False,
    "--no-clear",
    help="Do not clear the screen "
    "between turns (hot seat still wipes it before the "
    "keyboard passes).",
)
_DEBRIEF_RUNS = typer.Option(
    2000,
    help="Simulated crises per estimate in the final debrief, 0 to 1,000,000 (0: no odds).",
)
_PLAY_HTML = typer.Option(None, "--html", help="Also write the final debrief to this HTML file.")
_MOVES = typer.Option(
    None,
    "--moves",
    help="Play without a terminal: the seat's moves from this YAML or "
    "JSON list (follow: DATE|end, choose: ACTION, letter: {...}).",
)
_PLAY_FORMAT = typer.Option(
    "text", "--format", "-f", help="With --moves: text, or json (one object)."
)


def play(
    ctx: typer.Context,
    scenario: str | None = _SCENARIO,
    as_: list[str] | None = _AS,
    agent: list[str] | None = _AGENT,
    seed: int = _PLAY_SEED,
    chance: str = _CHANCE,
    start: str | None = _FROM,
    resume: int | None = _RESUME,
    no_clear: bool = _NO_CLEAR,
    debrief_runs: int = _DEBRIEF_RUNS,
    html: Path | None = _PLAY_HTML,
    moves: Path | None = _MOVES,
    format: str = _PLAY_FORMAT,
    db: str | None = DB_OPTION,
    llm_cache: str = LLM_CACHE_OPTION,
) -> None:
    """Play a crisis in the terminal as one leader (or several, hot seat), or from a
    file of moves (--moves)."""
    from crisislab.cli.llm import llm_run

    ctx.with_resource(llm_run(llm_cache, db, quiet=True))

    as_, agent = as_ or [], agent or []
    console = Console(highlight=False)
    _check_play_options(seed, resume, debrief_runs, format, moves)
    store = _store(db, writable=True)
    if resume is not None:
        if scenario or as_ or agent:
            _fail("--resume takes no scenario, --as or --agent: they are saved with the game")
        row, session = _resume(store, resume)
        if session.done:
            over = session.scenario.outcome(session.outcome or "").label
            console.print(f"Game {row.id} is over: {over}. See it with: crisislab debrief {row.id}")
            return
        console.print(
            f"Resuming game {row.id} at {label_words(session.scenario, session.turn_label())}."
        )
    else:
        session = _new_session(scenario, as_, agent, seed, chance, start)
        if moves is not None:
            _play_moves(store, session, as_, moves, format, html, debrief_runs, console)
            return
        row = _new_row(store, session)
        console.print(
            f"Game {row.id} started: {session.scenario.title}, "
            f"you play {', '.join(session.setup.humans)}."
        )
    _play_on_screen(store, row, session, console, not no_clear, debrief_runs, html)


def _check_play_options(
    seed: int, resume: int | None, debrief_runs: int, format: str, moves: Path | None
) -> None:
    """Options that are wrong whatever the game: out of range, or that do not go together."""
    check_range("--debrief-runs", debrief_runs, 0, 1_000_000, "e.g. --debrief-runs 2000")
    check_seed(seed)
    check_range("--resume", resume, 1, MAX_ID, "give a game's id from: crisislab games")
    if format not in ("text", "json"):
        _fail(f"--format must be text or json, not '{format}'")
    if format == "json" and moves is None:
        _fail(
            "--format json needs --moves: the terminal game is played on screen",
            "give --moves FILE, or drop --format",
        )
    if moves is not None and resume is not None:
        _fail("--moves starts a new game; it cannot be combined with --resume")


def _new_session(
    scenario: str | None,
    as_: list[str],
    agent: list[str],
    seed: int,
    chance: str,
    start: str | None,
) -> Session:
    """A new game's session: the scenario, who sits where, the chance and the start."""
    if scenario is None:
        _fail(
            "name a scenario, or give --resume ID",
            "for example: crisislab play cuba-1962 --as usa",
        )
    if not as_:
        _fail("say which seat you take with --as", "for example: --as usa")
    if chance not in ("free", "history"):
        _fail(f"--chance must be free or history, not '{chance}'")
    sc = _load(scenario)
    seats = _seats(sc, as_, agent)
    start_turn = None
    if start is not None:
        try:
            start_turn = sc.clock.first_of_phase(start)
        except UnknownPhase as e:
            _fail(f"{e} in {sc.id}", e.hint)
    setup = GameSetup(_scenario_ref(scenario), seed, seats, chance, start_turn)
    try:
        return Session.new(sc, setup)
    except (GameError, AgentSpecError, KeyError) as e:
        _fail(str(e))


def _play_moves(
    store: Store,
    session: Session,
    as_: list[str],
    moves: Path,
    format: str,
    html: Path | None,
    debrief_runs: int,
    console: Console,
) -> None:
    """--moves: play the one seat from the file, save the game, and (--html) write its
    debrief."""
    if len(as_) != 1:
        _fail("--moves plays one seat: give exactly one --as")
    row = _scripted(store, session, as_[0].strip().lower(), moves, format, console)
    if html is not None:
        from crisislab.play.debrief import build

        d = build(session, game_id=row.id, runs=debrief_runs)
        _write_html(d, html, Console(stderr=True, highlight=False))


def _play_on_screen(
    store: Store,
    row: GameRow,
    session: Session,
    console: Console,
    clear: bool,
    debrief_runs: int,
    html: Path | None,
) -> None:
    """Play in the terminal, saving the game after every turn; when the crisis is over,
    the debrief. Quitting (or Ctrl-C) keeps the game to resume."""
    from crisislab.play.tui import Quit, Terminal, play_loop

    terminal = Terminal(session, console, clear=clear)
    try:
        play_loop(session, terminal, lambda s: _save(store, row, s))
    except (Quit, KeyboardInterrupt):
        console.print(
            f"\nGame {row.id} saved at "
            f"{label_words(session.scenario, session.turn_label())} (every "
            f"played turn is kept).\nResume with: crisislab play --resume "
            f"{row.id}"
        )
        return
    console.print(
        f"\n[bold]The crisis is over:[/bold] "
        f"{session.scenario.outcome(session.outcome or '').label}, "
        f"game {row.id}."
    )
    _debrief(session, row.id, debrief_runs, "historical", 0, html, console)
    console.print(
        f"Debrief again, or as HTML: crisislab debrief {row.id} --html debrief-{row.id}.html"
    )


# -- crisislab games ---------------------------------------------------------------------

_LIMIT = typer.Option(50, help=f"How many of the latest games (1 to {MAX_LIMIT:,}).")


def games(limit: int = _LIMIT, db: str | None = DB_OPTION) -> None:
    """List the saved games (newest first); a damaged row is reported and skipped."""
    check_range("--limit", limit, 1, MAX_LIMIT)
    store = _store(db)
    rows, damaged = store.checked_games(limit)
    console = Console(highlight=False)
    for message in damaged:
        typer.echo(f"warning: {message}; left out", err=True)
    if not rows:
        what = "No other games" if damaged else "No games yet"
        console.print(
            f"{what} in {store.shown}. Start one with: crisislab play cuba-1962 --as usa",
            markup=False,
        )
        return
    console.print(_games_table(store, rows))


def _games_table(store: Store, rows: list[GameRecord]) -> Table:
    """The games, one a row; the turn with its date where the game has one."""
    t = Table(title=Text(f"Games in {store.shown}"), title_justify="left")
    for col in ("id", "scenario", "seats", "seed", "turn", "status", "outcome", "updated"):
        t.add_column(col)
    for r in rows:
        seats = ", ".join(f"{a}={'YOU' if s == HUMAN else s}" for a, s in r.seats.items())
        t.add_row(
            *(
                Text(x)
                for x in (
                    str(r.id),
                    f"{r.scenario} {r.version}",
                    seats,
                    str(r.seed),
                    f"{r.turn} ({r.notes.removeprefix('last turn played: ')})"
                    if r.notes
                    else str(r.turn),
                    r.status,
                    r.outcome or "",
                    r.updated.strftime("%Y-%m-%d %H:%M"),
                )
            )
        )
    return t


# -- crisislab debrief -------------------------------------------------------------------

_GAME_ID = typer.Argument(..., help="The game's id (see crisislab games).")
_DEBRIEF_HTML = typer.Option(
    None, "--html", help="Write a self-contained HTML report to this file."
)
_RUNS = typer.Option(2000, help="Simulated crises per estimate, 0 to 1,000,000 (0: no odds).")
_STAND_IN = typer.Option("historical", help="Agent standing in your seat in the simulations.")
_DEBRIEF_SEED = typer.Option(0, help="Seed of the simulations (0 to 2**63 - 1).")
_DEBRIEF_FORMAT = typer.Option(
    "text", "--format", "-f", help="text, or json: the decisions and their odds as one object."
)
_STORY = typer.Option(
    None,
    "--story",
    help="Tell one simulated crisis from your decision point that "
    "ended this way: war, or an outcome's id.",
)


def debrief(
    ctx: typer.Context,
    game_id: int = _GAME_ID,
    html: Path | None = _DEBRIEF_HTML,
    runs: int = _RUNS,
    stand_in: str = _STAND_IN,
    seed: int = _DEBRIEF_SEED,
    format: str = _DEBRIEF_FORMAT,
    story: str | None = _STORY,
    db: str | None = DB_OPTION,
) -> None:
    """Set a played crisis beside history: timelines, escalation, odds, essays; or,
    with --story, one simulated crisis from your decision point."""
    check_range("game id", game_id, 1, MAX_ID, "give a game's id from: crisislab games")
    check_range("--runs", runs, 0, 1_000_000, "e.g. --runs 2000")
    check_seed(seed)
    if format not in ("text", "json"):
        _fail(f"--format must be text or json, not '{format}'")
    from crisislab.cli.llm import llm_run

    # a model's seat, rebuilt, and a model standing in read the game's stored replies
    ctx.with_resource(llm_run("use", db, quiet=True))
    store = _store(db)
    row, session = _resume(store, game_id)
    try:
        make_agent(stand_in, session.scenario, session.humans[0])
    except AgentSpecError as e:
        _fail(str(e))
    if story is not None:
        _story(session, story, runs, stand_in, seed, format)
        return
    if format == "json":
        from crisislab.play.debrief import build, to_json

        d = build(session, game_id=row.id, runs=runs, stand_in=stand_in, seed=seed)
        if html is not None:
            _write_html(d, html, Console(stderr=True, highlight=False))
        typer.echo(json.dumps(to_json(d), indent=2, ensure_ascii=False))
        return
    _debrief(session, row.id, runs, stand_in, seed, html, Console(highlight=False))


def _story(session: Session, wanted: str, runs: int, stand_in: str, seed: int, format: str) -> None:
    """One simulated crisis from the player's decision point that ended as ``wanted``."""
    from crisislab.play.debrief import onward_story
    from crisislab.render import render_text
    from crisislab.scenario.display import actor_name

    sc = session.scenario
    ids = [o.id for o in sc.outcomes]
    if wanted != "war" and wanted not in ids:
        _fail(f"--story takes war or an outcome: {', '.join(['war', *ids])}; not '{wanted}'")
    if runs < 1:
        _fail("--story needs --runs of at least 1", "e.g. --runs 2000")
    try:
        told = onward_story(session, wanted, runs, stand_in, seed)
    except ValueError as e:
        _fail(str(e))
    what = "war" if wanted == "war" else sc.outcome(wanted).label
    if format == "json":
        doc: dict[str, Any] = {
            "turn": told.turn,
            "turn_label": told.turn_label,
            "actor": told.actor,
            "choice": told.choice_label,
            "story": wanted,
            "matching": told.matching,
            "runs": told.runs,
            "seed": seed,
            "crisis": None
            if told.crisis is None
            else {
                "crisis": told.crisis.ref,
                "outcome": told.crisis.outcome,
                "end_date": told.crisis.story.end_date,
                "turns": [t.to_json() for t in told.crisis.turns],
                "events": told.crisis.story.to_json()["events"],
            },
        }
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    console = Console(highlight=False)
    console.print(
        f"From your decision on {label_words(sc, told.turn_label)} "
        f"({actor_name(sc, told.actor)}: "
        f"{told.choice_label}), {told.matching:,} of {told.runs:,} simulated "
        f"crises ended in {what.lower() if wanted != 'war' else 'war'}.",
        markup=False,
    )
    if told.crisis is None:
        console.print("None to tell: try more --runs or another --seed.", markup=False)
        return
    console.print(f"One of them, drawn at random (crisis {told.crisis.ref} onward):", markup=False)
    render_text(told.crisis.story, console)


def _debrief(
    session: Session,
    game_id: int,
    runs: int,
    stand_in: str,
    seed: int,
    html: Path | None,
    console: Console,
) -> None:
    from crisislab.play.debrief import build
    from crisislab.play.report import render_debrief

    with console.status("Simulating the odds...") if runs else _null():
        d = build(session, game_id=game_id, runs=runs, stand_in=stand_in, seed=seed)
    render_debrief(d, console)
    if html is not None:
        _write_html(d, html, console)


def _write_html(d: Debrief, html: Path, console: Console) -> None:
    from crisislab.play.html import render_html

    try:
        html.write_text(render_html(d), encoding="utf-8")
    except OSError as e:
        _fail(f"cannot write {html}: {e.strerror}", "choose a writable path")
    console.print(f"wrote {html}", markup=False, soft_wrap=True)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
