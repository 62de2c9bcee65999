"""App-scoped things the per-update middleware hands out (built once by ``bot.app``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import CommunityConfig
from bot.db.session import Database
from bot.rendering import Renderer
from bot.services import BotIdentity
from sop.clock import Clock


class ConfigHolder:
    """The running community config; a reload swaps it whole, an update keeps the one it began
    with."""

    def __init__(self, config: CommunityConfig) -> None:
        self._config = config

    @property
    def current(self) -> CommunityConfig:
        return self._config

    def swap(self, config: CommunityConfig) -> None:
        self._config = config


@dataclass
class Runtime:
    db: Database
    clock: Clock
    config: ConfigHolder
    renderer: Renderer
    identity: BotIdentity
    #: called after each update's transaction commits, with whether someone joined (wakes the
    #: delivery loop, and the welcome loop when there is someone to greet)
    after_commit: Callable[[bool], None] = field(default=lambda joined: None)
    #: updates being handled right now (the demo and tests wait for zero)
    updates_in_flight: int = 0
