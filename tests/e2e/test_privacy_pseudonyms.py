"""An erased or retention-pseudonymised member's Telegram id is gone from the database (issue 15,
bot/db/repositories/pseudonyms.py), on SQLite and PostgreSQL: every integer column of every
table is scanned for it, and every text column for its digits; their rows stay under a
pseudonym, so the counts and /kpi are what they were; a later /start is a new member."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import SopBot
from bot.db.base import Base
from bot.db.models import Coupon, Member, MemberTag
from bot.db.models.order import Order
from bot.db.models.tags import TagEvent
from bot.db.repositories.pseudonyms import FLOOR, names
from bot.services.privacy.jobs import run_retention
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR
from tests.e2e.helpers import run_clock, settle
from tests.e2e.test_privacy import _data, _press, _say, config  # noqa: F401  (its config)

#: ids far from any message id, count or amount the test makes: a match is the id itself
REAL = 7_300_000_123
#: someone whose id has REAL's digits in it: an erasure must leave their rows as they were
OTHER = int(f"{REAL}4")
#: the tables whose rows are the aggregates (they keep every row, under the pseudonym)
COUNTED = (
    "members",
    "memberships",
    "activity_daily",
    "coupons",
    "member_tags",
    "tag_events",
    "orders",
    "desk_tickets",
    "daily_rollups",
)


async def holders(session: AsyncSession, user_id: int) -> list[str]:
    """Every ``table.column`` still holding ``user_id``: integer columns equal to it, text and
    JSON columns naming it (its digits as a whole number)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Integer):
                hit = cast(column, BigInteger) == user_id
                count = (await session.execute(select(func.count()).where(hit))).scalar_one()
            else:
                text = cast(column, String)
                rows = await session.execute(select(text).where(text.contains(str(user_id))))
                count = sum(1 for (value,) in rows.all() if names(str(value), user_id))
            if count:
                found.append(f"{table.name}.{column.name} ({count})")
    return found


async def counts(session: AsyncSession) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in COUNTED:
        table = Base.metadata.tables[name]
        out[name] = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    out["messages"] = (
        await session.execute(select(func.sum(Base.metadata.tables["activity_daily"].c.messages)))
    ).scalar_one()
    return out


async def _kpi(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock) -> str:
    """/kpi's figures for today."""
    before = len(sandbox.sent_messages(OPERATOR))
    sandbox.user_sends(OPERATOR, "/kpi")
    await run_clock(app, sandbox, clock, 3)
    text = "\n".join(m.text for m in sandbox.sent_messages(OPERATOR)[before:])
    # not compared: the DMs sent since (the confirm and the farewell among them) are new, and
    # the erasure closed her open ticket (a resolution)
    new = ("DMs delivered", "Resolution median")
    return "\n".join(line for line in text.splitlines() if not any(n in line for n in new))


async def _a_full_member(app: SopBot, sandbox: TelegramSandbox, clock: ManualClock) -> None:
    """REAL and OTHER with a bit of everything: the gift coupon, a stint, messages in the
    community, tags and their history, an order, a desk ticket, an export, /member."""
    for uid, name in ((REAL, "Rita"), (OTHER, "Otto")):
        sandbox.add_user(uid, name, username=f"{name.lower()}_x", language_code="en")
        sandbox.world.dm_allowed.add(uid)
        await _say(app, sandbox, clock, uid, "/start")
        sandbox.user_joins(COMMUNITY, uid)
        for n in range(3):
            sandbox.user_sends(uid, f"hello {n}", chat_id=COMMUNITY)
        await settle(app, sandbox)
        await _say(app, sandbox, clock, uid, "I need help with my order, please")
    async with app.db.transaction() as session:
        now = clock.now()
        for uid in (REAL, OTHER):
            session.add(MemberTag(user_id=uid, tag="interest:tea", added_at=now, added_by="test"))
            session.add(TagEvent(user_id=uid, tag="interest:tea", action="added", at=now, by="t"))
            session.add(
                Order(
                    order_id=f"o-{uid % 1000}",
                    user_id=uid,
                    amount_minor=990,
                    currency="CNY",
                    ordered_at=now,
                    received_at=now,
                    via="api",
                )
            )
    await _say(app, sandbox, clock, REAL, "/mydata")
    sandbox.user_sends(OPERATOR, f"/member {REAL}")
    await run_clock(app, sandbox, clock, 3)


