"""What a feature brings to the bot, declared in one place (``bot/features/<feature>.py``).

The composition root (``bot/app.py``) iterates :data:`bot.features.FEATURES`: it includes the
routers in that order (then the fallbacks, after every feature's routers and the team router),
gives every job a ticker, hands the delivery hooks to the delivery loop, and gives the team
router and the audit log every feature's team commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiogram import Router

from bot.delivery.loop import DeliveryHook
from bot.jobs import Job, JobContext


@dataclass(frozen=True)
class Feature:
    name: str
    #: ``setup() -> Router`` functions of its handler modules (specific handlers: commands,
    #: events, buttons with their own prefix), asked in the order of the feature list
    routers: tuple[Callable[[], Router], ...] = ()
    #: catch-alls (e.g. every member message in a community): asked after every feature's
    #: routers and the team router, in the order of the feature list
    fallbacks: tuple[Callable[[], Router], ...] = ()
    #: commands only operators may use: anyone else gets the refusal, and each call goes into
    #: the audit log (the feature's own handlers answer operators)
    team_commands: tuple[str, ...] = ()
    #: its loops (a ticker each)
    jobs: tuple[Job, ...] = ()
    #: effects of a delivery (run in the transaction that settles an outbox row), each built
    #: once from the app's job context
    delivery_hooks: tuple[Callable[[JobContext], DeliveryHook], ...] = ()


def team_commands(features: Iterable[Feature]) -> tuple[str, ...]:
    """Every feature's team commands, each once (a name declared twice is a mistake)."""
    names = [name for feature in features for name in feature.team_commands]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"team commands declared by more than one feature: {twice}")
    return tuple(names)
