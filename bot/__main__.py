"""``sopbot``: run the bot, check a config, play the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot.errors import ConfigError, SopbotError

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiogram logs each update at INFO; keep ours readable
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


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

    try:
        config = load_config(path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(describe(config))
    return 0


def run() -> int:
    from bot.config import Settings, load_config

    settings = Settings()
    configure_logging(settings.log_level)
    try:
        config = load_config(settings.sopbot_config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    if settings.bot_token is None:
        print("error: BOT_TOKEN is not set (get one from @BotFather)", file=sys.stderr)
        return EXIT_CONFIG
    try:
        asyncio.run(_serve(settings, config))
    except SopbotError as error:
        log.error("%s", error)
        return 1
    return 0


async def _serve(settings: object, config: object) -> None:
    from bot.app import SopBot

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SopBot(settings, config) as app:  # type: ignore[arg-type]
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
