"""delivery hardening: where a broadcast's card is (its buttons count there only)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("card_message_id", sa.BigInteger(), nullable=True))
    # open broadcasts keep their buttons: the progress message, else the last card sent
    op.execute("""
        UPDATE broadcasts SET card_message_id = COALESCE(progress_message_id, (
            SELECT o.message_id FROM outbox o
            WHERE o.key IN ('bc:' || broadcasts.id || ':card:ready',
                            'bc:' || broadcasts.id || ':card:a')
              AND o.status = 'sent' AND o.message_id IS NOT NULL
            ORDER BY o.id DESC LIMIT 1))
        WHERE status IN ('draft', 'sending')
    """)
    op.execute("UPDATE broadcasts SET card_chat_id = chat_id WHERE card_message_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("card_message_id")
        batch_op.drop_column("card_chat_id")
