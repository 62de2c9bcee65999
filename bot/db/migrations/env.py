"""Alembic environment: migrations run on the connection sopbot hands over (bot.db.migrate)."""

from __future__ import annotations

from alembic import context

import bot.db.models  # noqa: F401  (registers the tables)
from bot.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through bot.db.migrate (sopbot run does it on start)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
