"""A promotion copied from a message (issue 15, "Promotions"): Telegram's copyMessage keeps a
text message's text (its ``caption`` parameter is for media), so the bot cannot add the ad
label to a copy. A promotional copy without the label is refused at the preview (Cancel only,
a forged Send refused); one whose text or caption carries the label goes. On SQLite and
PostgreSQL."""

from __future__ import annotations

from bot.app import SopBot
from sandbox import SentMessage, TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR
from tests.e2e.helpers import copies, run_clock, seed, settle, until
from tests.e2e.test_privacy import _press, config  # noqa: F401  (its config)

MEMBERS = [8601, 8602]


async def _promotion(
    app: SopBot, sandbox: TelegramSandbox, text: str, *, photo: bool = False
) -> SentMessage:
    """The operator writes ``text`` (a photo's caption with ``photo``) and replies to it with
    ``/broadcast all ad``; returns the new card."""
    cards = len(sandbox.sent_messages(OPERATOR))
    if photo:
        sandbox.user_sends_media(OPERATOR, "photo", text)
    else:
        sandbox.user_sends(OPERATOR, text)
    source = max(k[1] for k in sandbox.world.messages if k[0] == OPERATOR)
    await settle(app, sandbox)
    sandbox.user_sends(OPERATOR, "/broadcast all ad", reply_to_message_id=source)

    def new() -> list[SentMessage]:
        return [m for m in sandbox.sent_messages(OPERATOR)[cards:] if "bc:" in str(m.reply_markup)]

    await until(app, sandbox, lambda: bool(new()))
    return new()[-1]


def _buttons(card: SentMessage) -> list[str]:
    rows = (card.reply_markup or {}).get("inline_keyboard", [])
    return [str(b.get("callback_data", "")) for row in rows for b in row]


async def test_an_unlabelled_promotional_copy_is_refused_a_labelled_one_goes(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    await seed(app, sandbox, MEMBERS)
    for text, photo in (
        ("Big sale this weekend", False),
        ("New menu, 20% off", True),
        ("Add to cart: Adidas at half price", False),  # "Ad" inside words is no label
    ):
        card = await _promotion(app, sandbox, text, photo=photo)
        assert "no ad label" in card.text
        buttons = _buttons(card)
        assert not [b for b in buttons if b.startswith("bc:send:")]  # Cancel only
        forged = next(b for b in buttons if b.startswith("bc:")).replace("cancel", "send")
        assert "refused" in await _press(app, sandbox, OPERATOR, card, forged)
    await run_clock(app, sandbox, clock, 5)
    assert not copies(sandbox, MEMBERS)  # nothing went
    # the label written into the message: the preview has Send, the copies go
    card = await _promotion(app, sandbox, "[Ad] Big sale this weekend")
    assert "no ad label" not in card.text
    send = next(b for b in _buttons(card) if b.startswith("bc:send:"))
    await _press(app, sandbox, OPERATOR, card, send)
    await run_clock(app, sandbox, clock, 10)
    assert copies(sandbox, MEMBERS) == {uid: 1 for uid in MEMBERS}
