"""A dashboard write, run as the team commands run: in one transaction with its audit entry
(command ``dashboard``, as the operator); one that raises is rolled back, logged, and audited
``error`` in a transaction of its own (as ``handlers/audit.py`` does for a command)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.dashboard.page import Action, ActionResult, PageContext
from bot.failures import is_infrastructure_error
from bot.services.records.audit import ERROR, OK, USAGE, CommandCall

log = logging.getLogger(__name__)


def _call(ctx: PageContext, what: str) -> CommandCall:
    return CommandCall(
        command="dashboard",
        args=what.strip(),
        mention=None,
        origin=ctx.origin(),
        person=ctx.person(),
    )


async def run_action(
    ctx: PageContext, page: str, name: str, action: Action, form: Mapping[str, str]
) -> ActionResult | None:
    """The action's result; ``None`` when it failed (nothing it did was kept)."""
    try:
        async with ctx.transaction() as services:
            result = await action(ctx, services, form)
            call = _call(ctx, f"{page}.{name} {result.audit}")
            await services.audit.record(call, OK if result.ok else USAGE, ctx.now)
        return result
    except Exception as error:
        if is_infrastructure_error(error):
            raise
        log.exception("dashboard: %s.%s failed; its effects were rolled back", page, name)
        async with ctx.transaction() as services:
            await services.audit.record(_call(ctx, f"{page}.{name}"), ERROR, ctx.now)
        return None
