"""App-scoped things the per-update middleware hands out (built once by ``bot.app``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.db.session import Database
from bot.rendering import Renderer
from bot.services import BotIdentity, Services
from bot.services.moderation.counters import FloodCounters, MemoryFloodCounters
from bot.services.moderation.rules import CommunityOrder, compile_order
from sop.clock import Clock
from sop.engine import EngineSpec, SopEngine, hook_specs
from sop.faq import FaqEntry


def engine_for(config: CommunityConfig) -> SopEngine:
    """The SOP engine compiled from a config (keyword automaton, FAQ index, cron triggers)."""
    return SopEngine.build(
        EngineSpec(
            tz=config.tz,
            schedules=tuple((s.id, s.cron, s.enabled) for s in config.schedules),
            hooks=hook_specs([(h.id, h.keywords) for h in config.hooks]),
            faq=tuple(FaqEntry(item.q, item.a) for item in config.first_response.faq),
            quiet_hours=config.sop.quiet_hours,
            missed_run_grace=config.sop.missed_run_grace,
            first_response=config.first_response.within,
            interests=hook_specs(list(config.tags.interests.items())),
        )
    )


@dataclass(frozen=True)
class Loaded:
    """A config with everything compiled from it: swapped together or not at all."""

    config: CommunityConfig
    engine: SopEngine
    renderer: Renderer
    #: moderation rules and alert words (issue 13)
    order: CommunityOrder


class ConfigHolder:
    """The running config, its engine and its renderer; a reload swaps all three at once, an
    update keeps the ones it began with."""

    def __init__(self, config: CommunityConfig, renderer: Renderer) -> None:
        self._loaded = Loaded(config, engine_for(config), renderer, compile_order(config))

    @property
    def current(self) -> CommunityConfig:
        return self._loaded.config

    @property
    def loaded(self) -> Loaded:
        return self._loaded

    def swap(self, config: CommunityConfig, renderer: Renderer) -> None:
        # built first: all or none
        self._loaded = Loaded(config, engine_for(config), renderer, compile_order(config))


@dataclass
class Runtime:
    db: Database
    clock: Clock
    config: ConfigHolder
    identity: BotIdentity
    #: the folder the config file is in (relative paths in it start there)
    config_dir: Path
    #: called after each update's transaction commits, with whether someone joined and whether
    #: it was a group message (wakes the delivery loop; the welcome loop when there is someone
    #: to greet; the SOP loop when a question may have opened)
    after_commit: Callable[[bool, bool], None] = field(default=lambda joined, group: None)
    #: updates being handled right now (the demo and tests wait for zero)
    updates_in_flight: int = 0
    #: flood and spam-wave windows, kept across updates and reloads (in memory: see
    #: ``bot/services/moderation/counters.py`` for what a shared version needs)
    counters: FloodCounters = field(default_factory=MemoryFloodCounters)


def services_for(runtime: Runtime, session: AsyncSession) -> Services:
    """The use cases for one transaction, on the config and engine of this moment."""
    loaded = runtime.config.loaded
    return Services.create(
        session,
        loaded.config,
        loaded.engine,
        loaded.renderer,
        runtime.identity,
        runtime.config_dir,
        order=loaded.order,
        counters=runtime.counters,
    )
