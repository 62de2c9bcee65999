"""Hostile and odd input end to end: the real bot, the sandbox, real HTTP, a virtual clock.

The standard: bad input gets a clear answer and nothing is lost. Stickers, edits, huge texts,
unknown chats and crafted deep links crash nothing and show no traceback; operator templates
render in Jinja2's sandbox, and one that fails sends nothing broken and tells the team once.
Each test ends by checking the bot still works (a newcomer's ``/start`` still gets the gift).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.db.models import (
    ActivityDaily,
    Coupon,
    DailyRollup,
    Member,
    Membership,
    OutboxMessage,
    ProcessedUpdate,
)
from bot.rendering import BUILTIN_TEMPLATES, Renderer
from sandbox import TelegramSandbox
from sandbox.html import parse_html
from sop.clock import ManualClock
from tests.conftest import COMMUNITY, OPERATOR, TEAM_CHAT, settings_for
from tests.e2e.helpers import settle

CODE = re.compile(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}")
SAFE_SOURCE = re.compile(r"[A-Za-z0-9_\-]{1,64}|invalid:[A-Za-z0-9_\-]{0,56}")
UNKNOWN_GROUP = -1009999
HUGE = ("長文 <b>not bold</b> & " * 600)[:10_000]
#: what the bot must never show a member
LEAKS = ("Traceback", "Error", "<class", "__subclasses__", "__mro__", "object at 0x")


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def crashes(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Errors logged while handling updates (the bot's error handler, aiogram's own)."""
    caplog.set_level(logging.INFO)

    def found() -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in caplog.records
            if r.levelno >= logging.ERROR and r.name.startswith(("handlers", "aiogram.event"))
        ]

    return found


def no_leaks(sandbox: TelegramSandbox) -> None:
    """Every message the bot sent parsed as Telegram HTML; none but the team's shows anything
    internal (the team chat is told what failed, in escaped detail)."""
    assert sandbox.count_errors(400) == 0, [c for c in sandbox.calls if c.error_code == 400]
    for message in sandbox.sent_messages():
        if message.chat_id == TEAM_CHAT:
            continue
        shown = parse_html(message.text).text if message.parse_mode == "HTML" else message.text
        assert not any(leak in shown for leak in LEAKS), shown


async def gift_still_works(sandbox: TelegramSandbox, uid: int, name: str = "Later") -> str:
    """A newcomer's ``/start`` still gets one gift DM with a code; returns its text."""
    sandbox.add_user(uid, name, language_code="zh")
    sandbox.user_sends(uid, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(uid)) == 1)
    text = sandbox.sent_messages(uid)[0].text
    assert CODE.search(text), text
    return text


def user_sends_photo(
    sandbox: TelegramSandbox, uid: int, chat_id: int | None = None, caption: str | None = None
) -> dict[str, Any]:
    """The sandbox has no photo action: build the message as Telegram would."""
    world = sandbox.world
    if chat_id is None:
        world.dm_allowed.add(uid)  # writing to the bot lets it answer
    chat = world.private_chat(uid) if chat_id is None else world.group(chat_id)
    photo = [
        {
            "file_id": f"AgACAg{uid}{size}",
            "file_unique_id": f"u{uid}{size}",
            "width": size,
            "height": size,
        }
        for size in (90, 320, 1280)
    ]
    message = world.new_message(chat, world.user(uid), photo=photo, caption=caption)
    return world.updates.push("message", message)


async def activity(app: SopBot, chat_id: int, uid: int) -> int:
    async with app.sessions() as session:
        rows = (
            (
                await session.execute(
                    select(ActivityDaily.messages).where(
                        ActivityDaily.chat_id == chat_id, ActivityDaily.user_id == uid
                    )
                )
            )
            .scalars()
            .all()
        )
    return sum(rows)


async def count(app: SopBot, model: Any, *where: Any) -> int:
    async with app.sessions() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


# -- stickers, photos, edits, huge texts --------------------------------------------------------


