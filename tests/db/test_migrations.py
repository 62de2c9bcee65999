"""The Alembic history: up, down, up again, and the models match what it builds."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.db.base import Base
from bot.db.migrate import downgrade, head_revision, upgrade
from bot.db.session import create_engine


async def test_stairway_up_down_up(blank_database_url: str) -> None:
    engine = create_engine(blank_database_url)
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


# SQLite's reflection skips expression indexes (lower(username): members by name, issue 16);
# PostgreSQL's compares them
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_models_and_migrations_agree(blank_database_url: str) -> None:
    engine = create_engine(blank_database_url)
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


async def test_upgrading_keeps_existing_rows(blank_database_url: str) -> None:
    from datetime import date

    engine = create_engine(blank_database_url)
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


async def test_a_database_at_the_head_is_not_migrated_again(
    blank_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(blank_database_url)
    try:
        await upgrade(engine)

        def refuse(*_: object) -> None:
            raise AssertionError("upgraded a database already at the head")

        monkeypatch.setattr(command, "upgrade", refuse)
        await upgrade(engine)  # only looks at alembic_version
        with pytest.raises(AssertionError):
            await upgrade(engine, "0001")  # any other target still runs Alembic
    finally:
        await engine.dispose()


async def test_three_processes_starting_at_once_migrate_once(
    blank_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three engines (three processes' pools) upgrade a blank database at the same moment: one
    runs Alembic, the others wait on the advisory lock (PostgreSQL) or the file's write lock
    (SQLite) and find the schema at the head."""
    engines = [create_engine(blank_database_url) for _ in range(3)]
    runs: list[str] = []
    real = command.upgrade

    def counted(config: object, revision: str, **kwargs: object) -> None:
        runs.append(revision)
        real(config, revision, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(command, "upgrade", counted)
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        async with engines[0].connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
    finally:
        for engine in engines:
            await engine.dispose()
    assert current == (head_revision(),)
    assert runs == ["head"]


async def test_each_test_gets_a_migrated_database_with_empty_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            counts = {
                table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                for table in Base.metadata.tables
            }
        assert version == [(head_revision(),)]
        assert counts == dict.fromkeys(Base.metadata.tables, 0)
    finally:
        await engine.dispose()
