"""/export end to end: a CSV document with a header, parsed back; thousands of members on both
databases; spreadsheet-safe cells; ranges, usage, refusal and Telegram's size limit."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select

from bot.app import SopBot
from bot.db.models import GLOBAL_CHAT, AuditEntry, Member, MemberTag
from bot.db.models.tags import MemberStage
from bot.db.repositories import RollupRepository
from bot.services import files
from sandbox import SentFile, TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR
from tests.e2e.helpers import settle

MEMBERS = 3000
FIRST_ID = 100_000


async def _seed_members(app: SopBot, clock: ManualClock) -> None:
    now = clock.now()
    rows = []
    for i in range(MEMBERS):
        uid = FIRST_ID + i
        name = {0: '=HYPERLINK("http://x")', 1: "张三", 2: "+cmd", 3: "-1", 4: "@sum"}.get(
            i, f"M{i}"
        )
        rows.append(
            {
                "user_id": uid,
                "first_name": name,
                "username": f"user{i}",
                "language_code": "zh" if i % 2 else "en",
                "source": f"src{i % 5}",
                "source_kind": "deeplink",
                "first_seen_at": now - timedelta(days=i % 60),
                "started_at": now if i % 3 == 0 else None,
                "dm_allowed": i % 3 == 0,
                "unreachable_at": now if i % 9 == 0 else None,
                "last_seen_at": now,
                "gift_sent_at": None,
            }
        )
    async with app.db.transaction() as session:
        await session.execute(insert(Member), rows)
        await session.execute(
            insert(MemberTag),
            [
                {"user_id": FIRST_ID + i, "tag": tag, "added_at": now, "added_by": "test"}
                for i in range(0, MEMBERS, 10)
                for tag in ("vip", "interest:tea")
            ],
        )
        await session.execute(
            insert(MemberStage),
            [
                {"user_id": FIRST_ID + i, "stage": "silent", "since": now, "winback_at": None}
                for i in range(0, MEMBERS, 7)
            ],
        )


async def _export(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, text: str
) -> SentFile | str:
    """Sends ``text``; returns the document the bot answered with, or its text answer (the
    last send settles before the virtual clock moves: its limiter stamp is the answer's time)."""
    await settle(app, sandbox)
    clock.advance(seconds=2)
    files_before = len(sandbox.sent_files(OPERATOR))
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, text)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) > before, timeout=60)
    if len(sandbox.sent_files(OPERATOR)) > files_before:
        return sandbox.sent_files(OPERATOR)[-1]
    return sandbox.sent_messages(OPERATOR)[-1].text


def _rows(document: SentFile | str) -> list[dict[str, str]]:
    assert isinstance(document, SentFile) and document.data is not None
    assert document.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))