async def test_stickers_in_the_group_count_as_activity(
    app: SopBot, sandbox: TelegramSandbox, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_user(20_001, "Sticky")
    sandbox.user_sends_sticker(20_001, chat_id=COMMUNITY)
    sandbox.user_sends_sticker(20_001, chat_id=COMMUNITY)
    user_sends_photo(sandbox, 20_001, COMMUNITY, caption="<i>look</i>")
    await settle(app, sandbox)

    assert await activity(app, COMMUNITY, 20_001) == 3
    async with app.sessions() as session:
        member = await session.get(Member, 20_001)
    assert member is not None and member.last_seen_at is not None
    assert sandbox.sent_messages() == []  # activity is counted, never answered
    assert crashes() == []
    await gift_still_works(sandbox, 20_002)


async def test_stickers_and_photos_in_private_get_no_traceback(
    app: SopBot, sandbox: TelegramSandbox, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_user(20_101, "Pic", language_code="zh")
    sandbox.user_sends_sticker(20_101)
    user_sends_photo(sandbox, 20_101)
    user_sends_photo(sandbox, 20_101, caption="/start <script>")  # a caption is not a command
    await settle(app, sandbox)

    assert crashes() == []
    no_leaks(sandbox)
    assert await count(app, ActivityDaily) == 0  # a private chat is no community
    # the same member starts the bot afterwards: the gift pack as for anyone
    sandbox.user_sends(20_101, "/start")
    await sandbox.wait_for(lambda: any(CODE.search(m.text) for m in sandbox.sent_messages(20_101)))
    await settle(app, sandbox)
    no_leaks(sandbox)


async def test_edited_messages_are_ignored(
    app: SopBot, sandbox: TelegramSandbox, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_user(20_201, "Editor")
    sent = sandbox.user_sends(20_201, "hello", chat_id=COMMUNITY)
    private = sandbox.user_sends(20_201, "hi bot")["message"]["message_id"]
    # fetched before they are edited: the sandbox edits the very dict a queued update holds
    await settle(app, sandbox)
    assert await activity(app, COMMUNITY, 20_201) == 1

    # the bot does not ask for edited_message: Telegram (and the sandbox) drop these
    group_message = sent["message"]["message_id"]
    sandbox.user_edits(20_201, COMMUNITY, group_message, "/kpi")
    sandbox.user_edits(20_201, COMMUNITY, group_message, HUGE)
    sandbox.user_edits(20_201, 20_201, private, "/start <script>alert(1)</script>")
    await settle(app, sandbox)

    assert await activity(app, COMMUNITY, 20_201) == 1  # an edit is not a second message
    # no refusal, no gift for an edit ("hi bot" itself is a conversation: relayed to the team)
    assert [m for m in sandbox.sent_messages() if m.chat_id != TEAM_CHAT] == []
    async with app.sessions() as session:
        member = await session.get(Member, 20_201)
    assert member is not None and member.source is None and member.started_at is None
    assert crashes() == []
    await gift_still_works(sandbox, 20_202)


async def test_ten_thousand_characters_in_the_group_and_in_private(
    app: SopBot, sandbox: TelegramSandbox, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_user(20_301, "Verbose")
    sandbox.user_sends(20_301, HUGE, chat_id=COMMUNITY)
    sandbox.user_sends(20_301, HUGE)
    sandbox.user_sends(20_301, "/kpi " + HUGE, chat_id=COMMUNITY)  # not an operator
    await settle(app, sandbox)

    assert await activity(app, COMMUNITY, 20_301) == 1  # the command is no chatter
    # they wrote to the bot in private (a conversation, relayed to the team), so the bot may DM
    # them: the one refusal goes there rather than into the group
    refusals = sandbox.sent_messages(COMMUNITY) + sandbox.sent_messages(20_301)
    assert len(refusals) == 1 and not re.search(r"\d", parse_html(refusals[0].text).text)
    no_leaks(sandbox)
    assert crashes() == []
    await gift_still_works(sandbox, 20_302)


# -- chats that are not in the config -----------------------------------------------------------


async def test_messages_from_an_unknown_group_are_ignored(
    app: SopBot, sandbox: TelegramSandbox, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_chat(UNKNOWN_GROUP, "supergroup", "Somebody else's group")
    sandbox.add_user(20_401, "Stranger")
    sandbox.user_joins(UNKNOWN_GROUP, 20_401, invite_link="https://t.me/+elsewhere")
    sandbox.user_sends(20_401, "hello", chat_id=UNKNOWN_GROUP)
    sandbox.user_sends(20_401, HUGE, chat_id=UNKNOWN_GROUP)
    sandbox.user_sends_sticker(20_401, chat_id=UNKNOWN_GROUP)
    sandbox.user_sends(20_401, "/start src_elsewhere", chat_id=UNKNOWN_GROUP)
    sandbox.user_leaves(UNKNOWN_GROUP, 20_401)
    sandbox.join_request(UNKNOWN_GROUP, 20_401)
    await settle(app, sandbox)

    assert sandbox.sent_messages(UNKNOWN_GROUP) == []
    assert sandbox.sent_messages(20_401) == []
    assert sandbox.approved_requests == [] and sandbox.declined_requests == []
    assert await count(app, Member, Member.user_id == 20_401) == 0
    assert await count(app, ActivityDaily) == 0
    assert await count(app, Membership) == 0
    assert await count(app, DailyRollup, DailyRollup.chat_id == UNKNOWN_GROUP) == 0
    assert crashes() == []
    await gift_still_works(sandbox, 20_402)


async def test_team_commands_in_an_unknown_group_send_nothing_there(
    app: SopBot, sandbox: TelegramSandbox, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_chat(UNKNOWN_GROUP, "supergroup", "Somebody else's group")
    sandbox.add_user(20_501, "Stranger")
    sandbox.user_sends(20_501, "/kpi", chat_id=UNKNOWN_GROUP)
    sandbox.user_sends(OPERATOR, "/kpi", chat_id=UNKNOWN_GROUP)
    await settle(app, sandbox)

    # no refusal, and above all no figures, in a chat the config does not know
    assert [m.text for m in sandbox.sent_messages(UNKNOWN_GROUP)] == []
    assert crashes() == []
    sandbox.user_sends(OPERATOR, "/kpi")  # the operator still gets figures in private
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) == 1)


# -- crafted deep links -------------------------------------------------------------------------

HOSTILE_PAYLOADS = {
    "5000 chars": "A" * 5000,
    "script tag": "<script>alert(1)</script>",
    "html link": '<b>x</b><a href="javascript:alert(1)">click</a></a>&amp;',
    "sql": "'; DROP TABLE members; --",
    "sql or": "1' OR '1'='1",
    "emoji rtl zero-width": "😀\u202eRTL\u200bzero\u200dwidth\ufeff",
    "newlines": "line1\nline2\r\n/kpi\n<b>",
    "nul byte": "src\x00evil",
    "jinja": "{{ 7*7 }}{% for x in range(9999999) %}x{% endfor %}",
    "too long but clean": "src_" + "a" * 100,
    "gift zero-width": "gift\u200b",
    "gift fullwidth": "ｇｉｆｔ",
    "gift cyrillic": "gіft",
    "gift twice": "gift gift",
    "gift tag": "gift<b>",
}
ECHO_MARKERS = ("<script", "alert(", "DROP TABLE", "javascript:", "{{", "RTL", "line2", "evil")


async def test_hostile_deep_link_payloads_are_recorded_safely_and_still_get_the_gift(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, crashes: Callable[[], list[str]]
) -> None:
    users = {}
    for n, (name, payload) in enumerate(HOSTILE_PAYLOADS.items()):
        uid = 21_000 + n
        users[name] = uid
        sandbox.add_user(uid, f"H{n}", language_code="zh" if n % 2 else "en")
        sandbox.user_sends(uid, f"/start {payload}")
    await sandbox.wait_for(
        lambda: all(len(sandbox.sent_messages(uid)) == 1 for uid in users.values()), timeout=15
    )
    await settle(app, sandbox)

    async with app.sessions() as session:
        for name, uid in users.items():
            member = await session.get(Member, uid)
            assert member is not None, name
            assert member.dm_allowed and member.started_at is not None, name
            assert member.source is not None and member.source_kind == "deeplink", name
            assert SAFE_SOURCE.fullmatch(member.source), (name, member.source)
            dm = sandbox.sent_messages(uid)
            assert len(dm) == 1 and CODE.search(dm[0].text), (name, dm)
            assert not any(marker in dm[0].text for marker in ECHO_MARKERS), (name, dm[0].text)
    sources: dict[str, str | None] = {}
    async with app.sessions() as session:
        for name, uid in users.items():
            member = await session.get(Member, uid)
            assert member is not None, name
            sources[name] = member.source
    assert sources["5000 chars"] == "invalid:" + "A" * 56
    assert (sources["too long but clean"] or "").startswith("invalid:src_aaa")
    assert sources["nul byte"] == "invalid:srcevil"
    assert sources["gift zero-width"] == "invalid:gift"
    assert sources["gift fullwidth"] == "invalid:"
    assert all(s is not None and s.startswith("invalid") for s in sources.values()), sources
    assert await count(app, Coupon) == len(users)  # one gift pack each, no more
    no_leaks(sandbox)
    assert crashes() == []

    # a returning member with a crafted payload: a plain answer, their first source kept
    uid = users["script tag"]
    await settle(app, sandbox)  # the last send settled before time moves
    clock.advance(seconds=2)  # one message a second to a private chat
    sandbox.user_sends(uid, "/start <img src=x onerror=alert(1)>")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(uid)) == 2)
    await settle(app, sandbox)
    async with app.sessions() as session:
        member = await session.get(Member, uid)
    assert member is not None and member.source == "invalid:scriptalert1script"
    no_leaks(sandbox)
    await gift_still_works(sandbox, 21_999)


# -- names that look like markup ----------------------------------------------------------------

HOSTILE_NAME = '<b>Bob</b> & </a><script>"x"</script> {{ 7*7 }}'


async def test_a_name_with_markup_is_escaped_in_the_greeting_and_the_gift(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_user(22_001, HOSTILE_NAME, language_code="en")
    sandbox.add_user(22_002, "&amp; </b>", language_code="zh")
    sandbox.user_joins(COMMUNITY, 22_001)
    sandbox.user_joins(COMMUNITY, 22_002)
    await settle(app, sandbox)
    clock.advance(minutes=2)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    await settle(app, sandbox)

    assert sandbox.count_errors(400) == 0
    greeting = sandbox.sent_messages(COMMUNITY)[0]
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; &lt;/a&gt;&lt;script&gt;" in greeting.text
    assert "<b>Bob</b>" not in greeting.text and "<script>" not in greeting.text
    shown = parse_html(greeting.text)
    mentions = {
        e["url"]: shown.text.encode("utf-16-le")[
            2 * e["offset"] : 2 * (e["offset"] + e["length"])
        ].decode("utf-16-le")
        for e in shown.entities
        if e["type"] == "text_link"
    }
    assert mentions == {"tg://user?id=22001": HOSTILE_NAME, "tg://user?id=22002": "&amp; </b>"}
    assert "49" not in shown.text  # a name is data, never a template

    sandbox.user_sends(22_001, "/start gift")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(22_001)) == 1)
    dm = parse_html(sandbox.sent_messages(22_001)[0].text)
    assert HOSTILE_NAME in dm.text and CODE.search(dm.text)
    no_leaks(sandbox)
    assert crashes() == []


# -- operator templates that fail -----------------------------------------------------------------

BROKEN_TEMPLATES = {
    "undefined": "{{ undefined_var.x }}",
    "division": "Hi {{ name }} {{ 1/0 }}",
    "mro escape": "{{ ''.__class__.__mro__ }}",
    "subclasses escape": "{{ ().__class__.__base__.__subclasses__() }}",
    "globals escape": "{{ cycler.__init__.__globals__.os.getcwd() }}",
    "syntax": "{% for x in %}",
    "too long": "{% for i in range(5000) %}xx{% endfor %}",
}


def operator_templates(root: Path, files: dict[str, str]) -> Renderer:
    """A renderer with an operator folder (``zh/<name>.html.j2``) before the built-in one."""
    for name, body in files.items():
        path = root / "zh" / f"{name}.html.j2"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return Renderer(roots=[root, BUILTIN_TEMPLATES], default_locale="zh")


@pytest.fixture
async def bot_with(
    sandbox: TelegramSandbox, config: CommunityConfig, clock: ManualClock, database_url: str
) -> AsyncIterator[Callable[[Renderer], Any]]:
    """Starts a bot with the given renderer (stopped at the end)."""
    started: list[SopBot] = []

    async def start(renderer: Renderer) -> SopBot:
        app = SopBot(
            settings_for(sandbox.url, database_url),
            config,
            clock=clock,
            renderer=renderer,
            polling_timeout=1,
        )
        await app.start()
        started.append(app)
        return app

    yield start
    for app in started:
        await app.stop()


@pytest.mark.parametrize("body", BROKEN_TEMPLATES.values(), ids=BROKEN_TEMPLATES.keys())
async def test_a_broken_gift_template_sends_nothing_and_tells_the_team_once(
    body: str,
    bot_with: Callable[[Renderer], Any],
    sandbox: TelegramSandbox,
    tmp_path: Path,
    crashes: Callable[[], list[str]],
) -> None:
    app: SopBot = await bot_with(operator_templates(tmp_path, {"welcome_dm": body}))
    for uid in (23_001, 23_002):
        sandbox.add_user(uid, f"Z{uid}", language_code="zh")
        sandbox.user_sends(uid, "/start src_ads")
    await settle(app, sandbox)

    assert sandbox.sent_messages(23_001) == [] and sandbox.sent_messages(23_002) == []
    notices = sandbox.sent_messages(TEAM_CHAT)
    assert len(notices) == 1, [n.text for n in notices]
    assert "welcome_dm" in notices[0].text
    async with app.sessions() as session:
        member = await session.get(Member, 23_001)
    assert member is not None and member.source == "src_ads"  # the update itself went through
    assert member.gift_sent_at is None  # owed, not marked as given

    # the loop and the update handling live on: a third failure, a team command
    sandbox.add_user(23_003, "Third", language_code="zh")
    sandbox.user_sends(23_003, "/start")
    sandbox.user_sends(OPERATOR, "/kpi")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(OPERATOR)) == 1)
    await settle(app, sandbox)
    assert len(sandbox.sent_messages(TEAM_CHAT)) == 1  # still once, not once per user
    assert sandbox.sent_messages(23_003) == []
    no_leaks(sandbox)
    assert crashes() == []


