"""The desk's figures in /kpi and /export kpi: conversations, automatic answers, first response
median and p90, share within the SLA, resolution, satisfaction."""

from __future__ import annotations

import csv
import io

import pytest

from bot.app import SopBot
from bot.config import CommunityConfig
from bot.services.desk.figures import percentile
from sandbox import TelegramSandbox
from sop.clock import ManualClock
from tests.conftest import OPERATOR, TEAM_CHAT
from tests.e2e.desk_support import desk_config, relay_of, write
from tests.e2e.helpers import settle


@pytest.fixture
def config() -> CommunityConfig:
    return desk_config()


def test_percentiles_are_nearest_rank_and_exact() -> None:
    values = list(range(10, 0, -1))  # any order
    assert percentile(values, 0.5) == 5
    assert percentile(values, 0.9) == 9
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.9) is None


async def test_kpi_and_export_show_the_desk(
    app: SopBot, sandbox: TelegramSandbox, clock: ManualClock
) -> None:
    for uid, name in ((7201, "Ann"), (7202, "Ben"), (7203, "Cy")):
        sandbox.add_user(uid, name, language_code="en")
    await write(app, sandbox, clock, 7201, "how can I change my shipping address?")  # automatic
    ben = await write(app, sandbox, clock, 7202, "my parcel has not arrived, what now?")
    cy = await write(app, sandbox, clock, 7203, "the colour is wrong, can I swap it?")
    clock.advance(seconds=60)
    sandbox.user_sends(
        OPERATOR,
        "On its way",
        chat_id=TEAM_CHAT,
        reply_to_message_id=relay_of(sandbox, 7202, ben["message_id"]),
    )
    await settle(app, sandbox)
    clock.advance(minutes=9)  # Cy waited ~10 minutes: over the 5-minute SLA
    cy_relay = relay_of(sandbox, 7203, cy["message_id"])
    sandbox.user_sends(
        OPERATOR, "Yes, send it back", chat_id=TEAM_CHAT, reply_to_message_id=cy_relay
    )
    await settle(app, sandbox)
    clock.advance(minutes=5)
    sandbox.user_sends(OPERATOR, "/close", chat_id=TEAM_CHAT, reply_to_message_id=cy_relay)
    await settle(app, sandbox)
    for _ in range(3):  # the holding reply, the answer, the rating request: one a second
        clock.advance(seconds=2)
        await settle(app, sandbox)
    rate = next(m for m in sandbox.sent_messages(7203) if m.reply_markup and "Rate" in m.text)
    sandbox.press_button(7203, rate.message_id, 7203, "dk:r:3:5")
    await settle(app, sandbox)

    clock.advance(seconds=2)
    sandbox.user_sends(OPERATOR, "/kpi")
    await settle(app, sandbox)
    kpi = sandbox.sent_messages(OPERATOR)[-1].text
    assert "Service desk" in kpi
    assert "📨 Conversations 3" in kpi
    assert "🤖 Answered automatically 1" in kpi
    assert "First response median 1.1m" in kpi.split("Service desk")[1]
    assert "First response p90 10.0m" in kpi.split("Service desk")[1]
    assert "Answered within SLA 50% (1/2)" in kpi.split("Service desk")[1]
    assert "⭐ Satisfaction 5" in kpi and "🗳 Ratings 1" in kpi
    assert "First response p90" in kpi.split("Service desk")[0]  # groups have a p90 too

    clock.advance(seconds=2)
    sandbox.user_sends(OPERATOR, "/export kpi 7d")
    await settle(app, sandbox)
    document = sandbox.sent_files(OPERATOR)[-1]
    assert document.data is not None
    rows = list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))
    today = [r for r in rows if r["community"] == "(global)"][-1]
    assert today["desk_conversations"] == "3" and today["desk_automatic"] == "1"
    assert today["desk_first_response_median_s"] == "64"  # Ben wrote 4 s before Cy
    assert today["desk_first_response_p90_s"] == "600"
    assert today["desk_within_sla"] == "1" and today["desk_ratings"] == "1"
