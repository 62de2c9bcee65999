"""Community order (issue 13): moderation, complaint and crisis alerts, operator actions.

What the feature brings: the services (:class:`ModerationService`, :class:`ComplaintService`,
:class:`ModerationConsole`), the compiled rules (:func:`compile_order`, built with the SOP
engine), a delivery hook (:class:`ModerationDeliveryHook`) and the router
``handlers/moderation.py``; its team commands are :data:`MODERATION_COMMANDS`."""

from bot.services.moderation.complaints import ComplaintService
from bot.services.moderation.delivery import ModerationDeliveryHook
from bot.services.moderation.rules import CommunityOrder, compile_order
from bot.services.moderation.service import ModerationService

#: team commands of this feature (operators only; refused to anyone else)
MODERATION_COMMANDS: tuple[str, ...] = (
    "warn",
    "unwarn",
    "mute",
    "unmute",
    "ban",
    "unban",
    "del",
    "modlog",
    "cleanup",
)

__all__ = [
    "MODERATION_COMMANDS",
    "CommunityOrder",
    "ComplaintService",
    "ModerationDeliveryHook",
    "ModerationService",
    "compile_order",
]