async def test_a_fixed_gift_template_delivers_the_withheld_gift(
    bot_with: Callable[[Renderer], Any],
    sandbox: TelegramSandbox,
    tmp_path: Path,
    crashes: Callable[[], list[str]],
) -> None:
    app: SopBot = await bot_with(operator_templates(tmp_path, {"welcome_dm": "{{ oops.x }}"}))
    sandbox.add_user(23_101, "Patient", language_code="zh")
    sandbox.user_sends(23_101, "/start")
    await settle(app, sandbox)
    assert sandbox.sent_messages(23_101) == []

    fixed = tmp_path / "zh" / "welcome_dm.html.j2"
    fixed.write_text("Fixed for {{ name }}: <code>{{ coupon.code }}</code>", encoding="utf-8")
    stat = fixed.stat()
    os.utime(fixed, (stat.st_atime + 10, stat.st_mtime + 10))  # Jinja reloads on a newer mtime
    sandbox.user_sends(23_101, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(23_101)) == 1)
    await settle(app, sandbox)

    text = sandbox.sent_messages(23_101)[0].text
    async with app.sessions() as session:
        coupons = (await session.execute(select(Coupon))).scalars().all()
    assert [c.code for c in coupons] == [CODE.search(text).group(0)]  # type: ignore[union-attr]
    assert text.startswith("Fixed for Patient")
    assert crashes() == []


