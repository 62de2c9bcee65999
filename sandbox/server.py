"""The HTTP face of the sandbox: ``POST|GET /bot<token>/<method>`` like api.telegram.org.

Reads parameters in every encoding Telegram accepts, checks the token (401) and the method
(404, names are case-insensitive), applies injected faults and delays, runs the method and
answers ``{"ok": true, "result": ...}`` or Telegram's error body with the HTTP status equal to
``error_code``. Every call is recorded as a :class:`~sandbox.records.Call`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import (
    methods_chats,
    methods_commands,
    methods_copy,
    methods_files,
    methods_messages,
    methods_moderation,
    methods_topics,
)
from .errors import ApiError, bad_request
from .params import normalize, optional_int
from .records import Call
from .world import World

log = logging.getLogger(__name__)

Handler = Callable[[World, dict[str, Any]], Any | Awaitable[Any]]
_DISCONNECTED = "client disconnected before the response"
#: the ``description`` of a call that was performed but answered with a garbled result
GARBLED = "performed; the answer was garbled"


async def get_updates(world: World, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``getUpdates`` (long polling; see :mod:`sandbox.updates`)."""
    if world.webhook_url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    allowed = params.get("allowed_updates")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
    ):
        raise bad_request("can't parse allowed updates JSON object")
    return await world.updates.get(
        offset=optional_int(params, "offset") or 0,
        limit=optional_int(params, "limit") or 100,
        timeout=optional_int(params, "timeout") or 0,
        allowed_updates=allowed,
    )


HANDLERS: dict[str, Handler] = {
    "getUpdates": get_updates,
    **methods_messages.HANDLERS,
    **methods_chats.HANDLERS,
    **methods_commands.HANDLERS,
    **methods_copy.HANDLERS,
    **methods_files.HANDLERS,
    **methods_topics.HANDLERS,
    **methods_moderation.HANDLERS,
}
CANONICAL = {name.lower(): name for name in HANDLERS}


def canonical(method: str) -> str:
    """``sendmessage`` -> ``sendMessage`` (unknown names unchanged)."""
    return CANONICAL.get(method.lower(), method)


class ApiServer:
    """The aiohttp application serving one bot token over a :class:`World`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.calls: list[Call] = []
        self.faults: dict[str, list[ApiError]] = {}
        self.delays: dict[str, float] = {}
        #: which calls of a method a delay applies to (all when absent)
        self.delay_only: dict[str, Callable[[dict[str, Any]], bool]] = {}
        #: calls still to garble per method: performed, then answered with an unreadable result
        self.garbles: dict[str, int] = {}
        # room for a 50 MB document plus the multipart framing; the methods check the file
        self.app = web.Application(client_max_size=methods_files.MAX_DOCUMENT + 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # ``TELEGRAM_API_URL=http://host:port/<via>``: the calls of each client apart (several
        # bot processes on one sandbox); recorded as ``Call.via``
        self.app.router.add_route("*", "/{via}/bot{token}/{method}", self._handle)

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, dict[str, Any]] = {}
        if request.content_type == "application/json":
            text = await request.text()
            body = json.loads(text) if text.strip() else {}
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            raw.update(body)
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise ApiError(413, "Request Entity Too Large") from None
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = methods_files.Upload(
                        value.filename, value.file.read(), value.content_type
                    )
                else:
                    raw[name] = value
        return raw, files

    def _fault(self, method: str) -> None:
        queued = self.faults.get(method)
        if queued:
            raise queued.pop(0)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        at: float,
        error: ApiError | None = None,
        description: str | None = None,
        via: str | None = None,
    ) -> None:
        if error is None and description is None:
            self.calls.append(Call(method, params, at, True, via=via))
            log.info("%s %s -> ok", method, params)
            return
        code = error.error_code if error else None
        text = error.description if error else description
        self.calls.append(Call(method, params, at, False, code, text, via=via))
        log.info("%s %s -> %s %s", method, params, code, text)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = canonical(request.match_info["method"])
        via = request.match_info.get("via")
        params: dict[str, Any] = {}
        at = self.world.now()
        try:
            if request.match_info["token"] != self.world.token:
                raise ApiError(401, "Unauthorized")
            handler = HANDLERS.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            try:
                raw, files = await self._read(request)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            params = normalize(raw, files)
            self._fault(method)
            only = self.delay_only.get(method)
            if self.delays.get(method) and (only is None or only(params)):
                await asyncio.sleep(self.delays[method])
                if request.transport is None or request.transport.is_closing():
                    self._record(
                        method, params, self.world.now(), description=_DISCONNECTED, via=via
                    )
                    return web.Response(status=499)
                at = self.world.now()
            result = handler(self.world, params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as err:
            self._record(method, params, at, err, via=via)
            return web.json_response(err.payload(), status=err.error_code)
        except asyncio.CancelledError:
            self._record(method, params, at, description=_DISCONNECTED, via=via)
            raise
        if self.garbles.get(method):
            self.garbles[method] -= 1
            self.calls.append(Call(method, params, at, True, None, GARBLED, via=via))
            log.info("%s %s -> ok, answer garbled", method, params)
            return web.json_response({"ok": True, "result": {"garbled": True}})
        self._record(method, params, at, via=via)
        return web.json_response({"ok": True, "result": result})
