"""aiogram objects → the plain data services take."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Chat, ChatInviteLink, Message, Update, User

from bot.services.dto import ChatKind, MessageRef, Origin, Person, chat_kind


def person(user: User) -> Person:
    return Person(
        id=user.id,
        first_name=user.first_name or "",
        username=user.username,
        language_code=user.language_code,
        is_bot=user.is_bot,
    )


def origin(message: Message, update: Update) -> Origin:
    return Origin(
        chat_id=message.chat.id,
        chat_kind=kind(message.chat),
        message_id=message.message_id,
        update_id=update.update_id,
    )


def pressed_on(query: CallbackQuery) -> MessageRef | None:
    """The message whose button was pressed (``None``: an inline message, no chat)."""
    if query.message is None:
        return None
    return MessageRef(chat_id=query.message.chat.id, message_id=query.message.message_id)


def kind(chat: Chat) -> ChatKind:
    return chat_kind(chat.type)


def link_source(link: ChatInviteLink | None) -> str | None:
    """An invite link's name when the operator gave it one, else the link itself."""
    if link is None:
        return None
    return (link.name or link.invite_link or "")[:128] or None
