"""``sopbot demo`` smoke test: a short day of a small crowd, end to end, offline."""

from __future__ import annotations

import re

import pytest

from bot.demo import run_demo


def _figure(pattern: str, out: str) -> re.Match[str]:
    found = re.search(pattern, out)
    assert found, f"{pattern!r} not in:\n{out}"
    return found


async def test_demo_plays_a_day_and_prints_the_kpi(capsys: pytest.CaptureFixture[str]) -> None:
    # 13 hours: the 08:00 briefing, the /qa topic at 09:00, the 12:00 Q&A announcement
    assert await run_demo(members=40, seed=1, progress=False, hours=13) == 0

    out = capsys.readouterr().out
    simulated = _figure(r"the simulation: (\d+) joined the group, (\d+) left", out)
    kpi = _figure(r"Members (\d+)(?: \(Telegram \d+\))? .*\n.*Joins (\d+) .*\n.*Leaves (\d+)", out)
    joined, left = int(simulated[1]), int(simulated[2])
    assert 0 < joined <= 40
    assert (int(kpi[2]), int(kpi[3])) == (joined, left), out
    assert int(kpi[1]) == joined - left, out
    assert re.search(r"429 answers\s+0; early retries 0", out), out
    assert re.search(r"sent twice\s+0 ", out), out

    # the daily SOP, as the sandbox saw it
    assert re.search(r"morning briefing\s+sent 08:00:\d\d, 3 of 3 items", out), out
    assert re.search(r"Q&A announcement\s+sent 12:00:\d\d, topic in it", out), out
    asked = _figure(
        r"asked (\d+) questions \(the operator answered (\d+) in the group\); "
        r"said a hook word (\d+) times",
        out,
    )
    questions = int(_figure(r"Questions (\d+)", out)[1])
    share = int(_figure(r"Answered within SLA (\d+)%", out)[1])
    first = _figure(r"FAQ answers (\d+) · escalated (\d+) · hooks (\d+)", out)
    auto, escalated, hooks = map(int, first.groups())
    faq = int(_figure(r"FAQ auto-answers\s+(\d+) in the group", out)[1])
    escalations = _figure(r"escalations\s+(\d+) to the team chat, (\d+) linking", out)
    hook_replies = _figure(r"hook replies\s+(\d+) in the group, (\d+) by DM, to (\d+)", out)
    operator = _figure(r"operator answers\s+(\d+) in the group, (\d+) within 5 min", out)

    # every question the crowd asked (a question mark) is one the bot's detector counted
    assert questions == int(asked[1]) > 0, out
    # the bot's own figures match what reached Telegram
    assert auto == faq and escalated == int(escalations[1]) == int(escalations[2]), out
    assert hooks == int(hook_replies[1]) + int(hook_replies[2]) <= int(asked[3]), out
    # a realistic mix: some in time by the operator, some by the FAQ or the team
    within = round(share * questions / 100)
    assert 0 < within <= int(operator[2]) + 1 and auto + escalated > 0, out
    # each question ends one way first: in time by a person, or the FAQ, or escalated
    assert within + auto + escalated <= questions, out
