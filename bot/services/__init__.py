"""Use cases. One ``Services`` per update (or job), all sharing its session and transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CommunityConfig
from bot.rendering import Renderer
from bot.services.coupons import CouponService
from bot.services.kpi import KpiService
from bot.services.ledger import LedgerService
from bot.services.messenger import Messenger
from bot.services.team import TeamService
from bot.services.welcome import BotIdentity, WelcomeService


@dataclass(frozen=True)
class Services:
    config: CommunityConfig
    messenger: Messenger
    ledger: LedgerService
    coupons: CouponService
    welcome: WelcomeService
    kpi: KpiService
    team: TeamService

    @classmethod
    def create(cls, session: AsyncSession, config: CommunityConfig, renderer: Renderer,
               identity: BotIdentity) -> Services:
        messenger = Messenger(session, renderer, config)
        ledger = LedgerService(session, config.tz)
        coupons = CouponService(session, config)
        kpi = KpiService(session, config)
        return cls(config=config, messenger=messenger, ledger=ledger, coupons=coupons,
                   welcome=WelcomeService(session, config, messenger, ledger, coupons, identity),
                   kpi=kpi, team=TeamService(messenger, kpi))


__all__ = ["BotIdentity", "Services"]
