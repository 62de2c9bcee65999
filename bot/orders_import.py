"""``sopbot import-orders FILE.csv``: orders from a shop's export, each recorded once.

A header row names the columns: ``order_id``, ``member_id`` and/or ``coupon``, ``amount``,
``time``, optionally ``currency``. Every bad line is reported with its line number and skipped;
the rest are imported. Importing the same file again changes nothing (order ids are unique).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.config import CommunityConfig
from bot.db.models import Via
from bot.db.session import Database
from bot.services.commerce.orders import (
    OrderInput,
    OrderInputError,
    OrderService,
    OrderStatus,
    parse_order,
)

COLUMNS = ("order_id", "member_id", "coupon", "amount", "time", "currency")
REQUIRED = ("order_id", "amount", "time")
#: rows per transaction
BATCH = 200


class ImportFileError(OrderInputError):
    """The file as a whole cannot be imported (no header, unknown columns…)."""


@dataclass
class ImportSummary:
    rows: int = 0
    recorded: int = 0
    duplicates: int = 0
    coupons: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        coupons = ", ".join(f"{kind} {count}" for kind, count in sorted(self.coupons.items()))
        return [
            f"{self.rows} rows: {self.recorded} recorded, {self.duplicates} already known "
            f"(duplicates), {len(self.errors)} with errors",
            f"coupons: {coupons or 'none in the file'}",
        ]


def read_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and ``(line number, row)`` pairs; :class:`ImportFileError` for a bad header."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportFileError(
            "the file is empty; the first line must name the columns: " + ",".join(COLUMNS)
        ) from None
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
            f"the header names the columns, from: {', '.join(COLUMNS)}"
        )
    missing = [name for name in REQUIRED if name not in header]
    if "member_id" not in header and "coupon" not in header:
        missing.append("member_id or coupon")
    if missing:
        raise ImportFileError(
            f"line 1: missing column(s) {', '.join(missing)} (a header row "
            f"is required: {','.join(COLUMNS)})"
        )
    if len(set(header)) != len(header):
        raise ImportFileError("line 1: a column is named twice")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                yield line, {"__error__": f"{len(values)} values for {len(header)} columns"}
                continue
            yield (
                line,
                {name: value for name, value in zip(header, values, strict=True) if value.strip()},
            )

    return header, rows()


async def import_orders(
    path: Path, db: Database, config: CommunityConfig, now: datetime
) -> ImportSummary:
    """Imports ``path``; :class:`ImportFileError` when the file itself is unusable."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("the file is not UTF-8 text (save the CSV as UTF-8)") from None
    _, rows = read_rows(text)
    summary = ImportSummary()
    batch: list[tuple[int, OrderInput]] = []
    for line, row in rows:
        summary.rows += 1
        try:
            if "__error__" in row:
                raise OrderInputError(row["__error__"])
            batch.append((line, parse_order(dict(row), config.tz)))
        except OrderInputError as error:
            summary.errors.append(f"line {line}: {error.reason}")
        if len(batch) >= BATCH:
            await _record(db, config, batch, now, summary)
            batch = []
    if batch:
        await _record(db, config, batch, now, summary)
    return summary


async def _record(
    db: Database,
    config: CommunityConfig,
    batch: list[tuple[int, OrderInput]],
    now: datetime,
    summary: ImportSummary,
) -> None:
    async with db.transaction() as session:
        service = OrderService(session, config)
        for _, order in batch:
            outcome = await service.record(order, now, via=Via.IMPORT)
            if outcome.status == OrderStatus.DUPLICATE:
                summary.duplicates += 1
                continue
            summary.recorded += 1
            if order.coupon is not None:
                summary.coupons[outcome.coupon] += 1


#: line errors printed before "… and N more"
SHOWN_ERRORS = 50


def command(path: Path) -> int:
    """The CLI: settings from the environment, the config from ``SOPBOT_CONFIG``. Exit 0: all
    lines imported (or known); 1: some lines had errors (the others are imported); 2: the file,
    the config or the environment is unusable (nothing imported)."""
    import asyncio
    import sys

    from pydantic import ValidationError

    from bot.config import Settings, load_config
    from bot.db.migrate import upgrade
    from bot.errors import ConfigError, DatabaseUnavailableError
    from bot.rendering import build_renderer
    from sop.clock import SystemClock

    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            print(f"error: environment: {problem['msg']}", file=sys.stderr)
        return 2
    config_path = settings.sopbot_config
    try:
        config = load_config(config_path, catalog=lambda c: build_renderer(c, config_path.parent))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2

    async def run() -> ImportSummary:
        db = Database(settings.database_url)
        try:
            await db.check()
            await upgrade(db.engine)
            return await import_orders(path, db, config, SystemClock().now())
        finally:
            await db.dispose()

    try:
        summary = asyncio.run(run())
    except ImportFileError as error:
        print(f"error: {path}: {error.reason}", file=sys.stderr)
        return 2
    except DatabaseUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line_error in summary.errors[:SHOWN_ERRORS]:
        print(f"{path}: {line_error}", file=sys.stderr)
    if len(summary.errors) > SHOWN_ERRORS:
        print(
            f"{path}: … and {len(summary.errors) - SHOWN_ERRORS} more lines with errors",
            file=sys.stderr,
        )
    for line in summary.lines():
        print(line)
    return 1 if summary.errors else 0
