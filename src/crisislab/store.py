"""The database of runs and games: SQLite by default, any SQLAlchemy URL with ``--db``.

One schema serves the simulator (``runs``) and the game (``games``), so a debrief can set
a played crisis beside simulated ones. Rows record the scenario's id, version and content
hash, so a result can always be traced to the exact rules that produced it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, create_engine, select
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class StoreError(RuntimeError):
    """The database cannot be opened or written; the message says which and why."""


def default_url() -> str:
    """``CRISISLAB_DB`` if set, else a SQLite file in the user's data folder."""
    env = os.environ.get("CRISISLAB_DB")
    if env:
        return env if "://" in env else f"sqlite:///{Path(env).expanduser()}"
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return f"sqlite:///{base / 'crisislab' / 'crisislab.db'}"


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
    """A connection to the database; creates the tables on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        try:
            if self.url.startswith("sqlite:///"):
                Path(self.url[len("sqlite:///"):]).expanduser().parent.mkdir(
                    parents=True, exist_ok=True)
            self.engine: SqlEngine = create_engine(self.url)
            Base.metadata.create_all(self.engine)
        except (SQLAlchemyError, OSError, ValueError) as e:
            raise StoreError(f"cannot open the database {self.url}: {e}") from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as e:
            raise StoreError(f"database error on {self.url}: {e}") from None

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
