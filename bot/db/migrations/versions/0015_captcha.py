"""join protection: captcha challenges of join requests and plain joins (issue 13)

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "captchas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token", sa.String(length=24), nullable=False),
        sa.Column("answer", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.Column("created_at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("deadline", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("stint_id", sa.BigInteger(), nullable=True),
        sa.Column("challenge_outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captchas")),
    )
    op.create_index("ix_captchas_status_deadline", "captchas", ["status", "deadline"])
    op.create_index("ix_captchas_member", "captchas", ["chat_id", "user_id", "status"])
    op.create_index("ix_captchas_token", "captchas", ["token"])
    op.create_index("ix_captchas_stint", "captchas", ["stint_id"])
    op.create_index("ix_captchas_challenge", "captchas", ["challenge_outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_captchas_challenge", table_name="captchas")
    op.drop_index("ix_captchas_stint", table_name="captchas")
    op.drop_index("ix_captchas_token", table_name="captchas")
    op.drop_index("ix_captchas_member", table_name="captchas")
    op.drop_index("ix_captchas_status_deadline", table_name="captchas")
    op.drop_table("captchas")
