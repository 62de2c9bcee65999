"""The routers, in the order they are asked: specific first, catch-alls last.

The features bring theirs (``bot.features``: each ``Feature`` names its routers, fallbacks and
team commands); this module puts them in the frame around them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING

from aiogram import Dispatcher, Router

from bot.config import CommunityConfig
from handlers import buttons, errors, team
from handlers.audit import AuditMiddleware
from handlers.middlewares import UpdateContextMiddleware
from handlers.moderation import ChatAdmins, ModerationPrefetch

if TYPE_CHECKING:
    from bot.runtime import Runtime


def wire(dispatcher: Dispatcher, runtime: Runtime, root: Router) -> None:
    """The dispatcher's middlewares (group admins are moderators: asked before the update's
    transaction; then the transaction and its services) and the routers (:func:`setup`)."""
    admins = ChatAdmins()
    dispatcher.update.outer_middleware(ModerationPrefetch(runtime.config, admins))
    dispatcher["admins"] = admins
    dispatcher.update.outer_middleware(UpdateContextMiddleware(runtime))
    dispatcher.include_router(root)


def setup(
    routers: Iterable[Callable[[], Router]],
    fallbacks: Iterable[Callable[[], Router]],
    team_commands: Collection[str],
) -> Router:
    """``errors`` first; then the features' routers; then ``team`` (the refusal of any team
    command no feature handler took, and the team chat); then the features' fallbacks
    (catch-alls); ``buttons`` (any press nobody took) last."""
    root = Router(name="sopbot")
    # every team command, however it ends
    root.message.outer_middleware(AuditMiddleware(team_commands))
    root.include_router(errors.setup())
    for setup_router in routers:
        root.include_router(setup_router())
    root.include_router(team.setup(team_commands))
    for setup_router in fallbacks:
        root.include_router(setup_router())
    root.include_router(buttons.setup())
    return root


#: update types the bot asks Telegram for (chat_member and chat_join_request are only sent
#: when asked for explicitly)
ALLOWED_UPDATES = [
    "message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
]


def allowed_updates(config: CommunityConfig) -> list[str]:
    """:data:`ALLOWED_UPDATES`, and ``edited_message`` once moderation or complaint words are
    configured (an edit can turn a message into spam)."""
    return [*ALLOWED_UPDATES, *(["edited_message"] if config.watches_messages else [])]