async def test_a_broken_group_greeting_keeps_the_welcome_loop_alive(
    bot_with: Callable[[Renderer], Any],
    sandbox: TelegramSandbox,
    clock: ManualClock,
    tmp_path: Path,
    crashes: Callable[[], list[str]],
) -> None:
    app: SopBot = await bot_with(
        operator_templates(tmp_path, {"welcome": "{{ members[0].name.__class__.__mro__ }}"})
    )
    for uid in (23_201, 23_202):
        sandbox.add_user(uid, f"G{uid}")
        sandbox.user_joins(COMMUNITY, uid)
    await settle(app, sandbox)
    for _ in range(4):  # the batch window closes, the loop looks again
        clock.advance(minutes=3)
        await settle(app, sandbox)
    sandbox.add_user(23_203, "G23203")
    sandbox.user_joins(COMMUNITY, 23_203)
    clock.advance(minutes=3)
    await settle(app, sandbox)

    assert sandbox.sent_messages(COMMUNITY) == []
    assert len(sandbox.sent_messages(TEAM_CHAT)) == 1
    assert "welcome" in sandbox.sent_messages(TEAM_CHAT)[0].text
    async with app.sessions() as session:
        stints = (await session.execute(select(Membership))).scalars().all()
    assert len(stints) == 3 and all(s.welcomed_at is None for s in stints)  # still owed
    await gift_still_works(sandbox, 23_204)

    # the operator fixes the template: the same loop greets everyone it still owes
    fixed = tmp_path / "zh" / "welcome.html.j2"
    fixed.write_text(
        'Hi {% for m in members %}<a href="tg://user?id={{ m.id }}">{{ m.name }}</a> {% endfor %}',
        encoding="utf-8",
    )
    stat = fixed.stat()
    os.utime(fixed, (stat.st_atime + 10, stat.st_mtime + 10))
    clock.advance(minutes=5)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    await settle(app, sandbox)
    greeting = sandbox.sent_messages(COMMUNITY)[0].text
    assert all(f"tg://user?id={uid}" in greeting for uid in (23_201, 23_202, 23_203))
    no_leaks(sandbox)
    assert crashes() == []


