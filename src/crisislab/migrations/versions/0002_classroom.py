"""The classroom's tables (crisislab serve): class sessions, worlds, players, the choices,
letters and votes of the turn being played, and the facilitator's injects.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SESSION = "class_sessions.id"


def _class_id() -> sa.Column:
    return sa.Column("class_id", sa.Integer(), sa.ForeignKey(SESSION), nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "class_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True, index=True),
        sa.Column("facilitator_hash", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("scenario", sa.String(300), nullable=False),
        sa.Column("scenario_text", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("worlds", sa.Integer(), nullable=False),
        sa.Column("seats", sa.JSON(), nullable=False),
        sa.Column("start_turn", sa.Integer(), nullable=True),
        sa.Column("chance", sa.String(16), nullable=False),
        sa.Column("turn_seconds", sa.Integer(), nullable=True),
        sa.Column("debrief_runs", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
    )
    op.create_table(
        "class_worlds",
        sa.Column("id", sa.Integer(), primary_key=True),
        _class_id(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("game_id", sa.Integer(), sa.ForeignKey("games.id"), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("remaining", sa.Float(), nullable=True),
        sa.UniqueConstraint("class_id", "number"),
    )
    op.create_table(
        "class_players",
        sa.Column("id", sa.Integer(), primary_key=True),
        _class_id(),
        sa.Column("world", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True, index=True),
        sa.Column("joined", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "class_choices",
        sa.Column("id", sa.Integer(), primary_key=True),
        _class_id(),
        sa.Column("world", sa.Integer(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("class_id", "world", "turn", "actor"),
    )
    op.create_table(
        "class_letters",
        sa.Column("id", sa.Integer(), primary_key=True),
        _class_id(),
        sa.Column("world", sa.Integer(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("letter", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "class_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _class_id(),
        sa.Column("world", sa.Integer(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.UniqueConstraint("class_id", "world", "turn", "player_id"),
    )
    op.create_table(
        "class_injects",
        sa.Column("id", sa.Integer(), primary_key=True),
        _class_id(),
        sa.Column("world", sa.Integer(), nullable=False),
        sa.Column("to", sa.String(64), nullable=True),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "class_injects",
        "class_votes",
        "class_letters",
        "class_choices",
        "class_players",
        "class_worlds",
        "class_sessions",
    ):
        op.drop_table(table)