async def _pseudonym(session: AsyncSession) -> int:
    [pseudonym] = (await session.execute(select(Member.user_id).where(Member.user_id < 0))).all()
    return int(pseudonym[0])


async def test_forget_leaves_no_trace_of_the_id_and_the_counts_stand(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _a_full_member(app, sandbox, clock)
    async with app.sessions() as session:
        assert await holders(session, REAL)  # the scan sees the id while it is there
        before = await counts(session)
        others = await holders(session, OTHER)
    kpi = await _kpi(app, sandbox, clock)
    [confirm] = await _say(app, sandbox, clock, REAL, "/forget")
    assert "Erased" in await _press(app, sandbox, REAL, confirm, _data(confirm, "pv:forget:"))
    await run_clock(app, sandbox, clock, 5)
    assert "erased" in sandbox.sent_messages(REAL)[-1].text  # the farewell went to her
    async with app.sessions() as session:
        assert await holders(session, REAL) == []
        assert await counts(session) == before
        pseudonym = await _pseudonym(session)
        assert pseudonym < -FLOOR
        coupons = (await session.execute(select(Coupon).where(Coupon.user_id == pseudonym))).all()
        assert coupons  # her gift coupon stays, void, counted
        assert await holders(session, OTHER) == others  # nobody else's rows were touched
    assert await _kpi(app, sandbox, clock) == kpi
    # /start anew: a new member, as if never seen
    [*answers] = await _say(app, sandbox, clock, REAL, "/start")
    assert answers and "/privacy" in answers[0].text  # the notice again: a first DM
    async with app.sessions() as session:
        rita = await session.get(Member, REAL)
        assert rita is not None and rita.erased_at is None and rita.first_name == "Rita"
        assert (await counts(session))["members"] == before["members"] + 1


async def test_retention_pseudonymises_the_id_away_too(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await _a_full_member(app, sandbox, clock)
    async with app.db.transaction() as session:
        rita = await session.get(Member, REAL)
        assert rita is not None
        rita.last_seen_at = clock.now() - timedelta(days=400)
    async with app.sessions() as session:
        before = await counts(session)
    kpi = await _kpi(app, sandbox, clock)
    async with app.jobs.services() as services:
        done = await services.privacy.pseudonymise_stale(clock.now(), timedelta(days=365), 10)
    assert done == 1
    await run_clock(app, sandbox, clock, 3)
    async with app.sessions() as session:
        assert await holders(session, REAL) == []
        assert await counts(session) == before
        await _pseudonym(session)
    assert await _kpi(app, sandbox, clock) == kpi
    # not on the suppression list (she asked for nothing): her next message is a new member's
    sandbox.user_sends(REAL, "hello again", chat_id=COMMUNITY)
    await run_clock(app, sandbox, clock, 3)
    async with app.sessions() as session:
        rita = await session.get(Member, REAL)
        assert rita is not None and rita.erased_at is None and rita.first_name == "Rita"


async def test_the_daily_pass_rekeys_erased_members_still_keyed_by_their_id(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """Erased before ids were pseudonymised (or seen again before a /start): the retention
    loop gives them a pseudonym too, with or without ``privacy.retention``."""
    await _a_full_member(app, sandbox, clock)
    async with app.db.transaction() as session:
        rita = await session.get(Member, REAL)
        assert rita is not None
        rita.first_name, rita.username, rita.erased_at = "", None, clock.now()
    async with app.sessions() as session:
        before = await counts(session)
        others = await holders(session, OTHER)
    await run_retention(app.jobs)
    async with app.sessions() as session:
        assert await holders(session, REAL) == []
        assert await counts(session) == before
        await _pseudonym(session)
        assert await holders(session, OTHER) == others
