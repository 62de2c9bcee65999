"""``sopbot simulate --days N``: the SOP calendar a config produces, from the engine's own code,
on a virtual clock — what goes where, when — without Telegram or a database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.config import CommunityConfig, ScheduleKind, format_duration
from bot.runtime import engine_for
from bot.services.sop.admin import reminder_time
from sop.schedules import calendar

KIND_NOTE = {
    ScheduleKind.BRIEFING: "today's briefing items (skipped, team told, when there are none)",
    ScheduleKind.QA: "Q&A announcement with an RSVP button",
    ScheduleKind.MESSAGE: "the template as written",
}


def simulate(config: CommunityConfig, *, days: int, start: date) -> str:
    """The calendar of ``days`` days from ``start`` (local midnight), as text."""
    engine = engine_for(config)
    tz = config.tz
    begin = datetime.combine(start, time(), tzinfo=tz)
    end = begin + timedelta(days=days)
    schedules = {s.id: s for s in config.schedules}
    targets = ", ".join(f"{c.title} ({c.chat_id})" for c in config.communities)
    lines = [
        f"SOP calendar {start.isoformat()} .. {(start + timedelta(days=days - 1)).isoformat()}"
        f" ({config.timezone}); to: {targets}"
    ]
    current: date | None = None
    fires = calendar(engine.schedule_specs(), begin, end)
    for fire, schedule_id in fires:
        local = fire.astimezone(tz)
        if local.date() != current:
            current = local.date()
            lines.append(f"\n{current.isoformat()} {current.strftime('%a')}")
        schedule = schedules[schedule_id]
        kind = schedule.effective_kind
        extra = ""
        if kind == ScheduleKind.QA:
            starts = schedule.starts_at or local.strftime("%H:%M")
            remind = datetime.combine(local.date(), time.fromisoformat(starts), tzinfo=tz)
            extra = f"; reminders by DM at {reminder_time(engine, remind).astimezone(tz):%H:%M}"
        lines.append(
            f"  {local:%H:%M}  {schedule_id:<20} {kind:<8} template {schedule.template}"
            f" — {KIND_NOTE[kind]}{extra}"
        )
    if not fires:
        lines.append("\n(no schedule fires in this period)")
    disabled = [s.id for s in config.schedules if not s.enabled]
    lines.append("")
    if disabled:
        lines.append(f"disabled: {', '.join(disabled)}")
    quiet = config.sop.quiet_hours
    lines.append(f"quiet hours for member DMs: {quiet} (deferred, not dropped)")
    lines.append(
        f"missed runs go late within {format_duration(config.sop.missed_run_grace)}, "
        "else are reported"
    )
    lines.append(
        f"first response within {format_duration(config.first_response.within)}; "
        f"{len(config.first_response.faq)} FAQ entries; {len(config.hooks)} keyword hooks"
    )
    return "\n".join(lines)
