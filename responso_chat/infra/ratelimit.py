"""Rate limits of the public widget endpoints, built on the ``limits`` library.

Flask-Limiter keeps one storage per ``Limiter`` object and hooks every request of the app; the
plugin needs per-app state (two apps in one process) and limits on its own endpoints only, so
it uses ``limits`` (the engine under Flask-Limiter) directly. Storage is Redis when configured,
so every process counts together, and memory otherwise.

:func:`client_address` is the one place that says who a public client is: the rate limits
and the websocket caps per address both count by it.
"""

from __future__ import annotations

import math
import time

from flask import abort, jsonify, make_response, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from responso_chat.state import plugin_state

#: Longest client address kept from ``X-Forwarded-For`` (an IPv6 address with a zone fits).
MAX_ADDRESS_LENGTH = 64


def client_address() -> str:
    """The address of the client of the current request, as rate limits count it.

    With ``RESPONSO_CHAT_TRUSTED_PROXIES = n`` the address is the ``n``-th entry from the
    right of ``X-Forwarded-For`` (what the nearest trusted proxy saw; werkzeug's ``ProxyFix``
    reads it the same way), else, or when the header has fewer entries, the connection's.
    """
    hops = plugin_state().setting("TRUSTED_PROXIES")
    if hops:
        forwarded = [
            entry.strip()
            for header in request.headers.getlist("X-Forwarded-For")
            for entry in header.split(",")
        ]
        if len(forwarded) >= hops and forwarded[-hops]:
            return forwarded[-hops][:MAX_ADDRESS_LENGTH]
    return request.remote_addr or "unknown"


class RateLimits:
    """Per-app rate limiter: ``enforce(limit_string, scope)`` or a 429 with Retry-After."""

    def __init__(self, redis_url: str):
        self._storage = storage_from_string(redis_url or "memory://")
        self._limiter = MovingWindowRateLimiter(self._storage)

    def enforce(self, limit_string: str, scope: str, key: str | None = None) -> None:
        """Count one hit for ``key`` (default: client address) and abort with 429 when over."""
        key = key or client_address()
        for item in parse_many(limit_string):
            try:
                allowed = self._limiter.hit(item, "responso_chat", scope, key)
            except Exception:  # a broken Redis must not take the chat down with it
                return
            if not allowed:
                reset_at, _remaining = self._limiter.get_window_stats(
                    item, "responso_chat", scope, key
                )
                retry_after = max(1, math.ceil(reset_at - time.time()))
                response = make_response(
                    jsonify(errors={"_request": [f"Too many requests; retry in {retry_after} s."]}),
                    429,
                )
                response.headers["Retry-After"] = str(retry_after)
                abort(response)

    def reset(self) -> None:
        """Forget every count (tests and admin use)."""
        self._storage.reset()
