"""The dashboard's pure parts: init data as Telegram signs it, the URL rule, the strings in
both languages, the figures' forms, the charts."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest

from bot.config.urls import check_dashboard_url, is_loopback_host
from bot.dashboard.charts import bar_chart, nice_step
from bot.dashboard.format import change, number
from bot.dashboard.i18n import CORE, Translator, locale_for
from bot.dashboard.initdata import InitDataError, verify
from bot.dashboard.pages import PAGES

TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _telegram(fields: dict[str, str], token: str = TOKEN) -> str:
    """Init data signed by hand, step by step as Telegram's documentation says."""
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def _fields(age: timedelta = timedelta(minutes=1), **user: object) -> dict[str, str]:
    person = {"id": 1001, "first_name": "奥尔加", "language_code": "zh-hans", **user}
    return {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(person, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int((NOW - age).timestamp())),
    }


def test_init_data_signed_as_telegram_signs_it() -> None:
    data = verify(_telegram(_fields()), TOKEN, NOW)
    assert (data.user.id, data.user.first_name, data.user.language_code) == (
        1001,
        "奥尔加",
        "zh-hans",
    )


@pytest.mark.parametrize(
    "raw",
    [
        _telegram(_fields(), token="1:another"),
        _telegram(_fields()).replace("1001", "1002"),
        _telegram(_fields(age=timedelta(hours=24, seconds=1))),
        _telegram(_fields(age=timedelta(hours=-1))),
        _telegram({k: v for k, v in _fields().items() if k != "user"}),
        _telegram(_fields()) + "&user=x",
        re.sub(r"&hash=[0-9a-f]+", "", _telegram(_fields())),
        "",
        "x" * 9000,
    ],
    ids=["token", "altered", "stale", "future", "no-user", "twice", "no-hash", "empty", "long"],
)
def test_init_data_refused(raw: str) -> None:
    with pytest.raises(InitDataError):
        verify(raw, TOKEN, NOW)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://dash.example.com", True),
        ("https://example.com/dashboard/", True),
        ("http://127.0.0.1:8090/", True),
        ("http://localhost/", True),
        ("http://[::1]:80/", True),
        ("http://dash.example.com/", False),
        ("http://192.168.1.4/", False),
        ("https://dash.example.com/?x=1", False),
        ("dash.example.com", False),
    ],
)
def test_dashboard_url_is_https_but_on_loopback(url: str, ok: bool) -> None:
    if ok:
        assert check_dashboard_url(url).endswith("/")
    else:
        with pytest.raises(ValueError, match="DASHBOARD_URL"):
            check_dashboard_url(url)


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.8.0.1") and is_loopback_host("::1")
    assert not is_loopback_host("10.0.0.1") and not is_loopback_host(None)


def test_every_string_in_both_languages() -> None:
    assert set(CORE["en"]) == set(CORE["zh"])
    for page in PAGES:
        assert set(page.strings.get("en", {})) == set(page.strings.get("zh", {})), page.name
    translator = Translator(page.strings for page in PAGES)
    for page in PAGES:
        if page.nav:
            assert f"nav.{page.name}" in translator.keys("zh")


def test_the_language_of_the_operator_else_the_default() -> None:
    assert locale_for("zh-hans", "en") == "zh"
    assert locale_for("en-GB", "zh") == "en"
    assert locale_for("de", "zh") == "zh"
    assert locale_for(None, "fr") == "en"


def test_figures_in_the_forms_of_kpi() -> None:
    assert [number(None), number(0.42, "share"), number(3.25, "minutes")] == ["—", "42%", "3.2m"]
    assert [number(3, "signed"), number(-2, "signed"), number(5.0), number(2.5)] == [
        "+3",
        "-2",
        "5",
        "2.5",
    ]
    assert [change(None), change(0.25), change(-0.6), change(0.001)] == ["–", "↑25%", "↓60%", "→0%"]


def test_nice_steps() -> None:
    assert [nice_step(4), nice_step(1, whole=True), nice_step(95), nice_step(0.8)] == [
        1,
        1,
        50,
        0.2,
    ]


def test_a_chart_has_a_column_per_day_with_its_value() -> None:
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]
    values: list[float | None] = [float(n % 7) for n in range(29)] + [None]
    svg = str(bar_chart("joins", "<新加入>", "人", days, values, empty="暂无数据"))
    assert svg.count('class="hit"') == 30 and svg.count('class="bar"') == 29 - 5
    assert "&lt;新加入&gt;" in svg and "<新加入>" not in svg
    assert "<title>2026-11-30: 暂无数据</title>" in svg
    assert "<title>2026-11-07: 6 人</title>" in svg
    assert ">11-01<" in svg and 'class="axis"' in svg
