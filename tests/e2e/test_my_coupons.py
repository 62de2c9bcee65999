"""``/mycoupons`` end to end: a member sees their own codes with status and expiry, in their
language, by DM only; nobody else's codes ever; in a community the answer goes by DM, or the
group gets a pointer to the private chat (no code) at most once an hour."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from bot.db.models import Coupon, IssuedBy, Via
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, CONFIG_YAML
from tests.e2e.helpers import seed, settle

ANN, BOB, CID, DAN = 7101, 7102, 7103, 7104
#: codes shaped like the bot's (the alphabet has no 0 O 1 I L)
CODES = {
    "ann_open": "AAAAA-BBBBB-CCCCC",
    "ann_vip": "AAAAA-BBBBB-DDDDD",
    "ann_used": "AAAAA-BBBBB-EEEEE",
    "ann_expired": "AAAAA-BBBBB-FFFFF",
    "ann_void": "AAAAA-BBBBB-GGGGG",
    "bob_open": "BBBBB-CCCCC-DDDDD",
    "dan_open": "DDDDD-EEEEE-FFFFF",
}


@pytest.fixture
def config() -> CommunityConfig:
    text = (
        CONFIG_YAML
        + """  vip:
    title: VIP day
    discount: "¥30"
    valid_days: 30
    per_member: 3
  long:
    title: "LONG_TITLE"
    discount: "LONG_DISCOUNT"
    valid_days: 30
    per_member: 30
