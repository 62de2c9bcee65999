"""Today's KPI snapshot per community, in the community's timezone, from the daily rollups."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.models import GLOBAL_CHAT, DailyRollup
from bot.db.repositories import MembershipRepository, QuestionRepository, RollupRepository


@dataclass(frozen=True)
class WelcomeSla:
    due: int          # joiners whose greeting deadline has passed, or who were greeted
    #                   (those who left before their greeting are not counted at all)
    in_time: int      # greeted within ``welcome.within``
    waiting: int      # joined, deadline not reached yet, not greeted yet

    @property
    def share(self) -> float | None:
        return None if self.due == 0 else self.in_time / self.due


@dataclass(frozen=True)
class FirstResponse:
    questions: int
    answered: int                 # by a person (operators), with a response time
    within_sla: int               # of those, answered within first_response.within
    median_seconds: int | None
    p90_seconds: int | None
    auto_answered: int            # FAQ answers by the bot when the SLA ran out
    escalated: int                # sent to the team chat when the SLA ran out

    due: int = 0                  # answered, or their deadline passed (the rest still waiting)

    @property
    def share_within(self) -> float | None:
        return None if self.due == 0 else self.within_sla / self.due


@dataclass(frozen=True)
class CommunityKpi:
    chat_id: int
    title: str
    members: int
    joins: int
    leaves: int
    active_members: int
    messages: int
    welcome: WelcomeSla
    first_response: FirstResponse
    hooks_triggered: int
    members_reported: int | None = None   # Telegram's own count, refreshed every 15 minutes

    @property
    def net(self) -> int:
        return self.joins - self.leaves


@dataclass(frozen=True)
class KpiSnapshot:
    day: date
    timezone: str
    communities: list[CommunityKpi]
    coupons_issued: int
    dm_sent: int
    dm_blocked: int


class KpiService:
    def __init__(self, session: AsyncSession, config: CommunityConfig) -> None:
        self._rollups = RollupRepository(session)
        self._stints = MembershipRepository(session)
        self._questions = QuestionRepository(session)
        self._config = config

    async def today(self, now: datetime) -> KpiSnapshot:
        tz = self._config.tz
        day = now.astimezone(tz).date()
        start = datetime.combine(day, time(), tzinfo=tz)
        end = start + timedelta(days=1)
        within = self._config.welcome.within
        rows = []
        for community in self._config.communities:
            rollup = await self._rollups.get(community.chat_id, day)
            joined = await self._stints.joined_between(community.chat_id, start, end)
            in_time = due = waiting = 0
            for joined_at, welcomed_at, left in joined:
                deadline = joined_at + within
                if left and welcomed_at is None:
                    continue  # left before anyone could greet them: no one to welcome
                if welcomed_at is not None:
                    due += 1
                    in_time += welcomed_at <= deadline
                elif deadline <= now:
                    due += 1
                else:
                    waiting += 1
            rows.append(CommunityKpi(
                chat_id=community.chat_id, title=community.title,
                members=await self._stints.count_open(community.chat_id),
                joins=rollup.joins if rollup else 0, leaves=rollup.leaves if rollup else 0,
                active_members=rollup.active_members if rollup else 0,
                messages=rollup.messages if rollup else 0,
                welcome=WelcomeSla(due=due, in_time=in_time, waiting=waiting),
                first_response=await self._first_response(community.chat_id, start, end, rollup,
                                                          now),
                hooks_triggered=rollup.hooks_triggered if rollup else 0,
                members_reported=rollup.members_reported if rollup else None))
        overall = await self._rollups.get(GLOBAL_CHAT, day)
        return KpiSnapshot(day=day, timezone=self._config.timezone, communities=rows,
                           coupons_issued=overall.coupons_issued if overall else 0,
                           dm_sent=overall.dm_sent if overall else 0,
                           dm_blocked=overall.dm_blocked if overall else 0)

    async def _first_response(self, chat_id: int, start: datetime, end: datetime,
                              rollup: DailyRollup | None, now: datetime) -> FirstResponse:
        """The day's questions (bounded by the day's count, not by history)."""
        sla = self._config.first_response.within.total_seconds()
        asked = await self._questions.asked_between(chat_id, start, end)
        times = sorted(q.response_seconds for q in asked if q.response_seconds is not None)
        return FirstResponse(
            questions=len(asked), answered=len(times),
            within_sla=sum(1 for t in times if t <= sla),
            median_seconds=_percentile(times, 0.5), p90_seconds=_percentile(times, 0.9),
            auto_answered=rollup.auto_answered if rollup else 0,
            escalated=rollup.escalated if rollup else 0,
            due=sum(1 for q in asked if q.response_seconds is not None or q.deadline <= now))


def _percentile(sorted_values: list[int], share: float) -> int | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]
