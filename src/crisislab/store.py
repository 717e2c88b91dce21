"""The database of runs and games: SQLite by default, any SQLAlchemy URL with ``--db``.

One schema serves the simulator (``runs``) and the game (``games``), so a debrief can set
a played crisis beside simulated ones. Rows record the scenario's id, version and content
hash, so a result can always be traced to the exact rules that produced it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    select,
)
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

# the store's errors are defined in errors.py, whose printer reports them (so it need
# not import the store); they are the store's names too
from crisislab.errors import StoredRowError, StoreError
from crisislab.records import GameRecord, RunRecord, describe

M = TypeVar("M", RunRecord, GameRecord)


def data_folder() -> Path:
    """The user's data folder for crisislab, by the platform's rules (on Linux the XDG
    rules: ``XDG_DATA_HOME`` if it is an absolute path, else ``~/.local/share``)."""
    folder = Path(platformdirs.user_data_dir("crisislab", appauthor=False))
    if not folder.is_absolute():  # an older platformdirs honours a relative XDG_DATA_HOME
        folder = Path.home() / ".local" / "share" / "crisislab"
    return folder


def default_url() -> str:
    """``CRISISLAB_DB`` if set (a URL, or a file path; ``~`` is the home folder), else a
    SQLite file in the user's data folder."""
    env = os.environ.get("CRISISLAB_DB", "").strip()
    if env:
        return env if "://" in env else f"sqlite:///{Path(env).expanduser()}"
    return f"sqlite:///{data_folder() / 'crisislab.db'}"


def _expand_home(url: str) -> str:
    """A SQLite URL whose file starts with ``~``, with the home folder written out, so the
    folder made and the file opened are the same."""
    prefix = "sqlite:///"
    if url.startswith(prefix + "~"):
        return prefix + str(Path(url[len(prefix) :]).expanduser())
    return url


def shown_url(url: str) -> str:
    """A database URL as it may be printed: its password hidden."""
    try:
        parsed = make_url(url)
        if parsed.password is None:
            return url  # as typed: rendering would percent-encode the path
        return parsed.render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    """One simulation run: a batch of crises and its aggregated results."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    scenario: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    agents: Mapped[dict[str, Any]] = mapped_column(JSON)
    what_ifs: Mapped[list[str]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(Integer)
    runs: Mapped[int] = mapped_column(Integer)
    elapsed_s: Mapped[float] = mapped_column(Float)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    crisislab_version: Mapped[str] = mapped_column(String(32), default="")


class GameRow(Base):
    """One played game: its seats and every turn's choices, saved after each turn."""

    __tablename__ = "games"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    updated: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
    scenario: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    seats: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")
    turn: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)
    log: Mapped[list[Any]] = mapped_column(JSON, default=list)
    letters: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")


