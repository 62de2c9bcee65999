"""sopbot: run the bot, check a config, play the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

from bot.errors import ConfigError, SopbotError

if TYPE_CHECKING:
    from bot.config import CommunityConfig, Settings
    from bot.rendering import Renderer

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiogram logs each update at INFO, Alembic each migration step: keep ours readable
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sopbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling; settings from the environment)")
    check = commands.add_parser("check-config", help="validate a community YAML and summarise it")
    check.add_argument("path", type=Path)
    demo = commands.add_parser("demo", help="an offline day of a simulated community")
    demo.add_argument("--members", type=int, default=300)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    if args.command == "check-config":
        return check_config(args.path)
    if args.command == "demo":
        from bot.demo import run_demo

        configure_logging("WARNING")
        return asyncio.run(run_demo(members=args.members, seed=args.seed, progress=not args.quiet))
    return run()


def check_config(path: Path) -> int:
    from bot.config import describe, load_config
    from bot.rendering import build_renderer

    try:
        config = load_config(path, catalog=lambda c: build_renderer(c, path.parent))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(describe(config))
    return 0


def run() -> int:
    from pydantic import ValidationError

    from bot.config import Settings, load_config
    from bot.rendering import build_renderer

    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            print(f"error: environment: {problem['msg']}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    path = settings.sopbot_config
    try:
        config = load_config(path, catalog=lambda c: build_renderer(c, path.parent))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if settings.bot_token is None:
        print("error: BOT_TOKEN is not set (get one from @BotFather)", file=sys.stderr)
        return EXIT_CONFIG
    try:
        asyncio.run(_serve(settings, config, build_renderer(config, path.parent)))
    except SopbotError as error:
        log.error("%s", error)
        return 1
    except TelegramUnauthorizedError:
        log.error("Telegram refused the token (401): check BOT_TOKEN with @BotFather")
        return 1
    except TelegramNetworkError as error:
        log.error("cannot reach the Bot API at %s: %s", settings.telegram_api_url, error.message)
        return 1
    return 0


async def _serve(settings: Settings, config: CommunityConfig, renderer: Renderer) -> None:
    from bot.app import SopBot

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SopBot(settings, config, renderer=renderer) as app:
        waiter = asyncio.create_task(app.wait())
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()
        if waiter in done and not waiter.cancelled() and waiter.exception():
            raise waiter.exception()  # type: ignore[misc]
        log.info("stopping")


if __name__ == "__main__":
    sys.exit(main())
