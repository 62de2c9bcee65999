"""privacy: notice and consent per member, the consent log, the suppression list, erased
members, the copy review of broadcasts (issue 15)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_states",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("notice_version", sa.Integer(), nullable=True),
        sa.Column("notice_shown_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("consented_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("consent_version", sa.Integer(), nullable=True),
        sa.Column("opted_out_at", bot.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("forget_token", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_privacy_states")),
    )
    op.create_table(
        "privacy_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_events")),
    )
    op.create_index("ix_privacy_events_user", "privacy_events", ["user_id", "at"])
    op.create_table(
        "privacy_suppressions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_privacy_suppressions")),
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("erased_at", bot.db.base.UtcDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("review", sa.String(length=8), nullable=True))
        batch.add_column(
            sa.Column("review_confirmed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("promotional", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("promotional")
        batch.drop_column("review_confirmed")
        batch.drop_column("review")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("erased_at")
    op.drop_table("privacy_suppressions")
    op.drop_index("ix_privacy_events_user", table_name="privacy_events")
    op.drop_table("privacy_events")
    op.drop_table("privacy_states")
