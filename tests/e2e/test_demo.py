"""``sopbot demo`` smoke test: a short day of a small crowd, end to end, offline."""

from __future__ import annotations

import re

import pytest

from bot.demo import run_demo


async def test_demo_plays_a_day_and_prints_the_kpi(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_demo(members=40, seed=1, progress=False, hours=8) == 0

    out = capsys.readouterr().out
    simulated = re.search(r"the simulation: (\d+) joined the group, (\d+) left", out)
    kpi = re.search(r"Members (\d+)(?: \(Telegram \d+\))? \| joins (\d+) \| leaves (\d+)", out)
    assert simulated and kpi, out
    joined, left = int(simulated[1]), int(simulated[2])
    assert 0 < joined <= 40
    assert (int(kpi[2]), int(kpi[3])) == (joined, left), out
    assert int(kpi[1]) == joined - left, out
    assert re.search(r"429 answers\s+0; early retries 0", out), out
