"""sopbot: run the bot, check a config, play the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError, DatabaseUnavailableError, SopbotError

if TYPE_CHECKING:
    from bot.config import CommunityConfig, Settings
    from bot.rendering import Renderer

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiogram logs each update at INFO, Alembic each migration step: keep ours readable
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sopbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run",
        help="run the bot (long polling, or a webhook when WEBHOOK_URL is "
        "set; settings from the environment)",
    )
    check = commands.add_parser("check-config", help="validate a community YAML and summarise it")
    check.add_argument("path", type=Path)
    sim = commands.add_parser("simulate", help="print the SOP calendar a config produces")
    sim.add_argument("--days", type=int, default=7)
    sim.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the community YAML (default: SOPBOT_CONFIG or ./community.yaml)",
    )
    sim.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first day, YYYY-MM-DD (default: today in the config's timezone)",
    )
    commands.add_parser(
        "doctor",
        help="check the token, the bot's rights in each community and the team chat, the "
        "webhook, the database and Redis (settings from the environment); exit 1 on a failure",
    )
    demo = commands.add_parser("demo", help="an offline day of a simulated community")
    demo.add_argument("--members", type=int, default=200)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    orders = commands.add_parser(
        "import-orders",
        help="import orders from a CSV file (header: "
        "order_id, member_id and/or coupon, amount, time[, currency])",
    )
    orders.add_argument("path", type=Path)
    save = commands.add_parser(
        "backup", help="a consistent copy of the database (SQLite online backup, or pg_dump)"
    )
    save.add_argument("path", type=Path, nargs="?", default=None)
    load = commands.add_parser(
        "restore", help="replace the database with a backup; erasures made since are re-applied"
    )
    load.add_argument("path", type=Path)
    load.add_argument("--force", action="store_true", help="even if the database is in use")
    args = parser.parse_args(argv)

    if args.command == "check-config":
        return check_config(args.path)
    if args.command == "doctor":
        return doctor()
    if args.command == "simulate":
        return simulate_command(args.config, args.days, args.start)
    if args.command == "import-orders":
        from bot.orders_import import command as import_orders_command

        return import_orders_command(args.path)
    if args.command in ("backup", "restore"):
        return backup_command(args.command, args.path, force=getattr(args, "force", False))
    if args.command == "demo":
        from bot.demo import run_demo

        configure_logging("WARNING")
        return asyncio.run(run_demo(members=args.members, seed=args.seed, progress=not args.quiet))
    return run()


def simulate_command(path: Path | None, days: int, start: date | None) -> int:
    from bot.config import Settings, load_config
    from bot.rendering import build_renderer
    from bot.simulate import simulate

    if days < 1 or days > 366:
        print("error: --days must be between 1 and 366", file=sys.stderr)
        return EXIT_CONFIG
    config_path = path or Settings().sopbot_config
    try:
        config = load_config(config_path, catalog=lambda c: build_renderer(c, config_path.parent))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    first = start or datetime.now(config.tz).date()  # the one wall-clock read: "today"
    print(simulate(config, days=days, start=first))
    return 0


def backup_command(command: str, path: Path | None, *, force: bool) -> int:
    """``sopbot backup [PATH]`` / ``sopbot restore PATH [--force]``: one line, exit 0, or an
    error line and exit 2."""
    from pydantic import ValidationError

    from bot.backup import BackupError, backup, default_path, restore
    from bot.config import Settings
    from bot.services.privacy_keys import privacy_key_of
    from sop.clock import SystemClock

    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            print(f"error: environment: {problem['msg']}", file=sys.stderr)
        return EXIT_CONFIG
    now = SystemClock().now()
    try:
        if command == "backup":
            written = backup(
                settings.database_url, path or default_path(settings.database_url, now)
            )
            print(f"backup written to {written}")
            return 0
        assert path is not None
        key = privacy_key_of(settings)
        again = asyncio.run(restore(settings.database_url, path, key, now, force=force))
    except (BackupError, DatabaseUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"restored from {path}; {again} erasures made since the backup applied again")
    return 0


def check_config(path: Path) -> int:
    from bot.config import describe, load_config
    from bot.rendering import build_renderer

    try:
        config = load_config(path, catalog=lambda c: build_renderer(c, path.parent))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(describe(config))
    dashboard = _dashboard_line()
    if dashboard.startswith("error: "):
        print(dashboard, file=sys.stderr)
        return EXIT_CONFIG
    if dashboard:
        print(dashboard)
    blocked = False
    for line, is_block in review_templates(config, path.parent):
        print(line)
        blocked = blocked or is_block
    return 1 if blocked else 0


def _dashboard_line() -> str:
    """check-config's line on DASHBOARD_URL (from the environment): an ``error: `` line when
    it is not https (plain http only on a loopback host), else where the dashboard is served."""
    import os

    from bot.config.urls import check_dashboard_url

    url = os.environ.get("DASHBOARD_URL", "").strip()
    if not url:
        return ""
    try:
        url = check_dashboard_url(url)
    except ValueError as error:
        return f"error: {error}"
    listen = os.environ.get("DASHBOARD_LISTEN", "").strip()
    if not listen:
        return f"dashboard: DASHBOARD_URL {url} is set but DASHBOARD_LISTEN is not: not served"
    return f"dashboard: {url} (served on {listen})"


def review_templates(config: CommunityConfig, base_dir: Path) -> list[tuple[str, bool]]:
    """The copy review (``privacy.review_words``, ``privacy.review_block``) of the operator's
    own templates: one line per template with findings, and whether a block word is among them."""
    from sop.review import CopyReview

    if not config.templates:
        return []
    folder = (base_dir / config.templates).resolve()
    review = CopyReview(config.privacy.review_words, config.privacy.review_block)
    lines: list[tuple[str, bool]] = []
    for file in sorted(folder.rglob("*.html.j2")):
        found = review.check(file.read_text(encoding="utf-8", errors="replace"))
        if found.level is None:
            continue
        name = file.relative_to(folder)
        if found.block:
            lines.append((f"copy review: {name}: blocked: {', '.join(found.block)}", True))
        if found.warn:
            lines.append((f"copy review: {name}: warning: {', '.join(found.warn)}", False))
    return lines


def _environment() -> tuple[Settings, CommunityConfig] | None:
    """The settings and the config ``run`` and ``doctor`` start from (the log redaction
    installed for the whole process: aiohttp's errors name the URL with the token, whoever
    logs them); ``None`` when one is unusable, said on stderr."""
    from pydantic import ValidationError

    from bot.config import Settings, load_config
    from bot.redact import Redactor, install_log_redaction
    from bot.rendering import build_renderer

    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            print(f"error: environment: {problem['msg']}", file=sys.stderr)
        return None
    install_log_redaction(Redactor.from_settings(settings))
    configure_logging(settings.log_level)
    path = settings.sopbot_config
    try:
        config = load_config(path, catalog=lambda c: build_renderer(c, path.parent))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    if settings.bot_token is None:
        print("error: BOT_TOKEN is not set (get one from @BotFather)", file=sys.stderr)
        return None
    return settings, config


def doctor() -> int:
    loaded = _environment()
    if loaded is None:
        return EXIT_CONFIG
    from bot.doctor import diagnose, report

    return report(asyncio.run(diagnose(*loaded)))


def run() -> int:
    from bot.rendering import build_renderer

    loaded = _environment()
    if loaded is None:
        return EXIT_CONFIG
    settings, config = loaded
    path = settings.sopbot_config
    # the database first, and only then aiogram (its import takes seconds; check-config needs
    # none of it): an unusable DATABASE_URL is one line at once
    try:
        asyncio.run(_check_database(settings.database_url))
    except DatabaseUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    try:
        asyncio.run(_serve(settings, config, build_renderer(config, path.parent)))
    except DatabaseUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
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


async def _check_database(database_url: str) -> None:
    from bot.db.session import Database

    database = Database(database_url)
    try:
        await database.check()
    finally:
        await database.dispose()


async def _serve(settings: Settings, config: CommunityConfig, renderer: Renderer) -> None:
    from bot.app import SopBot

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SopBot(settings, config, renderer=renderer) as app:
        reloads: set[asyncio.Task[None]] = set()

        async def reload() -> None:
            try:
                await app.reload_config()
            except ConfigError as error:  # the running SOP stays as it was
                log.error("reload refused, the running config is unchanged: %s", error)

        def on_sighup() -> None:
            task = asyncio.create_task(reload())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        loop.add_signal_handler(signal.SIGHUP, on_sighup)
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
