"""Do the templates the config names exist? (Checked by ``check-config`` and before ``run``.)"""

from __future__ import annotations

from typing import Protocol

from bot.config.community import CommunityConfig
from bot.config.keys import Loc


class TemplateCatalog(Protocol):
    @property
    def locales(self) -> frozenset[str]: ...

    def names(self, locale: str | None = None) -> frozenset[str]: ...


def template_problems(config: CommunityConfig, catalog: TemplateCatalog) -> list[tuple[Loc, str]]:
    """Each template name the config uses must exist in the default locale (every other
    locale falls back to it)."""
    locale = config.default_locale
    if locale not in catalog.locales:
        return [
            (
                ("default_locale",),
                f"no templates for locale {locale!r} "
                f"(there are: {', '.join(sorted(catalog.locales))})",
            )
        ]
    known = catalog.names(locale)
    used: list[tuple[Loc, str]] = [
        (("welcome", "template"), config.welcome.template),
        (("welcome", "dm_template"), config.welcome.dm_template),
    ]
    used += [(("schedules", i, "template"), s.template) for i, s in enumerate(config.schedules)]
    used += [(("hooks", i, "template"), h.template) for i, h in enumerate(config.hooks)]
    if config.winback is not None:
        used.append((("winback", "template"), config.winback.template))
    return [
        (loc, f"no template named {name!r} in {locale}/") for loc, name in used if name not in known
    ]
