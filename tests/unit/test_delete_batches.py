"""The delivery loop's choice of a lane's next call (``bot/delivery/loop.py:_take``): a chat's
queued deletions go first and together (at most 100 ids a ``deleteMessages``), the other rows
keep their order, a message lane is never reordered."""

from __future__ import annotations

from collections import deque

from bot.delivery.loop import DELETE_BATCH, Job, _take

CHAT = -1002001


def _job(row: int, method: str, kind: str = "api", **payload: object) -> Job:
    return Job(row, CHAT, kind, method, dict(payload), attempts=row % 3)


def test_deletions_go_first_as_one_call_and_the_rest_keep_their_order() -> None:
    queue = deque(
        [
            _job(1, "banChatMember", user_id=7),
            _job(2, "deleteMessage", message_id=70),
            _job(3, "restrictChatMember", user_id=8),
            _job(4, "deleteMessage", message_id=80),
        ]
    )
    call = _take(queue)
    assert call.method == "deleteMessages"
    assert call.payload == {"message_ids": [70, 80]}
    assert call.ids == (2, 4) and call.attempts == 2  # the most tries among its rows
    assert [job.id for job in queue] == [1, 3]
    assert _take(queue).id == 1  # no deletion left: the head, as before


def test_a_single_deletion_stays_a_deletemessage_and_batches_stop_at_100() -> None:
    alone = deque([_job(1, "banChatMember"), _job(2, "deleteMessage", message_id=5)])
    assert _take(alone).method == "deleteMessage"
    many = deque(_job(n, "deleteMessage", message_id=n) for n in range(1, 251))
    sizes = []
    while many:
        call = _take(many)
        sizes.append(len(call.payload.get("message_ids", [0])))
    assert sizes == [DELETE_BATCH, DELETE_BATCH, 50]


def test_a_message_lane_is_taken_in_order() -> None:
    queue = deque([_job(1, "sendMessage", "group"), _job(2, "deleteMessage", "group")])
    assert _take(queue).id == 1
