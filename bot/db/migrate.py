"""Schema migrations with Alembic, run on an engine the caller already has."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
#: the PostgreSQL advisory lock the migrations run under ("sopbot" in ASCII): processes starting
#: at once migrate one after the other, the later ones finding the schema at the head
MIGRATION_LOCK = 0x736F70626F74


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str | None:
    """The newest revision in ``migrations/`` (read once: the scripts do not change under us)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":  # held until this transaction ends
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":  # the file's write lock, taken before reading
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    if revision == "head":
        current = MigrationContext.configure(connection).get_current_heads()
        if current == (head_revision(),):  # already there: skip loading every migration script
            return
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Creates or migrates the schema to ``revision``; a database already at the head is only
    looked at (``sopbot run`` and every test's bot start call this). On PostgreSQL under an
    advisory lock, on SQLite under the file's write lock (``BEGIN IMMEDIATE``): several
    processes starting at once migrate once."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
