"""cleanup: an operator's removal of silent members (or a segment's), previewed, then paced
(issue 13)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cleanups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("arg", sa.String(length=64), nullable=False),
        sa.Column("dm", sa.Boolean(), nullable=False),
        sa.Column("token", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("answer_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("answer_chat_kind", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleanups")),
    )
    op.create_index("ix_cleanups_operator", "cleanups", ["operator_id", "status"])
    op.create_table(
        "cleanup_targets",
        sa.Column("cleanup_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("error", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("cleanup_id", "user_id", name=op.f("pk_cleanup_targets")),
    )
    op.create_index("ix_cleanup_targets_status", "cleanup_targets", ["cleanup_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_cleanup_targets_status", table_name="cleanup_targets")
    op.drop_table("cleanup_targets")
    op.drop_index("ix_cleanups_operator", table_name="cleanups")
    op.drop_table("cleanups")
