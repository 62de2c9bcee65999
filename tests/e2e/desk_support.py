"""Shared by the service desk's end-to-end tests: a config with an FAQ, a hook and the desk,
and ways to look at what reached the team chat and the member."""

from __future__ import annotations

from typing import Any

from bot.app import SopBot
from bot.config import CommunityConfig, parse_config
from sandbox import TelegramSandbox
from sandbox.records import Call, SentMessage
from sop.clock import ManualClock
from tests.conftest import CONFIG_YAML, TEAM_CHAT
from tests.e2e.helpers import settle

FAQ_Q = "How do I change my shipping address?"
FAQ_A = "Open Orders, pick the order and edit its address before it ships."
DESK_YAML = (
    CONFIG_YAML.replace(
        "first_response:\n  within: 5m\n",
        f"""first_response:
  within: 5m
  faq:
    - q: "{FAQ_Q}"
      a: "{FAQ_A}"
    - q: "When does the evening live session start?"
      a: "Every day at 20:00."
""",
    )
    + """
hooks:
  - id: guide
    keywords: ["666"]
    template: guide
    reply: dm
service:
  autoclose: 2h
"""
)


def desk_config(extra: str = "", *, team: str = "") -> CommunityConfig:
    """The desk's config; ``extra`` goes under ``service:``, ``team`` under ``team:``."""
    text = DESK_YAML.replace("team:\n", "team:\n" + team, 1) + extra
    return parse_config(text, "tests/e2e/desk_support.py")


def copies(sandbox: TelegramSandbox, to: int) -> list[Call]:
    """Successful copyMessage calls into chat ``to``."""
    return [
        c
        for c in sandbox.calls
        if c.method == "copyMessage" and c.ok and c.params.get("chat_id") == to
    ]


def team_texts(sandbox: TelegramSandbox) -> list[str]:
    return [m.text for m in sandbox.sent_messages(TEAM_CHAT) if m.method == "sendMessage"]


def last_team_message_id(sandbox: TelegramSandbox) -> int:
    return max(mid for chat, mid in sandbox.world.messages if chat == TEAM_CHAT)


async def write(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock, user: int, text: str
) -> dict[str, Any]:
    """``user`` writes to the bot; returns their message once the bot has settled (4 s after
    the last: the desk sends the team chat one message per 61/17 s slot)."""
    clock.advance(seconds=4)
    update = sandbox.user_sends(user, text)
    await settle(app, sandbox)
    message: dict[str, Any] = update["message"]
    return message


def relay_of(sandbox: TelegramSandbox, user: int, member_message_id: int) -> int:
    """The team chat message id of the copy of ``member_message_id``."""
    for sent in sandbox.sent_messages(TEAM_CHAT):
        if sent.copied_from == (user, member_message_id):
            return sent.message_id
    raise AssertionError(f"no copy of {user}'s message {member_message_id} in the team chat")


def copies_of(sandbox: TelegramSandbox, chat: int, to: int) -> list[SentMessage]:
    """Copies made into ``to`` of messages of chat ``chat``."""
    return [
        m
        for m in sandbox.sent_messages(to)
        if m.copied_from is not None and m.copied_from[0] == chat
    ]