async def test_members_export_has_every_member_once_and_is_spreadsheet_safe(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _seed_members(app, clock)
    document = await _export(app, sandbox, clock, "/export members")
    assert isinstance(document, SentFile)
    assert document.filename == "members-2026-11-20.csv"
    assert "3000" in document.caption or "300" in document.caption
    rows = _rows(document)
    async with app.sessions() as session:
        total = (await session.execute(select(func.count()).select_from(Member))).scalar_one()
    assert len(rows) == total >= MEMBERS
    assert f"{total} rows" in document.caption
    by_id = {int(r["user_id"]): r for r in rows}
    assert len(by_id) == len(rows)
    assert [int(r["user_id"]) for r in rows] == sorted(by_id)
    assert by_id[FIRST_ID]["first_name"] == '\'=HYPERLINK("http://x")'
    assert by_id[FIRST_ID + 1]["first_name"] == "张三"
    assert by_id[FIRST_ID + 2]["first_name"] == "'+cmd"
    assert by_id[FIRST_ID + 3]["first_name"] == "'-1"
    assert by_id[FIRST_ID + 4]["first_name"] == "'@sum"
    assert by_id[FIRST_ID]["tags"] == "interest:tea;vip" and by_id[FIRST_ID + 1]["tags"] == ""
    assert by_id[FIRST_ID + 7]["stage"] == "silent" and by_id[FIRST_ID + 8]["stage"] == ""
    assert by_id[FIRST_ID + 3]["dm_allowed"] == "yes"
    assert by_id[FIRST_ID + 3]["reachable"] == "yes"
    assert by_id[FIRST_ID + 9]["reachable"] == "no"  # blocked
    assert by_id[FIRST_ID + 9]["blocked_since (Asia/Shanghai)"] == "2026-11-20 09:00"
    assert by_id[FIRST_ID + 1]["first_seen (Asia/Shanghai)"] == "2026-11-19 09:00"
    await settle(app, sandbox)
    async with app.sessions() as session:
        entry = (await session.execute(select(AuditEntry))).scalars().one()
    assert (entry.command, entry.args, entry.result) == ("export", "members", "ok")


async def test_members_export_within_a_range_of_first_seen_days(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _seed_members(app, clock)
    rows = _rows(await _export(app, sandbox, clock, "/export members 2026-11-18..2026-11-19"))
    assert {int(r["user_id"]) - FIRST_ID for r in rows if int(r["user_id"]) >= FIRST_ID} == {
        i for i in range(MEMBERS) if i % 60 in (1, 2)
    }


async def test_kpi_export_one_row_per_community_per_day(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    today = date(2026, 11, 20)
    async with app.db.transaction() as session:
        rollups = RollupRepository(session)
        await rollups.add(COMMUNITY, today - timedelta(days=1), joins=5, leaves=2, messages=40)
        await rollups.add(COMMUNITY, today - timedelta(days=6), joins=1)
        await rollups.add(COMMUNITY, today - timedelta(days=7), joins=99)  # outside 7d
        await rollups.add(GLOBAL_CHAT, today - timedelta(days=1), coupons_issued=3)
    document = await _export(app, sandbox, clock, "/export kpi 7d")
    assert isinstance(document, SentFile)
    assert document.filename == "kpi-2026-11-14..2026-11-20.csv"
    rows = _rows(document)
    assert len(rows) == 7 * 2
    assert [r["day"] for r in rows[::2]] == [
        (today - timedelta(days=d)).isoformat() for d in range(6, -1, -1)
    ]
    yesterday = {r["community"]: r for r in rows if r["day"] == "2026-11-19"}
    assert yesterday["Demo community"]["joins"] == "5"
    assert yesterday["Demo community"]["leaves"] == "2"
    assert yesterday["Demo community"]["messages"] == "40"
    assert yesterday["(global)"]["coupons_issued"] == "3"
    assert yesterday["Demo community"]["members_reported"] == ""  # no snapshot that day
    assert sum(int(r["joins"]) for r in rows) == 6
    assert "(times in Asia/Shanghai)" in document.caption
    default = _rows(await _export(app, sandbox, clock, "/export kpi"))
    assert len(default) == 30 * 2
    span = _rows(await _export(app, sandbox, clock, "/export KPI 2026-11-13..2026-11-13"))
    assert [(r["day"], r["joins"]) for r in span] == [("2026-11-13", "99"), ("2026-11-13", "0")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/export", "Usage: <code>/export members|kpi"),
        ("/export kpi 7x", "Usage: <code>/export members|kpi"),
        ("/export kpi 2026-11-20..2026-11-01", "Usage: <code>/export members|kpi"),
        ("/export kpi 2026-02-30..2026-03-01", "Usage: <code>/export members|kpi"),
        ("/export members 7d extra", "Usage: <code>/export members|kpi"),
        ("/export orders", "<code>/export members</code>, <code>/export kpi</code>"),
    ],
)
async def test_bad_arguments_get_one_line(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, text: str, expected: str
) -> None:
    answer = await _export(app, sandbox, clock, text)
    assert isinstance(answer, str) and expected in answer and "\n" not in answer
    assert sandbox.sent_files() == []


async def test_members_cannot_export(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    sandbox.add_user(7401, "Eve")
    sandbox.user_sends(7401, "/export members")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(7401)) == 1)
    await settle(app, sandbox)
    assert "operations team only" in sandbox.sent_messages(7401)[0].text
    assert sandbox.sent_files() == []
    async with app.sessions() as session:
        entry = (await session.execute(select(AuditEntry))).scalars().one()
    assert (entry.user_id, entry.result) == (7401, "refused")


async def test_an_export_over_telegrams_limit_is_explained(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed_members(app, clock)
    monkeypatch.setitem(files.LIMITS, "document", 100 * 1024)  # the 50 MB limit, scaled down
    answer = await _export(app, sandbox, clock, "/export members")
    assert isinstance(answer, str)
    assert "over Telegram's 0.1 MB limit" in answer
    assert "rows), over Telegram" in answer and "/export members 30d" in answer
    assert sandbox.sent_files() == []
