"""Checks of the listening addresses and public URLs in the environment (one line each)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["check_dashboard_url", "check_listen", "is_loopback_host"]


def check_listen(value: str, name: str) -> str:
    """``host:port`` with a port up to 65535 (``:0``: one the system picks)."""
    _host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{name} must be host:port like 127.0.0.1:8081 (got {value!r})")
    return value


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1``."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_dashboard_url(value: str) -> str:
    """An https URL (Telegram opens a Mini App only on https); plain http only on a loopback
    host (tests, local development). Returned with a trailing ``/``."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or not host or parts.scheme not in ("https", "http"):
        raise ValueError(
            f"DASHBOARD_URL must be an https URL like https://dash.example.com/ (got {value!r})"
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ValueError(
            f"DASHBOARD_URL must be https (Telegram opens Mini Apps only on https; plain http "
            f"only on localhost/127.0.0.1), got {value!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"DASHBOARD_URL must have no query or fragment (got {value!r})")
    url = value.strip()
    return url if url.endswith("/") else url + "/"
