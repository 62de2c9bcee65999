"""The value-tier loop in the running bot: members met through the sandbox, an order from a
shop, tags written at the configured local time and moved as time passes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import SopBot
from bot.db.models import MemberTag, Via
from bot.services.commerce.orders import OrderService, parse_order
from bot.services.members.tiers import HIGH_VALUE, POTENTIAL, SILENT
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY
from tests.e2e.helpers import settle


async def _tier_tags(app: SopBot) -> dict[int, str]:
    async with app.db.sessions() as session:
        rows = (
            await session.execute(
                select(MemberTag.user_id, MemberTag.tag).where(MemberTag.tag.like("tier:%"))
            )
        ).all()
    return {uid: tag for uid, tag in rows}


async def test_tiers_follow_spend_and_silence(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    for uid in (8001, 8002):
        sandbox.add_user(uid, f"T{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)
    sandbox.user_sends(8001, "hello everyone", chat_id=COMMUNITY)
    await settle(app, sandbox)
    config = app.config.current
    async with app.db.transaction() as session:
        order = parse_order(
            {
                "order_id": "BIG-1",
                "member_id": 8002,
                "amount": "2000",
                "time": clock.now().isoformat(),
            },
            config.tz,
        )
        await OrderService(session, config).record(order, clock.now(), via=Via.API)

    clock.advance(timedelta(hours=19, minutes=5))  # 04:05 the next day in Shanghai
    await settle(app, sandbox)
    assert await _tier_tags(app) == {8001: POTENTIAL, 8002: HIGH_VALUE}

    for _ in range(23):  # three months without a word (the daily pass runs at each step)
        clock.advance(days=4)
        await settle(app, sandbox)
    assert await _tier_tags(app) == {8001: SILENT, 8002: HIGH_VALUE}
