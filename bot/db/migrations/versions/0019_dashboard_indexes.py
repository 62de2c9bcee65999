"""dashboard indexes and snapshots: members newest first and by name or username prefix,
coupons by the day they were issued; figures worked out ahead (issue 16: each dashboard page
under 200 ms at 1,000,000 members)

Revision ID: 0019
Revises: 0018 (h-dashcore's, merged here)
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_snapshots",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("computed_at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", bot.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dashboard_snapshots")),
    )
    op.create_index(
        "ix_members_first_seen",
        "members",
        ["first_seen_at", "source", "started_at", "gift_sent_at"],
    )
    op.create_index("ix_members_source_first_seen", "members", ["source", "first_seen_at"])
    op.create_index("ix_members_name_lower", "members", [sa.text("lower(first_name)")])
    op.create_index("ix_members_username_lower", "members", [sa.text("lower(username)")])
    op.create_index(
        "ix_coupons_issued", "coupons", ["issued_at", "campaign", "issued_by", "redeemed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_coupons_issued", table_name="coupons")
    op.drop_index("ix_members_username_lower", table_name="members")
    op.drop_index("ix_members_name_lower", table_name="members")
    op.drop_index("ix_members_source_first_seen", table_name="members")
    op.drop_index("ix_members_first_seen", table_name="members")
    op.drop_table("dashboard_snapshots")
