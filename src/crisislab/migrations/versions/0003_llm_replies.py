"""The stored requests and replies of language-model leaders (crisislab.llm_store),
and which stored run used which reply, so that a study reruns offline and exports whole.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(500), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("latency_s", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
    )
    op.create_index("ix_llm_replies_key", "llm_replies", ["key"], unique=True)
    op.create_table(
        "llm_run_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
    )
    op.create_index("ix_llm_run_replies_run_id", "llm_run_replies", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_llm_run_replies_run_id", table_name="llm_run_replies")
    op.drop_table("llm_run_replies")
    op.drop_index("ix_llm_replies_key", table_name="llm_replies")
    op.drop_table("llm_replies")
