"""The usual disguises of spam words, folded away before matching.

:func:`fold` takes a :func:`~sop.keywords.normalize`-d text (NFKC, casefolded: full-width
letters and digits are plain already) and undoes what spammers do to get past word lists:

- invisible characters and combining marks between letters (``w\u200bechat``, ``w̷e̷c̷h̷a̷t̷``);
- letters or digits spaced or dotted out (``w e c h a t``, ``1 3 8 0 0 1 3 8 0 0 0``), runs of
  three or more single characters; decorations between Chinese characters (``微 信``,
  ``微.信``, ``微★信``) — sentence punctuation (``。，！？``) is kept, so two sentences never
  run into one word;
- the stand-ins for WeChat and QQ: 薇信 / 威信 / 徽信 / V信 / 微x / vx / wx / wechat / weixin
  become ``微信``; 加V / +V / +vx become ``加微信``; 扣扣 / 企鹅号 become ``qq``.

Keywords go through the same fold, so a list naming ``威信`` and a message saying ``vx`` meet
in ``微信``. Pure and allocation-light: a text with nothing to fold comes back as it is.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold"]

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff\ufe0f]"
)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: decorations spammers put between letters (not sentence punctuation)
_DECOR = r"[\s._\-*·•|~^=/\\★☆♥❤♡✨⭐💕💖🌟🔥]"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]){_DECOR}+(?=[{_CJK}])")
#: three or more single letters or digits with one to three decorations between each
_SPACED = re.compile(rf"(?<![a-z0-9])[a-z0-9](?:{_DECOR}{{1,3}}[a-z0-9](?![a-z0-9])){{2,}}")
_GAPS = re.compile(_DECOR)
#: 加V / +V / +vx, alone or run into the id that follows (``+vlucky_115``)
_ADD_V = re.compile(r"(?:加|\+|➕)\s*(?:(?:v|vx|wx|微信)(?![a-z0-9])|v(?=[a-z0-9_-]*\d))")
#: the stand-ins for 微信; ``vx`` / ``wx`` also when run into an id with a digit (``vxkk811``)
_WECHAT = re.compile(
    r"薇信|威信|徽信|微芯|维信|卫信|v信|微x(?![a-z0-9])|"
    r"(?<![a-z0-9])(?:vx|wx|wechat|weixin|weix|vchat)(?![a-z0-9])|"
    r"(?<![a-z0-9])(?:vx|wx)(?=[a-z_-]*\d)"
)
_QQ = re.compile(r"扣扣|企鹅号|(?<![a-z0-9])q\s*q(?![a-z0-9])")
#: characters that can start a disguise: a text with none of them has nothing to fold
_HINTS = frozenset("薇威徽芯维卫v微xw+➕加扣企q")


def fold(text: str) -> str:
    """``text`` (already normalized) with the disguises above undone."""
    s = text
    if not s.isascii():
        s = _INVISIBLE.sub("", s)
        if any(unicodedata.combining(ch) for ch in s):
            s = "".join(ch for ch in s if not unicodedata.combining(ch))
        s = _CJK_GAP.sub("", s)
    s = _SPACED.sub(lambda m: _GAPS.sub("", m.group(0)), s)
    if _HINTS.isdisjoint(s):
        return s
    s = _ADD_V.sub("加微信", s)
    s = _WECHAT.sub("微信", s)
    return _QQ.sub("qq", s)