"""
    )
    text = text.replace("LONG_TITLE", "L" * 300).replace("LONG_DISCOUNT", "¥" * 100)
    return parse_config(text, "tests/e2e/test_my_coupons.py")


async def _give(app: SopBot, *users: int) -> None:
    """Ann: open (two campaigns), redeemed, expired and void (a campaign no longer in the
    config); Bob and Dan an open code each; Cid none."""
    now = app.clock.now()
    rows = [
        (ANN, "ann_open", "newcomer", now - timedelta(days=1), now + timedelta(days=6), None),
        (ANN, "ann_vip", "vip", now - timedelta(days=2), now + timedelta(days=28), None),
        (ANN, "ann_used", "vip", now - timedelta(days=5), now + timedelta(days=25), now),
        (ANN, "ann_expired", "vip", now - timedelta(days=40), now - timedelta(days=10), None),
        (ANN, "ann_void", "spring", now - timedelta(days=3), now + timedelta(days=9), None),
        (BOB, "bob_open", "newcomer", now - timedelta(days=1), now + timedelta(days=6), None),
        (DAN, "dan_open", "vip", now - timedelta(days=1), now + timedelta(days=29), None),
    ]
    async with app.db.transaction() as session:
        for user, name, campaign, issued, expires, redeemed in rows:
            if user not in users:
                continue
            session.add(
                Coupon(
                    code=CODES[name],
                    campaign=campaign,
                    user_id=user,
                    issued_by=IssuedBy.OPERATOR,
                    issued_at=issued,
                    expires_at=expires,
                    redeemed_at=redeemed,
                    redeemed_via=Via.OPERATOR if redeemed else None,
                )
            )


async def _ask(
    app: SopBot,
    sandbox: TelegramSandbox,
    clock: ManualClock,
    user: int,
    chat_id: int | None = None,
) -> None:
    clock.advance(seconds=2)
    sandbox.user_sends(user, "/mycoupons", chat_id=chat_id)
    await settle(app, sandbox)


def _others(user: int) -> list[str]:
    prefix = {ANN: "ann", BOB: "bob", DAN: "dan"}.get(user, "")
    return [code for name, code in CODES.items() if not name.startswith(prefix + "_") or not prefix]


async def test_a_member_sees_only_their_codes_with_statuses(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await seed(app, sandbox, [ANN, DAN])
    await seed(app, sandbox, [BOB], language="zh")
    await _give(app, ANN, BOB, DAN)
    await _ask(app, sandbox, clock, ANN)
    [answer] = sandbox.sent_messages(ANN)
    text = re.sub(r"<[^>]+>", "", answer.text)  # as the member reads it
    for name in ("ann_open", "ann_vip", "ann_used", "ann_expired", "ann_void"):
        assert CODES[name] in text
    for code in _others(ANN):
        assert code not in text
    lines = {line.split(" — ")[0].split()[-1]: line for line in text.splitlines() if " — " in line}
    assert "valid until" in lines[CODES["ann_open"]] and "20%" in lines[CODES["ann_open"]]
    assert "VIP day" in lines[CODES["ann_vip"]] and "¥30" in lines[CODES["ann_vip"]]
    assert "used on" in lines[CODES["ann_used"]]
    assert "expired on" in lines[CODES["ann_expired"]]
    assert "void" in lines[CODES["ann_void"]]
    assert "2 ready to use" in text
    # open codes first, the soonest to expire first
    order = [line.split(" — ")[0].split()[-1] for line in text.splitlines() if " — " in line]
    assert order[:2] == [CODES["ann_open"], CODES["ann_vip"]]

    await _ask(app, sandbox, clock, BOB)  # in Chinese, his only
    [answer] = sandbox.sent_messages(BOB)
    assert "你的优惠券" in answer.text and CODES["bob_open"] in answer.text
    assert all(code not in answer.text for code in _others(BOB))


async def test_a_member_with_no_codes_gets_a_clear_line(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await seed(app, sandbox, [ANN, CID])
    await _give(app, ANN)
    await _ask(app, sandbox, clock, CID)
    [answer] = sandbox.sent_messages(CID)
    assert "You have no coupon codes yet" in answer.text
    assert all(code not in answer.text for code in CODES.values())


async def test_in_a_community_by_dm_or_a_pointer_never_a_code(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await seed(app, sandbox, [ANN])
    await seed(app, sandbox, [DAN], reachable=False)  # in the ledger, never started the bot
    await _give(app, ANN, DAN)
    for user in (ANN, DAN):
        sandbox.user_joins(COMMUNITY, user)
    await settle(app, sandbox)

    def pointers() -> list[str]:
        return [m.text for m in sandbox.sent_messages(COMMUNITY) if "/mycoupons" in m.text]

    await _ask(app, sandbox, clock, ANN, chat_id=COMMUNITY)
    [answer] = [m for m in sandbox.sent_messages(ANN) if "Your coupon codes" in m.text]
    assert CODES["ann_open"] in answer.text
    assert pointers() == []  # a member the bot may write to: by DM, nothing in the group

    await _ask(app, sandbox, clock, DAN, chat_id=COMMUNITY)
    assert len(pointers()) == 1
    await _ask(app, sandbox, clock, DAN, chat_id=COMMUNITY)  # again within the hour: silence
    assert len(pointers()) == 1
    group = " ".join(m.text for m in sandbox.sent_messages(COMMUNITY))
    assert all(code not in group for code in CODES.values())
    assert sandbox.sent_messages(DAN) == []


async def test_help_lists_mycoupons(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await seed(app, sandbox, [ANN])
    clock.advance(seconds=2)
    sandbox.user_sends(ANN, "/help")
    await settle(app, sandbox)
    [answer] = sandbox.sent_messages(ANN)
    assert "/mycoupons" in answer.text


async def test_many_codes_with_long_titles_fit_one_message(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    """25 codes of a campaign with a 300-character title: the 20 soonest to expire are listed
    (titles cut), the rest counted, in one message Telegram takes."""
    await seed(app, sandbox, [CID])
    now = app.clock.now()
    async with app.db.transaction() as session:
        for n in range(25):
            session.add(
                Coupon(
                    code=f"LNG{n:02d}-KKKKK-MMMMM",
                    campaign="long",
                    user_id=CID,
                    issued_by=IssuedBy.HOOK,
                    issued_at=now - timedelta(days=1),
                    expires_at=now + timedelta(days=1 + n),
                )
            )
    await _ask(app, sandbox, clock, CID)
    [answer] = sandbox.sent_messages(CID)
    shown = [n for n in range(25) if f"LNG{n:02d}-" in answer.text]
    assert shown == list(range(20))
    assert "… and 5 older code(s)" in answer.text and "L" * 63 + "…" in answer.text
