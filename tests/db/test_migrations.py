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
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == [], f"models changed without a migration: {diff}"
    finally:
        await engine.dispose()


async def test_upgrading_keeps_existing_rows(database_url: str) -> None:
    from datetime import date

    from sqlalchemy import text

    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO daily_rollups (chat_id, day, joins, leaves, messages,"
                    " active_members, coupons_issued, dm_sent, dm_blocked)"
                    " VALUES (-1, :day, 3, 0, 5, 2, 1, 1, 0)"
                ),
                {"day": date(2026, 11, 20)},
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT joins, messages, questions, escalated FROM daily_rollups")
                )
            ).one()
        assert tuple(row) == (3, 5, 0, 0)
    finally:
        await engine.dispose()
