"""``python -m sandbox --port 8081 --token 123:ABC --chat -1002001``: a standalone sandbox."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .core import TelegramSandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument(
        "--chat",
        type=int,
        action="append",
        default=[],
        help="a supergroup id to create (repeatable)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    sandbox = TelegramSandbox(token=args.token)
    for chat_id in args.chat:
        sandbox.add_chat(chat_id)
    url = await sandbox.start(host=args.host, port=args.port)
    print(f"Telegram sandbox on {url} (token {args.token}); Ctrl+C to stop", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how it stops
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
