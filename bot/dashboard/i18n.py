"""The dashboard's own strings, in English and Chinese (pages add theirs: ``Page.strings``).

The language is the operator's Telegram ``language_code`` (``zh-hans`` → ``zh``), else the
config's ``default_locale``, else English."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

LOCALES = ("en", "zh")

CORE: dict[str, dict[str, str]] = {
    "en": {
        "title": "Dashboard",
        "nav.overview": "Overview",
        "signed_in_as": "Signed in as {name}",
        "sign_out": "Sign out",
        "signing_in": "Signing in…",
        "need_sign_in": "Open the dashboard from Telegram (/dashboard in the bot's private "
        "chat), or use the one-time login link /dashboard gives.",
        "denied": "No access: this sign-in is not valid (forged, expired, or not an operator).",
        "login.title": "Sign in to the dashboard",
        "login.button": "Sign in",
        "login.used": "This login link was used already or has expired. Ask /dashboard for a "
        "new one.",
        "csrf": "The form's security token is missing or wrong: reload the page and try again.",
        "not_found": "No such page.",
        "failed": "That failed and nothing was changed; it is in the log.",
        "today": "Today",
        "yesterday": "Yesterday",
        "avg7": "7-day average",
        "no_data": "no data",
    },
    "zh": {
        "title": "运营看板",
        "nav.overview": "概览",
        "signed_in_as": "当前登录：{name}",
        "sign_out": "退出登录",
        "signing_in": "正在登录…",
        "need_sign_in": "请在 Telegram 中打开看板（在机器人私聊中发送 /dashboard），"
        "或使用 /dashboard 提供的一次性登录链接。",
        "denied": "无权访问：登录信息无效（伪造、过期或不是运营人员）。",
        "login.title": "登录运营看板",
        "login.button": "登录",
        "login.used": "此登录链接已使用或已过期，请重新发送 /dashboard 获取新链接。",
        "csrf": "表单安全令牌缺失或错误：请刷新页面后重试。",
        "not_found": "页面不存在。",
        "failed": "操作失败，未做任何更改；已记录在日志中。",
        "today": "今日",
        "yesterday": "昨日",
        "avg7": "7 日均值",
        "no_data": "暂无数据",
    },
}


def locale_for(language_code: str | None, default_locale: str) -> str:
    for code in (language_code, default_locale):
        base = (code or "").split("-")[0].split("_")[0].lower()
        if base in LOCALES:
            return base
    return "en"


class Translator:
    def __init__(self, extra: Iterable[Mapping[str, Mapping[str, str]]] = ()) -> None:
        self._strings: dict[str, dict[str, str]] = {loc: dict(CORE[loc]) for loc in LOCALES}
        for strings in extra:
            for locale, texts in strings.items():
                self._strings.setdefault(locale, {}).update(texts)

    def keys(self, locale: str) -> frozenset[str]:
        return frozenset(self._strings.get(locale, {}))

    def text(self, locale: str, key: str, **values: Any) -> str:
        """The string, or the English one, or the key itself (a missing string shows, it
        does not break the page; a test checks both locales have every key)."""
        found = self._strings.get(locale, {}).get(key) or self._strings["en"].get(key) or key
        return found.format(**values) if values else found