async def test_a_template_telegram_would_refuse_is_caught_before_sending(
    bot_with: Callable[[Renderer], Any],
    sandbox: TelegramSandbox,
    tmp_path: Path,
    crashes: Callable[[], list[str]],
) -> None:
    app: SopBot = await bot_with(
        operator_templates(tmp_path, {"welcome_dm": "Hi {{ name }}<br>code: {{ coupon.code }}"})
    )
    sandbox.add_user(23_301, "Br", language_code="zh")
    sandbox.user_sends(23_301, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(TEAM_CHAT)) == 1)
    await settle(app, sandbox)

    assert crashes() == []
    assert sandbox.count_errors(400) == 0  # never sent to be refused
    assert sandbox.sent_messages(23_301) == []
    assert "welcome_dm" in sandbox.sent_messages(TEAM_CHAT)[0].text


async def test_a_message_telegram_refuses_tells_the_team_and_the_gift_stays_owed(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, crashes: Callable[[], list[str]]
) -> None:
    sandbox.add_user(23_401, "Refused", language_code="zh")
    sandbox.fail_next(
        "sendMessage", 400, 'Bad Request: can\'t parse entities: Unsupported start tag "br"'
    )
    sandbox.user_sends(23_401, "/start")
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(TEAM_CHAT)) == 1)
    await settle(app, sandbox)
    assert sandbox.sent_messages(23_401) == []
    assert "welcome_dm" in sandbox.sent_messages(TEAM_CHAT)[0].text

    await settle(app, sandbox)  # the last send settled before time moves
    clock.advance(seconds=5)
    sandbox.user_sends(23_401, "/start")  # asks again: the owed pack goes this time
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(23_401)) == 1)
    await settle(app, sandbox)
    assert await count(app, Coupon) == 1  # the same coupon, not a second one
    assert crashes() == []


