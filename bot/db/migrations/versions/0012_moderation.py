"""community order: moderation actions and complaint alerts (issue 13)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mod_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("until", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_actions")),
    )
    op.create_index("ix_mod_actions_member", "mod_actions", ["chat_id", "user_id", "action", "at"])
    op.create_index("ix_mod_actions_at", "mod_actions", ["at"])
    op.create_table(
        "mod_alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_alerts")),
        sa.UniqueConstraint("chat_id", "message_id", "source", name="uq_mod_alerts_message"),
    )
    op.create_index("ix_mod_alerts_chat_at", "mod_alerts", ["chat_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_mod_alerts_chat_at", table_name="mod_alerts")
    op.drop_table("mod_alerts")
    op.drop_index("ix_mod_actions_at", table_name="mod_actions")
    op.drop_index("ix_mod_actions_member", table_name="mod_actions")
    op.drop_table("mod_actions")
