"""The community order compiled from a config: one :class:`~sop.moderation.ContentRules` per
distinct ``moderation`` of the communities, and the alert words. Built with the SOP engine
(``bot/runtime.py``) and swapped with it on a reload."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import CommunityConfig
from bot.config.moderation import ModerationConfig
from sop.moderation import AlertWords, ContentRules


@dataclass(frozen=True)
class CommunityOrder:
    #: chat id → (its merged moderation, its compiled content rules)
    rules: dict[int, tuple[ModerationConfig, ContentRules]] = field(default_factory=dict)
    alert_words: AlertWords | None = None

    def for_chat(self, chat_id: int) -> tuple[ModerationConfig, ContentRules] | None:
        return self.rules.get(chat_id)


def compile_order(config: CommunityConfig) -> CommunityOrder:
    compiled: dict[tuple[tuple[str, ...], bool, tuple[str, ...]], ContentRules] = {}
    rules: dict[int, tuple[ModerationConfig, ContentRules]] = {}
    for chat in config.communities:
        moderation = config.moderation_for(chat.chat_id)
        if moderation is None:
            continue
        key = (
            tuple(moderation.banned_words),
            moderation.contacts,
            tuple(moderation.contact_triggers),
        )
        if key not in compiled:
            compiled[key] = ContentRules(
                moderation.banned_words,
                contacts=moderation.contacts,
                contact_triggers=moderation.contact_triggers,
            )
        rules[chat.chat_id] = (moderation, compiled[key])
    keywords: dict[str, list[str]] = {str(k): v for k, v in config.alerts.keywords.items()}
    words = AlertWords(keywords) if any(keywords.values()) else None
    return CommunityOrder(rules, words)
