"""the member service desk: tickets, relays, forum topics, the team chat's forum state; the
outbox's send lane (service ahead of broadcasts)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TIME = bot.db.base.UtcDateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "desk_tickets",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("waiting_since", _TIME, nullable=True),
        sa.Column("deadline", _TIME, nullable=True),
        sa.Column("last_member_at", _TIME, nullable=False),
        sa.Column("last_member_message_id", sa.BigInteger(), nullable=True),
        sa.Column("first_response_at", _TIME, nullable=True),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("within_sla", sa.Boolean(), nullable=True),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("holding_sent", sa.Boolean(), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("unrelayed", sa.Integer(), nullable=False),
        sa.Column("relay_window_at", _TIME, nullable=True),
        sa.Column("relay_window_count", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("digest_state", sa.String(length=8), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_tickets")),
    )
    op.create_index("ix_desk_tickets_user_status", "desk_tickets", ["user_id", "status"])
    op.create_index("ix_desk_tickets_status_deadline", "desk_tickets", ["status", "deadline"])
    op.create_index("ix_desk_tickets_opened_at", "desk_tickets", ["opened_at"])
    op.create_table(
        "desk_relays",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_relays")),
        sa.UniqueConstraint("chat_id", "message_id", name=op.f("uq_desk_relays_chat_id")),
    )
    op.create_index(op.f("ix_desk_relays_ticket_id"), "desk_relays", ["ticket_id"])
    op.create_table(
        "desk_topics",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_desk_topics")),
        sa.UniqueConstraint("chat_id", "thread_id", name=op.f("uq_desk_topics_chat_id")),
    )
    op.create_table(
        "desk_team_chat",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("is_forum", sa.Boolean(), nullable=False),
        sa.Column("can_manage_topics", sa.Boolean(), nullable=False),
        sa.Column("checked_at", _TIME, nullable=False),
        sa.Column("told_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_desk_team_chat")),
    )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("lane", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("lane")
    op.drop_table("desk_team_chat")
    op.drop_table("desk_topics")
    op.drop_index(op.f("ix_desk_relays_ticket_id"), table_name="desk_relays")
    op.drop_table("desk_relays")
    op.drop_index("ix_desk_tickets_opened_at", table_name="desk_tickets")
    op.drop_index("ix_desk_tickets_status_deadline", table_name="desk_tickets")
    op.drop_index("ix_desk_tickets_user_status", table_name="desk_tickets")
    op.drop_table("desk_tickets")
