"""Secrets out of every log line and every stored error: one :class:`Redactor`, used twice.

aiohttp names the URL in its errors (a redirect loop, a bad URL) and the URL holds
``/bot<TOKEN>/``; aiogram passes such errors on as text. A :class:`Redactor` replaces the secrets
sopbot knows (the token, ``WEBHOOK_SECRET``, ``ORDERS_SECRET``, the passwords in
``DATABASE_URL`` and ``REDIS_URL``) and the shapes of secrets it may not know (a token in a URL
or bare, a password in a URL) with ``***``.

:func:`install_log_redaction` puts it in front of every log record, whichever logger or handler:
a record factory redacts the message (``msg % args``), the formatted traceback (``exc_text``)
and the stack. The delivery sender redacts the reasons it stores in ``outbox.last_error``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["MASK", "Redactor", "install_log_redaction", "mask_url_password"]

MASK = "***"
#: shorter known values are masked only where a shape gives them away (a URL's password):
#: replacing every "abc" in a log would garble it and hide nothing worth hiding
MIN_KNOWN = 4

#: a token in a Bot API URL: ``/bot123456:AAH…/getMe`` (the colon may be percent-encoded)
_TOKEN_IN_URL = re.compile(r"bot\d{3,}(?::|%3[Aa])[\w-]+")
#: a bare token: digits, a colon, 30 or more URL-safe characters
_BARE_TOKEN = re.compile(r"\b\d{3,}(?::|%3[Aa])[\w-]{30,}")
#: the password of ``scheme://user:password@host``
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/?#@]*:)[^\s/?#@]+@")


def mask_url_password(url: str) -> str:
    """``postgresql+asyncpg://user:***@host/db``: the URL with its password masked."""
    return _URL_PASSWORD.sub(rf"\1{MASK}@", url)


def _url_password(url: str | None) -> list[str]:
    if not url:
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


class Redactor:
    """Replaces known secret values and secret-shaped text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = sorted({s for s in secrets if len(s) >= MIN_KNOWN}, key=len, reverse=True)
        self._secrets = tuple(known)
        self._known = re.compile("|".join(map(re.escape, known))) if known else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        """The secrets of one process's settings."""
        values: list[str] = []
        if settings.bot_token is not None:
            token = settings.bot_token.get_secret_value()
            values += [token, token.partition(":")[2]]
        for secret in (settings.webhook_secret, settings.orders_secret):
            if secret is not None:
                values.append(secret.get_secret_value())
        values += _url_password(settings.database_url) + _url_password(settings.redis_url)
        return cls(values)

    def redact(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub(MASK, text)
        text = _TOKEN_IN_URL.sub(f"bot{MASK}", text)
        text = _BARE_TOKEN.sub(MASK, text)
        return mask_url_password(text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Redactor) and other._secrets == self._secrets

    def __hash__(self) -> int:
        return hash(self._secrets)

    def __repr__(self) -> str:  # never the values
        return f"Redactor({len(self._secrets)} known secrets)"


class RedactingRecordFactory:
    """A log record factory in front of ``previous``: each record leaves it redacted.

    Only what changes is rewritten: a record without a secret keeps its ``msg`` and ``args``
    (and its traceback is formatted by the handler as usual).
    """

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self.previous = previous
        self.redactors: list[Redactor] = []
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for redactor in self.redactors or [Redactor()]:
            text = redactor.redact(text)
        return text

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            message = None
        if message is not None:
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            trace = self._formatter.formatException(record.exc_info)
            redacted = self.redact(trace)
            if redacted != trace:
                record.exc_text = redacted  # formatters use it instead of formatting again
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return record


def install_log_redaction(redactor: Redactor) -> Callable[[], None]:
    """Redacts every log record from now on; returns the function that undoes it.

    Installing again adds the redactor to the factory already installed (records are not
    wrapped twice); once every installation is undone the previous factory is back.
    """
    current = logging.getLogRecordFactory()
    if isinstance(current, RedactingRecordFactory):
        factory = current
    else:
        factory = RedactingRecordFactory(current)
        logging.setLogRecordFactory(factory)
    factory.redactors.append(redactor)
    undone = False

    def undo() -> None:
        nonlocal undone
        if undone:
            return
        undone = True
        factory.redactors.remove(redactor)
        if not factory.redactors and logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(factory.previous)

    return undo
