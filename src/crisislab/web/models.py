"""The classroom's tables, on the store's ``Base`` (their migration is ``0002``).

A class session holds its worlds; each world is a game of the ``games`` table (its log of
turns and letters, so ``crisislab debrief ID`` reads it as any game), and the choices,
letters and votes of the turn being played wait in their own tables until the turn is
played. Nothing here is a pickle: a world is rebuilt by replaying its log through the
engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crisislab.store import Base, _now


class ClassRow(Base):
    """A class session: its scenario, seats, clock and state."""

    __tablename__ = "class_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    facilitator_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    scenario: Mapped[str] = mapped_column(String(300))  # built-in id or uploaded file name
    scenario_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # uploaded YAML
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    seed: Mapped[int] = mapped_column(BigInteger)
    worlds: Mapped[int] = mapped_column(Integer)
    seats: Mapped[dict[str, Any]] = mapped_column(JSON)  # actor -> "human" or agent spec
    start_turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chance: Mapped[str] = mapped_column(String(16), default="free")
    turn_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: by hand
    debrief_runs: Mapped[int] = mapped_column(Integer, default=500)
    status: Mapped[str] = mapped_column(String(16), default="running")  # paused, ended
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every change


class WorldRow(Base):
    """One parallel world of a class session: a game, and its turn clock."""

    __tablename__ = "class_worlds"
    __table_args__ = (UniqueConstraint("class_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ...
    game_id: Mapped[int] = mapped_column(ForeignKey("games.id"))
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    remaining: Mapped[float | None] = mapped_column(Float, nullable=True)  # while paused


class PlayerRow(Base):
    """A person in a seat: no account, a display name and a secret token (kept hashed)."""

    __tablename__ = "class_players"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    world: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # "decider" or "adviser"
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    joined: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class ChoiceRow(Base):
    """A seat's choice for one turn of one world: at most one (the first wins)."""

    __tablename__ = "class_choices"
    __table_args__ = (UniqueConstraint("class_id", "world", "turn", "actor"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    world: Mapped[int] = mapped_column(Integer)
    turn: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    followed: Mapped[bool] = mapped_column(Boolean, default=False)
    player_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the clock
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class DraftRow(Base):
    """A letter written by a seat during a turn; it goes when the turn is played."""

    __tablename__ = "class_letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    world: Mapped[int] = mapped_column(Integer)
    turn: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    player_id: Mapped[int] = mapped_column(Integer)
    letter: Mapped[dict[str, Any]] = mapped_column(JSON)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class VoteRow(Base):
    """A team member's proposal for the seat's option this turn (one per member)."""

    __tablename__ = "class_votes"
    __table_args__ = (UniqueConstraint("class_id", "world", "turn", "player_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    world: Mapped[int] = mapped_column(Integer)
    turn: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    player_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))


class InjectRow(Base):
    """A message from an offstage actor (the UN, the allies, the press), sent by the
    facilitator to every world or one (a row per world), to every seat or one."""

    __tablename__ = "class_injects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    world: Mapped[int] = mapped_column(Integer)  # one row per world it was sent to
    to: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: every seat
    turn: Mapped[int] = mapped_column(Integer)  # the world's turn when it was sent
    sender: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
