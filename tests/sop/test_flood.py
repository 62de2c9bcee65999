"""Flood and spam-wave windows (sop/flood.py): bursts start at the limit, the whole window is
named once, the burst lasts while the rate does, redelivered ids count once, short replies are
never a wave and disguises of the same text are one."""

from __future__ import annotations

from sop.flood import RateWindows, WaveWindows, wave_key


def test_the_message_that_fills_the_window_names_them_all_once() -> None:
    windows = RateWindows("flood")
    results = [windows.note(-1, 7, mid, 100.0 + mid, 3, 10) for mid in range(5)]
    assert results[:2] == [None, None]
    started = results[2]
    assert started is not None and started.started
    assert started.messages == ((7, 0), (7, 1), (7, 2)) and started.offenders == (7,)
    for later in results[3:]:  # still flooding: deleted, no second offence
        assert later is not None and not later.started and later.offenders == ()


def test_a_pause_ends_the_burst_and_the_next_is_a_new_offence() -> None:
    windows = RateWindows("flood")
    for mid in range(3):
        windows.note(-1, 7, mid, 100.0, 3, 10)
    assert windows.note(-1, 7, 3, 200.0, 3, 10) is None
    again = [windows.note(-1, 7, mid, 200.0, 3, 10) for mid in (4, 5)]
    assert again[-1] is not None and again[-1].started


def test_a_redelivered_message_counts_once_and_senders_are_apart() -> None:
    windows = RateWindows("flood")
    assert windows.note(-1, 7, 1, 100.0, 2, 10) is None
    assert windows.note(-1, 7, 1, 100.5, 2, 10) is None
    assert windows.note(-1, 8, 2, 100.5, 2, 10) is None
    windows.sweep(1000.0, 10)
    assert len(windows) == 0


def test_a_wave_names_every_copy_and_each_account_once() -> None:
    waves = WaveWindows()
    key = "k"
    assert waves.note(-1, key, 1, 10, 0.0, 3, 300) is None
    assert waves.note(-1, key, 1, 11, 1.0, 3, 300) is None  # one account twice is not a wave
    assert waves.note(-1, key, 2, 12, 2.0, 3, 300) is None
    started = waves.note(-1, key, 3, 13, 3.0, 3, 300)
    assert started is not None and started.started
    assert [mid for _, mid in started.messages] == [10, 11, 12, 13]
    assert started.offenders == (1, 2, 3)
    later = waves.note(-1, key, 4, 14, 100.0, 3, 300)
    assert later is not None and later.offenders == (4,)
    again = waves.note(-1, key, 4, 15, 101.0, 3, 300)
    assert again is not None and again.offenders == ()
    assert waves.note(-1, key, 5, 16, 1000.0, 3, 300) is None  # quiet for ``within``: over


def test_wave_keys_see_through_disguises_and_skip_short_replies() -> None:
    text = "限时福利！加群领取免费课程资料"
    assert wave_key(text, 8) == wave_key(" ".join(text) + " 🎁", 8)
    wide = "ＦＲＥＥ coins at spam dot com"
    assert wave_key(wide, 8) == wave_key("free coins at spam dot com!", 8)
    assert wave_key("谢谢老师！", 8) is None
    assert wave_key("+1", 8) is None
    assert wave_key(text, 8) != wave_key("限时福利！加群领取付费课程资料", 8)
