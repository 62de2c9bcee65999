"""One error root for sopbot; domain errors carry what is needed to explain them."""

from __future__ import annotations


class SopbotError(Exception):
    """Root of every error sopbot raises on purpose."""


class ConfigError(SopbotError):
    """The community configuration is invalid.

    ``key`` is the dotted path of the offending key (``welcome.within``,
    ``communities[0].chat_id``), ``line`` its 1-based line in the file when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.key = key
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "config"
        if self.line is not None:
            where = f"{where}:{self.line}"
        if self.key:
            return f"{where}: {self.key}: {self.message}"
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"ConfigError({self.message!r}, path={self.path!r}, key={self.key!r}, "
            f"line={self.line!r})"
        )


class TemplateRenderError(SopbotError):
    """An operator-written template failed to render; ``file`` and ``line`` say where in the
    template when Jinja2 knows."""

    def __init__(
        self, template: str, reason: str, *, file: str | None = None, line: int | None = None
    ) -> None:
        self.template = template
        self.reason = reason
        self.file = file
        self.line = line
        super().__init__(f"template {template!r}: {reason}")


class CouponError(SopbotError):
    """A coupon could not be issued or redeemed; ``reason`` says why in operator words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DatabaseUnavailableError(SopbotError):
    """The database named by ``DATABASE_URL`` cannot be opened; ``url`` is shown masked."""

    def __init__(self, url: str, cause: str) -> None:
        self.url = url
        self.cause = cause
        super().__init__(f"DATABASE_URL {url}: {cause}")
