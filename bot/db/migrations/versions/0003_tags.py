"""tags, lifecycle, interests, segments, win-back (issue 4)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = bot.db.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tag_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("by", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_events")),
    )
    with op.batch_alter_table("tag_events", schema=None) as batch_op:
        batch_op.create_index("ix_tag_events_at_tag", ["at", "tag"], unique=False)
        batch_op.create_index(batch_op.f("ix_tag_events_user_id"), ["user_id"], unique=False)

    op.create_table(
        "member_stages",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("since", _AT, nullable=False),
        sa.Column("winback_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["members.user_id"], name=op.f("fk_member_stages_user_id_members")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_member_stages")),
    )
    with op.batch_alter_table("member_stages", schema=None) as batch_op:
        batch_op.create_index("ix_member_stages_stage", ["stage", "user_id"], unique=False)

    op.create_table(
        "daily_passes",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("moved", sa.BigInteger(), nullable=False),
        sa.Column("winback", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "day", name=op.f("pk_daily_passes")),
    )
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reactivated", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("silent_members", sa.Integer(), nullable=True))
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.alter_column("reactivated", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.drop_column("silent_members")
        batch_op.drop_column("reactivated")
    op.drop_table("daily_passes")
    with op.batch_alter_table("member_stages", schema=None) as batch_op:
        batch_op.drop_index("ix_member_stages_stage")
    op.drop_table("member_stages")
    with op.batch_alter_table("tag_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_events_user_id"))
        batch_op.drop_index("ix_tag_events_at_tag")
    op.drop_table("tag_events")
