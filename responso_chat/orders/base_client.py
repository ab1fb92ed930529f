"""Client for the Base (formerly BaseLinker) API.

Every call is a ``POST`` of the form fields ``method`` and ``parameters`` (a JSON object as a
string) with the token in the ``X-BLToken`` header; the answer is JSON with ``status``
``SUCCESS`` or ``ERROR``.

Orders come back as plain ``dict``\\ s (see :func:`normalize_order`): ids and unix timestamps are
``int`` (seconds, UTC; ``0`` when unknown), money is :class:`~decimal.Decimal`, text is ``str``
(``""`` when missing), unknown fields are dropped.

Faults: an ``ERROR`` answer raises :class:`BaseApiError`; network errors, timeouts, HTTP 5xx
and answers that are not the API's JSON are retried with exponential backoff and jitter, then
raise :class:`BaseUnavailable`. A blocked token (``ERROR_BLOCKED_TOKEN``) is waited out when
the block ends within ``max_blocked_wait`` seconds. A client-side limiter keeps each token
under 100 requests a minute. The token never appears in logs, exception messages or reprs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import re
import threading
import time
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

__all__ = [
    "BaseApiError",
    "BaseClient",
    "BaseClientError",
    "BaseUnavailable",
    "InProcessRateLimiter",
    "RedisRateLimiter",
    "normalize_order",
    "parse_blocked_until",
]

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.baselinker.com/connector.php"
PAGE_SIZE = 100
BLOCKED_TOKEN = "ERROR_BLOCKED_TOKEN"
# Added to the wait for a blocked token: the API states the end of the block to the second.
BLOCK_MARGIN = 1.0

_DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")
_UNIX_RE = re.compile(r"(?<![\d.])(\d{10})(?:\.\d+)?(?![\d.])")

#: Order fields the client returns as text (``""`` when missing).
ORDER_TEXT_FIELDS = (
    "user_login",
    "email",
    "phone",
    "currency",
    "payment_method",
    "delivery_method",
    "delivery_fullname",
    "delivery_address",
    "delivery_city",
    "delivery_postcode",
    "delivery_country_code",
    "delivery_package_nr",
    "delivery_package_module",
    "order_page",
)
_INT_FIELDS = ("shop_order_id", "order_status_id", "date_add", "date_confirmed", "date_in_status")


class BaseClientError(Exception):
    """Any failure of a Base API call."""


class BaseApiError(BaseClientError):
    """The API answered ``status: ERROR``; ``error_code`` is opaque, show it as is."""

    def __init__(self, error_code: str, message: str):
        super().__init__(error_code, message)
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


class BaseUnavailable(BaseClientError):
    """Base could not be reached or answered garbage, and every retry failed too."""


def parse_blocked_until(message: str) -> datetime | None:
    """The end of a token block stated in an error message, as an aware UTC datetime.

    Understands ``YYYY-MM-DD HH:MM:SS`` (taken as UTC) and a 10-digit unix time; ``None`` when
    the message holds neither.
    """
    match = _DATETIME_RE.search(message or "")
    if match:
        naive = datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H:%M:%S")
        return naive.replace(tzinfo=UTC)
    match = _UNIX_RE.search(message or "")
    if match:
        return datetime.fromtimestamp(int(match[1]), UTC)
    return None


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float | str):
        number = _decimal(value, None)
        return int(number) if number is not None else default
    return default


def _decimal(value: Any, default: Decimal | None = Decimal(0)) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return default
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return default
    return number if number.is_finite() else default


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _normalize_product(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    return {
        "name": _text(raw.get("name")),
        "sku": _text(raw.get("sku")),
        "ean": _text(raw.get("ean")),
        "price_brutto": _decimal(raw.get("price_brutto")),
        "quantity": _int(raw.get("quantity")),
    }


def normalize_order(raw: Any) -> dict[str, Any] | None:
    """One order of a ``getOrders`` answer as a clean dict; ``None`` if it has no valid id.

    Keys: ``order_id``, ``shop_order_id``, ``order_status_id``, ``date_add``,
    ``date_confirmed``, ``date_in_status`` (int), the text fields of the API (str),
    ``payment_done`` and ``delivery_price`` (Decimal), ``products`` (list of dicts with
    ``name``, ``sku``, ``ean``, ``price_brutto`` Decimal, ``quantity`` int) and ``total``
    (Decimal: sum of ``price_brutto * quantity`` plus ``delivery_price``).
    """
    if not isinstance(raw, dict):
        return None
    order_id = _int(raw.get("order_id"))
    if order_id <= 0:
        return None
    order: dict[str, Any] = {"order_id": order_id}
    order.update({name: _int(raw.get(name)) for name in _INT_FIELDS})
    order.update({name: _text(raw.get(name)) for name in ORDER_TEXT_FIELDS})
    order["payment_done"] = _decimal(raw.get("payment_done"))
    order["delivery_price"] = _decimal(raw.get("delivery_price"))
    products = raw.get("products")
    order["products"] = [_normalize_product(p) for p in products or () if isinstance(p, dict)]
    order["total"] = order["delivery_price"] + sum(
        (p["price_brutto"] * p["quantity"] for p in order["products"]), Decimal(0)
    )
    return order


class InProcessRateLimiter:
    """Sliding-window limiter for one process: at most ``limit`` acquisitions per ``period``.

    Thread-safe; ``acquire(key)`` blocks (with ``sleep``) until a slot of that key is free.
    """

    def __init__(self, limit=100, period=60.0, clock=time.monotonic, sleep=time.sleep):
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def acquire(self, key: str) -> None:
        """Take one slot for ``key``, waiting until one is free."""
        while True:
            with self._lock:
                now = self._clock()
                window = self._windows.setdefault(key, deque())
                while window and window[0] <= now - self.period:
                    window.popleft()
                if len(window) < self.limit:
                    window.append(now)
                    return
                wait = window[0] + self.period - now
            self._sleep(wait)


class RedisRateLimiter:
    """Sliding-window limiter shared by every process using the same Redis.

    Each acquisition is a member of a sorted set scored by time, added in one ``MULTI``
    transaction that also drops expired members and counts the rest; an acquisition over the
    limit removes itself and waits for the oldest member to expire. Time comes from the Redis
    server (``TIME``) unless ``clock`` is given, so hosts with skewed clocks still agree.
    ``key`` should already be a hash (``BaseClient`` passes the token's SHA-256).
    """

    def __init__(
        self,
        redis_client,
        limit=100,
        period=60.0,
        *,
        prefix="responso_chat:base_api:rate:",
        clock=None,
        sleep=time.sleep,
    ):
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.redis = redis_client
        self.limit = limit
        self.period = period
        self.prefix = prefix
        self._clock = clock or self._server_time
        self._sleep = sleep

    def _server_time(self) -> float:
        seconds, microseconds = self.redis.time()
        return seconds + microseconds / 1_000_000

    def acquire(self, key: str) -> None:
        """Take one slot for ``key``, waiting until one is free."""
        name = self.prefix + key
        while True:
            now = self._clock()
            member = f"{now:.6f}:{random.getrandbits(64):016x}"
            pipe = self.redis.pipeline(transaction=True)
            pipe.zremrangebyscore(name, "-inf", now - self.period)
            pipe.zadd(name, {member: now})
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            pipe.pexpire(name, math.ceil(self.period * 1000) + 1000)
            _removed, _added, count, oldest, _expire = pipe.execute()
            if count <= self.limit:
                return
            self.redis.zrem(name, member)
            self._sleep(max(oldest[0][1] + self.period - now, 0.001))


class BaseClient:
    """Client of the Base API for one token.

    ``rate_limiter`` needs ``acquire(key)``; the default is a fresh
    ``InProcessRateLimiter(100, 61)`` for this instance (one second of slack, because Base
    counts requests on arrival). Pass a shared :class:`RedisRateLimiter` when several processes
    use the same token. ``retries`` is the number of retries after the first attempt on
    transient faults. ``clock`` (unix time) is used to compute how long a token block lasts.
    A ``session`` passed in is used but never closed; the client's own session is closed by
    :meth:`close` or on leaving a ``with`` block.
    """

    def __init__(
        self,
        token,
        url=DEFAULT_URL,
        timeout=10.0,
        session=None,
        rate_limiter=None,
        max_blocked_wait=60.0,
        retries=3,
        backoff=0.5,
        sleep=time.sleep,
        clock=time.time,
    ):
        if not isinstance(token, str) or not token.strip():
            raise ValueError("Base API token must be a non-empty string")
        self._token = token
        self._key = hashlib.sha256(token.encode()).hexdigest()
        self.url = url
        self.timeout = timeout
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._limiter = rate_limiter or InProcessRateLimiter(limit=100, period=61.0)
        self.max_blocked_wait = max_blocked_wait
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock

    @property
    def masked_token(self) -> str:
        """The token as safe to show: ``…`` plus its last 4 characters (if it is long enough)."""
        return "…" + (self._token[-4:] if len(self._token) >= 12 else "")

    def __repr__(self) -> str:
        return f"BaseClient(url={self.url!r}, token={self.masked_token!r})"

    def close(self) -> None:
        """Close the HTTP session if the client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, self.masked_token)

    def _attempt(self, payload: dict[str, str]) -> dict[str, Any] | str:
        """One HTTP request: the parsed answer, or a short reason when it failed transiently."""
        try:
            with self._session.post(
                self.url,
                data=payload,
                headers={"X-BLToken": self._token, "Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,  # a redirect would carry the token to another address
            ) as response:
                if response.is_redirect:
                    raise BaseUnavailable(
                        f"the Base API URL answers with a redirect (HTTP {response.status_code}); "
                        "set the API URL to the address it leads to"
                    )
                if response.status_code >= 500:
                    return f"HTTP {response.status_code}"
                try:
                    answer = response.json()
                except ValueError:
                    return f"non-JSON answer (HTTP {response.status_code})"
        except requests.RequestException as exc:
            return type(exc).__name__
        if not isinstance(answer, dict) or answer.get("status") not in ("SUCCESS", "ERROR"):
            return "answer without a SUCCESS/ERROR status"
        return answer

    def call(self, method: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call ``method`` and return the whole SUCCESS answer as a dict.

        Raises :class:`BaseApiError` on an ERROR answer and :class:`BaseUnavailable` when every
        attempt failed transiently.
        """
        payload = {"method": method, "parameters": json.dumps(parameters or {})}
        attempt = 0
        blocked_waited = 0.0
        while True:
            self._limiter.acquire(self._key)
            answer = self._attempt(payload)
            if isinstance(answer, str):
                if attempt >= self.retries:
                    raise BaseUnavailable(
                        f"Base API {method} failed after {attempt + 1} attempts: {answer}"
                    )
                delay = self.backoff * 2**attempt * random.uniform(0.5, 1.0)
                attempt += 1
                log.warning(
                    "Base API %s failed (%s); retry %d/%d in %.2f s",
                    method,
                    answer,
                    attempt,
                    self.retries,
                    delay,
                )
                self._sleep(delay)
                continue
            if answer["status"] == "SUCCESS":
                return answer
            error = BaseApiError(
                self._scrub(_text(answer.get("error_code")) or "ERROR_UNKNOWN"),
                self._scrub(_text(answer.get("error_message"))),
            )
            if error.error_code != BLOCKED_TOKEN:
                raise error
            until = parse_blocked_until(error.message)
            if until is None:
                raise error
            wait = max(until.timestamp() - self._clock(), 0.0) + BLOCK_MARGIN
            if blocked_waited + wait > self.max_blocked_wait:
                raise error
            log.warning("Base API token blocked until %s; waiting %.1f s", until, wait)
            self._sleep(wait)
            blocked_waited += wait

    def get_orders(
        self,
        email: str | None = None,
        date_confirmed_from: int | datetime | None = None,
        status_id: int | None = None,
        order_id: int | None = None,
        get_unconfirmed_orders: bool = True,
    ) -> list[dict[str, Any]]:
        """Every matching order, oldest confirmation first, following the API's paging.

        Pages of 100 are fetched with ``date_confirmed_from`` = last order's
        ``date_confirmed`` + 1 until a page is short. Orders are normalized by
        :func:`normalize_order`; duplicates across pages are dropped.
        """
        parameters: dict[str, Any] = {"get_unconfirmed_orders": bool(get_unconfirmed_orders)}
        if email is not None:
            parameters["filter_email"] = email
        if status_id is not None:
            parameters["status_id"] = int(status_id)
        if order_id is not None:
            parameters["order_id"] = int(order_id)
        if isinstance(date_confirmed_from, datetime):
            date_confirmed_from = int(date_confirmed_from.timestamp())
        cursor = date_confirmed_from
        orders: list[dict[str, Any]] = []
        seen: set[int] = set()
        while True:
            if cursor is not None:
                parameters["date_confirmed_from"] = int(cursor)
            page = self.call("getOrders", parameters).get("orders")
            page = page if isinstance(page, list) else []
            normalized = [order for order in map(normalize_order, page) if order is not None]
            for order in normalized:
                if order["order_id"] not in seen:
                    seen.add(order["order_id"])
                    orders.append(order)
            if len(page) < PAGE_SIZE or not normalized:
                return orders
            next_cursor = max(order["date_confirmed"] for order in normalized) + 1
            if cursor is not None and next_cursor <= cursor:
                return orders
            cursor = next_cursor

    def get_order_status_list(self) -> list[dict[str, Any]]:
        """The account's order statuses: ``{id: int, name, name_for_customer, color}``."""
        statuses = self.call("getOrderStatusList").get("statuses")
        return [
            {
                "id": _int(status.get("id")),
                "name": _text(status.get("name")),
                "name_for_customer": _text(status.get("name_for_customer")),
                "color": _text(status.get("color")),
            }
            for status in (statuses if isinstance(statuses, list) else ())
            if isinstance(status, dict)
        ]

    def set_order_status(self, order_id: int, status_id: int) -> None:
        """Move an order to another status."""
        self.call("setOrderStatus", {"order_id": int(order_id), "status_id": int(status_id)})

    def get_order_sources(self) -> dict[str, dict[int, str]]:
        """Order sources: source type (``"shop"``, ``"personal"``, ...) to ``{id: name}``."""
        sources = self.call("getOrderSources").get("sources")
        return {
            _text(kind): {_int(source_id): _text(name) for source_id, name in entries.items()}
            for kind, entries in (sources if isinstance(sources, dict) else {}).items()
            if isinstance(entries, dict)
        }
