"""The Alembic history: up, down, up again, and the models match what it builds."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.base import Base
from bot.db.migrate import downgrade, upgrade
from bot.db.session import create_engine


async def test_stairway_up_down_up(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await upgrade(engine)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(Base.metadata.tables) <= set(tables)
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata))
        assert diff == [], f"models changed without a migration: {diff}"
    finally:
        await engine.dispose()
