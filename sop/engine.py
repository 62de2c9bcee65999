"""The SOP engine: the community's procedures compiled once, asked per event or per tick.

Pure: built from plain data (the bot turns its config into these specs), answers with plain
data. Everything that costs something to prepare (keyword automaton, FAQ index, cron triggers)
is prepared here once per config, and swapped whole on reload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sop.faq import FaqEntry, FaqMatch, FaqMatcher
from sop.keywords import KeywordMatcher
from sop.questions import is_question
from sop.quiet import QuietHours
from sop.schedules import Plan, Run, ScheduleSpec, plan_runs
from sop.triggers import CronTrigger


@dataclass(frozen=True)
class HookSpec:
    id: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class EngineSpec:
    """Everything the engine needs of the operator's config, as plain data."""

    tz: ZoneInfo
    schedules: tuple[tuple[str, str, bool], ...] = ()  # (id, cron, enabled)
    hooks: tuple[HookSpec, ...] = ()
    faq: tuple[FaqEntry, ...] = ()
    quiet_hours: str | None = "22:00-08:00"  # "off"/None: never quiet
    missed_run_grace: timedelta = timedelta(hours=1)
    first_response: timedelta = timedelta(minutes=5)
    #: interest name -> keywords (tags ``interest:<name>``)
    interests: tuple[HookSpec, ...] = ()


@dataclass(frozen=True)
class SopEngine:
    spec: EngineSpec
    triggers: dict[str, CronTrigger] = field(default_factory=dict)
    keywords: KeywordMatcher = field(default_factory=lambda: KeywordMatcher([]))
    faq: FaqMatcher = field(default_factory=lambda: FaqMatcher([]))
    quiet: QuietHours | None = None
    interests: KeywordMatcher = field(default_factory=lambda: KeywordMatcher([]))

    @classmethod
    def build(cls, spec: EngineSpec) -> SopEngine:
        quiet = None
        if spec.quiet_hours and spec.quiet_hours != "off":
            quiet = QuietHours.parse(spec.quiet_hours, spec.tz)
        return cls(
            spec=spec,
            triggers={sid: CronTrigger(cron, spec.tz) for sid, cron, _ in spec.schedules},
            keywords=KeywordMatcher([(h.id, h.keywords) for h in spec.hooks]),
            faq=FaqMatcher(list(spec.faq)),
            quiet=quiet,
            interests=KeywordMatcher([(i.id, i.keywords) for i in spec.interests]),
        )

    # -- schedules ---------------------------------------------------------------------------
    def schedule_specs(self, paused: set[str] | frozenset[str] = frozenset()) -> list[ScheduleSpec]:
        return [
            ScheduleSpec(sid, self.triggers[sid], enabled and sid not in paused)
            for sid, _, enabled in self.spec.schedules
        ]

    def plan(
        self,
        *,
        done: set[tuple[str, datetime]],
        paused: set[str],
        now: datetime,
        since: Mapping[str, datetime] | None = None,
    ) -> Plan:
        """What to carry out now, what was missed for good, when to look again. ``since`` per
        schedule: its fires before then are history (before it existed in this form, or while
        it was paused), neither due nor missed."""
        since = since or {}
        due: list[Run] = []
        missed: list[Run] = []
        checks: list[datetime] = []
        for spec in self.schedule_specs(paused):
            plan = plan_runs(
                [spec],
                done=done,
                now=now,
                grace=self.spec.missed_run_grace,
                since=since.get(spec.id),
            )
            due += plan.due
            missed += plan.missed
            if plan.next_check is not None:
                checks.append(plan.next_check)
        return Plan(
            due=tuple(due), missed=tuple(missed), next_check=min(checks) if checks else None
        )

    def earliest_latest_fire(self, now: datetime) -> datetime | None:
        """The oldest of the schedules' latest fires at or before ``now`` (the history a plan
        needs reaches back to here)."""
        fires = [f for t in self.triggers.values() if (f := t.previous_fire(now)) is not None]
        return min(fires) if fires else None

    def next_fire(self, schedule_id: str, now: datetime) -> datetime | None:
        trigger = self.triggers.get(schedule_id)
        return None if trigger is None else trigger.next_fire(now)

    # -- messages ----------------------------------------------------------------------------
    def hooks_in(self, text: str) -> list[str]:
        return self.keywords.match(text)

    def interests_in(self, text: str) -> list[str]:
        """Names of the interests whose keywords ``text`` contains (one scan)."""
        return self.interests.match(text)

    def is_question(self, text: str, *, replies_to_bot: bool = False) -> bool:
        return is_question(text, replies_to_bot=replies_to_bot)

    def faq_answer(self, text: str) -> tuple[FaqMatch, FaqEntry] | None:
        match = self.faq.best(text)
        return None if match is None else (match, self.spec.faq[match.index])

    def question_deadline(self, asked_at: datetime) -> datetime:
        return asked_at + self.spec.first_response

    # -- direct messages ---------------------------------------------------------------------
    def dm_time(self, at: datetime) -> datetime:
        """When a proactive DM planned for ``at`` may go (quiet hours defer, never drop)."""
        return at if self.quiet is None else self.quiet.defer(at)


def hook_specs(hooks: Sequence[tuple[str, Sequence[str]]]) -> tuple[HookSpec, ...]:
    return tuple(HookSpec(hook_id, tuple(words)) for hook_id, words in hooks)
