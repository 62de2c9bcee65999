"""Do the templates the config names exist, and do the schedules' ones render for their kind?
(Checked by ``check-config`` and before ``run`` or a reload takes the file.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.config.community import CommunityConfig, ScheduleConfig, ScheduleKind
from bot.config.keys import Loc
from bot.errors import TemplateRenderError


class TemplateCatalog(Protocol):
    @property
    def locales(self) -> frozenset[str]: ...

    def names(self, locale: str | None = None) -> frozenset[str]: ...

    def render(self, name: str, locale: str, context: Mapping[str, Any]) -> str: ...


#: sample values of what a schedule's post is rendered with at fire time
#: (``ScheduleService._carry_out`` in bot/services/schedules.py, and docs/templates.md)
SAMPLE_DAY = "2026-01-05"
SAMPLE_ITEMS = ["The first item of the day's briefing", "And a second one"]
SAMPLE_TOPIC = "How to run a private community"
SAMPLE_STARTS = "2026-01-05 20:00"


def template_problems(config: CommunityConfig, catalog: TemplateCatalog) -> list[tuple[Loc, str]]:
    """Each template name the config uses must exist in the default locale (every other
    locale falls back to it); each schedule's template must render with what its kind gets."""
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
    problems: list[tuple[Loc, str]] = [
        (loc, f"no template named {name!r} in {locale}/") for loc, name in used if name not in known
    ]
    for i, schedule in enumerate(config.schedules):
        if schedule.template in known:
            problem = _schedule_render_problem(schedule, config, catalog)
            if problem is not None:
                problems.append((("schedules", i, "template"), problem))
    return problems


def schedule_contexts(schedule: ScheduleConfig, community_title: str) -> list[dict[str, Any]]:
    """What a schedule's template is rendered with when it fires, with sample values: ``day``
    and ``late`` always; ``items`` for a *briefing*; ``topic`` (a text, or none before
    ``/qa topic``) and ``starts`` for a *qa*; ``community`` unless it goes by DM (``target``)."""
    base: dict[str, Any] = {"day": SAMPLE_DAY, "late": False}
    kind = schedule.effective_kind
    if kind == ScheduleKind.BRIEFING:
        base["items"] = list(SAMPLE_ITEMS)
    if schedule.target is None:
        base["community"] = community_title
    if kind == ScheduleKind.QA:
        return [
            {**base, "topic": SAMPLE_TOPIC, "starts": SAMPLE_STARTS},
            {**base, "topic": None, "starts": SAMPLE_STARTS},
        ]
    return [base]


def _schedule_render_problem(
    schedule: ScheduleConfig, config: CommunityConfig, catalog: TemplateCatalog
) -> str | None:
    # a community post is rendered in the default locale; DMs to a segment in every locale
    locales = [config.default_locale]
    if schedule.target is not None:
        locales += sorted(catalog.locales - {config.default_locale})
    kind = schedule.effective_kind
    for context in schedule_contexts(schedule, config.communities[0].title):
        for locale in locales:
            try:
                catalog.render(schedule.template, locale, context)
            except TemplateRenderError as error:
                where = f" ({error.file}:{error.line})" if error.file and error.line else ""
                return (
                    f"template {schedule.template!r} ({locale}) cannot render for a {kind} "
                    f"schedule: {error.reason}{where}; it gets {', '.join(sorted(context))}"
                )
    return None
