"""KPI reports and alerts (issue 5): member counts kept as they change, joins per source and
day, report runs (each period once) and raised alerts (each once).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_counts",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_member_counts")),
    )
    op.create_table(
        "member_deltas",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day", name=op.f("pk_member_deltas")),
    )
    op.create_table(
        "source_joins",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("joins", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day", "source", name=op.f("pk_source_joins")),
    )
    op.create_table(
        "kpi_days",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("welcome_due", sa.Integer(), nullable=False),
        sa.Column("welcome_in_time", sa.Integer(), nullable=False),
        sa.Column("questions_due", sa.Integer(), nullable=False),
        sa.Column("response_times", sa.JSON(), nullable=False),
        sa.Column("computed_at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day", name=op.f("pk_kpi_days")),
    )
    op.create_table(
        "report_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("sent_at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_runs")),
        sa.UniqueConstraint("kind", "period", name=op.f("uq_report_runs_kind")),
    )
    op.create_table(
        "alert_states",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("raised_at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert_states")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            "ix_memberships_kpi_welcome",
            ["chat_id", "joined_at", "welcomed_at", "left_at"],
            unique=False,
        )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_questions_kpi_response",
            ["chat_id", "asked_at", "deadline", "response_seconds"],
            unique=False,
        )
    # the open stints of a database made before this revision (their daily history of deltas
    # cannot be rebuilt here: the configured time zone defines the days)
    op.execute(
        "INSERT INTO member_counts (chat_id, members) "
        "SELECT chat_id, count(*) FROM memberships WHERE left_at IS NULL GROUP BY chat_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index("ix_questions_kpi_response")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_memberships_kpi_welcome")
    op.drop_table("alert_states")
    op.drop_table("report_runs")
    op.drop_table("kpi_days")
    op.drop_table("source_joins")
    op.drop_table("member_deltas")
    op.drop_table("member_counts")
