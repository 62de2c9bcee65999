"""Plain data the moderation handlers hand to the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.dto import Person
from sop.moderation import MessageFacts


@dataclass(frozen=True)
class CheckedMessage:
    """A message in a community as moderation looks at it. Its text is read, never stored."""

    chat_id: int
    message_id: int
    #: the sender; a channel posting in the group is a person whose id is the channel's
    person: Person
    text: str
    facts: MessageFacts
    #: an operator or a group administrator: never acted on
    from_moderator: bool = False
    #: sent on behalf of a channel (not the group's own anonymous admins): no mute or ban
    as_channel: bool = False
    edited: bool = False
    sent_at: datetime | None = None


#: the permissions of a muted member (``restrictChatMember``)
MUTED = {
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
}
#: what a member may do again once unmuted
UNMUTED = {key: True for key in MUTED}