class Store:
    """A connection to the database; brings its schema to the newest revision on first
    use (Alembic, :mod:`crisislab.migrations`). With
    ``writable=True`` it also proves that it may write, before any work is done whose
    result it would store. ``url`` is never printed: ``shown`` hides its password."""

    def __init__(self, url: str | None = None, writable: bool = False) -> None:
        self.url = _expand_home((url or default_url()).strip())
        self._fast = False  # write-ahead mode set (fast_writes)
        self.shown = shown_url(self.url)
        try:
            parsed = make_url(self.url)
            if (
                parsed.get_backend_name() == "sqlite"
                and parsed.database
                and parsed.database != ":memory:"
                and "uri" not in parsed.query
            ):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: SqlEngine = create_engine(self.url)
            _migrate(self.engine, self.shown)
            if writable:
                self.check_writable()
        except StoreError:
            raise
        except (SQLAlchemyError, OSError, ValueError, TypeError) as e:
            raise StoreError(
                f"cannot open the database {self.shown}: {_reason(e, self.url)}"
            ) from None

    def check_writable(self) -> None:
        """Write to the database in a transaction that is rolled back: a read-only or
        locked database is found before a run, not after it."""
        try:
            with self.engine.connect() as conn:
                tx = conn.begin()
                try:
                    conn.execute(delete(RunRow).where(RunRow.id == -1))
                    conn.execute(delete(GameRow).where(GameRow.id == -1))
                finally:
                    tx.rollback()
        except SQLAlchemyError as e:
            raise StoreError(
                f"cannot write to the database {self.shown}: {_reason(e, self.url)}"
            ) from None

    def fast_writes(self) -> None:
        """SQLite in write-ahead mode, synced at checkpoints: a commit survives the program
        stopping or crashing (not the machine losing power mid-write), without waiting for
        the disk on every commit. For a long-running server (the classroom), not for the
        commands: while a program holds the file open, recent commits may sit in the
        ``-wal`` file beside it, and a copy of the database file alone would miss them.
        Other databases are left as they are."""
        from sqlalchemy import event

        if (
            self._fast
            or self.engine.dialect.name != "sqlite"
            or self.engine.url.database in (None, "", ":memory:")
        ):
            return
        self._fast = True

        def pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        event.listen(self.engine, "connect", pragmas)
        self.engine.dispose()  # connections made before now lack them

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as e:
            raise StoreError(f"database error on {self.shown}: {_reason(e, self.url)}") from None

    # runs
    def add_run(self, **fields: Any) -> RunRow:
        row = RunRow(**fields)
        with self.session() as s:
            s.add(row)
        return row

    def runs(self, limit: int = 50) -> list[RunRow]:
        with self.session() as s:
            return list(s.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(limit)))

    def run(self, run_id: int) -> RunRow | None:
        with self.session() as s:
            return s.get(RunRow, run_id)

    def checked_runs(self, limit: int = 50) -> tuple[list[RunRecord], list[str]]:
        """The newest runs, each validated; and a message for each row that is not."""
        return self._checked(RunRow, RunRecord, "run", limit)

    # games
    def add_game(self, **fields: Any) -> GameRow:
        row = GameRow(**fields)
        with self.session() as s:
            s.add(row)
        return row

    def save_game(self, row: GameRow) -> None:
        with self.session() as s:
            s.merge(row)

    def game(self, game_id: int) -> GameRow | None:
        with self.session() as s:
            return s.get(GameRow, game_id)

    def games(self, limit: int = 50) -> list[GameRow]:
        with self.session() as s:
            return list(s.scalars(select(GameRow).order_by(GameRow.id.desc()).limit(limit)))

    def checked_game(self, game_id: int) -> tuple[GameRow, GameRecord] | None:
        """A game and its validated record; None if there is no such game;
        :class:`StoredRowError` naming the game and the field if its row is damaged."""
        row = self._fetch(GameRow, game_id, "game")
        if row is None:
            return None
        return row, self._validate(GameRecord, row, "game")

    def checked_games(self, limit: int = 50) -> tuple[list[GameRecord], list[str]]:
        """The newest games, each validated; and a message for each row that is not."""
        return self._checked(GameRow, GameRecord, "game", limit)

    # reading rows one at a time, so one damaged row never hides the others
    def _fetch(self, table: type[Base], row_id: int, what: str) -> Any:
        try:
            with self.session() as s:
                return s.get(table, row_id)
        except StoreError:
            raise
        except (ValueError, TypeError, OverflowError) as e:  # a bad date or JSON text
            raise StoredRowError(
                f"{what} {row_id} in {self.shown} cannot be read: {_first_line(e)}"
            ) from None

    def _validate(self, model: type[M], row: Base, what: str) -> M:
        fields = {c.name: getattr(row, c.name) for c in row.__table__.columns}
        try:
            return model.model_validate(fields)
        except ValidationError as e:
            raise StoredRowError(
                f"{what} {fields.get('id')} in {self.shown} is damaged: {describe(e)}"
            ) from None

    def _checked(
        self, table: type[Base], model: type[M], what: str, limit: int
    ) -> tuple[list[M], list[str]]:
        column = table.__table__.c.id  # type: ignore[attr-defined]
        with self.session() as s:
            ids = list(s.scalars(select(column).order_by(column.desc()).limit(limit)))
        good: list[M] = []
        bad: list[str] = []
        for row_id in ids:
            try:
                row = self._fetch(table, row_id, what)
                if row is not None:
                    good.append(self._validate(model, row, what))
            except StoredRowError as e:
                bad.append(str(e))
        return good, bad


def _migrate(engine: SqlEngine, shown: str) -> None:
    """Bring the schema to the newest revision; cheap (one query) when it is already
    there, so Alembic is imported only for a new or older database."""
    from crisislab.migrations import HEAD, current, upgrade

    with engine.connect() as conn:
        revisions = current(conn)
    if revisions == [HEAD]:
        return
    try:
        upgrade(engine)
    except SQLAlchemyError:
        raise
    except Exception as e:  # Alembic's own errors: a revision this crisislab does not know
        if type(e).__module__.startswith("alembic"):
            raise StoreError(
                f"the database {shown} has schema revision "
                f"{', '.join(revisions) or 'none'}, which this crisislab does "
                f"not know (its newest is {HEAD}): it was written by a newer "
                "version; upgrade crisislab or use another database"
            ) from None
        raise


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _reason(e: BaseException, url: str) -> str:
    """An error's first line, the URL's password hidden."""
    text = _first_line(e)
    shown = shown_url(url)
    text = text.replace(url, shown)
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError, TypeError):
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text