# -- the same update twice, unknown buttons -------------------------------------------------------


async def test_an_update_delivered_twice_is_handled_once(
    sandbox: TelegramSandbox,
    config: CommunityConfig,
    clock: ManualClock,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The bot dies after handling an update but before confirming it (its next getUpdates,
    which carries the offset, never reaches the server): Telegram hands the update out again."""
    caplog.set_level(logging.INFO)
    settings = settings_for(sandbox.url, database_url)
    first = SopBot(settings, config, clock=clock, polling_timeout=1)
    await first.start()
    try:
        sandbox.add_user(24_001, "Twice", language_code="zh")
        update = sandbox.user_sends(24_001, "/start src_once")
        sandbox.delay(  # the confirming poll hangs...
            "getUpdates", 8, only=lambda p: int(p.get("offset") or 0) > update["update_id"]
        )
        await sandbox.wait_for(lambda: len(sandbox.sent_messages(24_001)) == 1, timeout=15)
    finally:
        await first.abort()  # ...and the bot dies before it lands
        sandbox.delay("getUpdates", 0)
    confirmed = [
        c
        for c in sandbox.calls
        if c.method == "getUpdates" and c.ok and (c.params.get("offset") or 0) > update["update_id"]
    ]
    assert confirmed == []  # the server still owes the update

    second = SopBot(settings, config, clock=clock, polling_timeout=1)
    await second.start()
    try:
        await sandbox.wait_for(
            lambda: any(
                c.method == "getUpdates"
                and c.ok
                and (c.params.get("offset") or 0) > update["update_id"]
                for c in sandbox.calls
            ),
            timeout=10,
        )
        await settle(second, sandbox)
        assert any("was handled before" in r.getMessage() for r in caplog.records)
        assert len(sandbox.sent_messages(24_001)) == 1
        assert await count(second, Coupon) == 1
        assert (
            await count(second, ProcessedUpdate, ProcessedUpdate.update_id == update["update_id"])
            == 1
        )
        assert await count(second, OutboxMessage) == 1
        await gift_still_works(sandbox, 24_002)
    finally:
        await second.stop()


async def test_an_unknown_button_press_does_not_crash(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, crashes: Callable[[], list[str]]
) -> None:
    await gift_still_works(sandbox, 25_001, "Presser")
    dm = sandbox.sent_messages(25_001)[0]
    sandbox.press_button(25_001, dm.message_id, 25_001, "claim:<script>")
    sandbox.press_button(25_001, dm.message_id, 25_001, "x" * 64)
    sandbox.add_user(25_002, "Grouper")
    sandbox.user_joins(COMMUNITY, 25_002)
    await settle(app, sandbox)
    clock.advance(minutes=2)
    await sandbox.wait_for(lambda: len(sandbox.sent_messages(COMMUNITY)) == 1)
    greeting = sandbox.sent_messages(COMMUNITY)[0]
    sandbox.press_button(25_002, greeting.message_id, COMMUNITY, "gift")
    sandbox.press_button(25_002, greeting.message_id, COMMUNITY, "'; DROP TABLE members; --")
    await settle(app, sandbox)

    assert crashes() == []
    assert len(sandbox.sent_messages(25_001)) == 1 and len(sandbox.sent_messages(COMMUNITY)) == 1
    assert await count(app, Member) == 2
    no_leaks(sandbox)
    await gift_still_works(sandbox, 25_003)


async def test_an_unknown_button_press_gets_an_answer(
    app: SopBot, sandbox: TelegramSandbox
) -> None:
    await gift_still_works(sandbox, 25_101, "Presser")
    dm = sandbox.sent_messages(25_101)[0]
    query = sandbox.press_button(25_101, dm.message_id, 25_101, "stale")
    await settle(app, sandbox)
    assert sandbox.world.callback_queries[query["callback_query"]["id"]]["answered"]
