"""A strict local stand-in for the Base API, for tests and the demo.

It speaks the protocol of ``BASE_API.md`` over real HTTP: only ``POST /connector.php`` (other
paths 404, other methods 405), token in ``X-BLToken``, form fields ``method`` and
``parameters`` (a JSON object), answers HTTP 200 JSON with ``status`` ``SUCCESS`` or
``ERROR`` plus ``error_code`` and ``error_message``. Error codes:

- ``ERROR_BAD_TOKEN``: the header is missing or wrong;
- ``ERROR_BLOCKED_TOKEN``: more than ``rate_limit`` requests in ``period`` seconds; the message
  says ``token blocked until YYYY-MM-DD HH:MM:SS UTC (unix N)`` and the token stays blocked
  until the oldest counted request leaves the sliding window;
- ``ERROR_UNKNOWN_METHOD``: ``method`` missing or not one of ``getOrders``,
  ``getOrderStatusList``, ``setOrderStatus``, ``getOrderSources``;
- ``ERROR_PARAMETERS``: ``parameters`` missing, not JSON, not an object, an unknown parameter
  name, a value of the wrong JSON type (``true`` is not an int) or a missing required one;
- ``ERROR_ORDER_NOT_FOUND`` / ``ERROR_STATUS_ID``: ``setOrderStatus`` with an unknown order or
  status.

Like the real API it sends some numbers as strings: ``shop_order_id``, ``date_add`` and
``date_in_status`` are strings in ``getOrders`` answers, as are the source ids of
``getOrderSources``; ``order_id``, ``order_status_id`` and ``date_confirmed`` are ints.
``getOrders`` includes a few fields beyond those the plugin uses (``order_source``, ...).

Test hooks on ``app.standin`` (not part of the protocol): ``down = True`` answers 503 to every
request, ``delay`` seconds are slept before answering, ``fail_next(n, kind)`` makes the next
``n`` requests fail (``"500"``: HTTP 500 HTML page; ``"html"``: HTTP 200 HTML page), ``calls``
lists the ``method`` field of every request that passed the token and rate checks,
``blocked_count`` counts requests refused with ``ERROR_BLOCKED_TOKEN``.
"""

from __future__ import annotations

import copy
import hmac
import json
import math
import os
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from responso_chat.demo.base_orders import demo_order_sources, demo_orders, demo_statuses

__all__ = [
    "StandinApp",
    "StandinStore",
    "create_standin_app",
    "main",
    "serve_standin",
]

PAGE_SIZE = 100
ORDER_FIELDS: dict[str, Any] = {
    "order_id": 0,
    "shop_order_id": 0,
    "order_status_id": 0,
    "date_add": 0,
    "date_confirmed": 0,
    "date_in_status": 0,
    "user_login": "",
    "email": "",
    "phone": "",
    "currency": "PLN",
    "payment_method": "",
    "payment_done": 0.0,
    "delivery_method": "",
    "delivery_price": 0.0,
    "delivery_fullname": "",
    "delivery_address": "",
    "delivery_city": "",
    "delivery_postcode": "",
    "delivery_country_code": "",
    "delivery_package_nr": "",
    "delivery_package_module": "",
    "order_page": "",
    "products": [],
    "order_source": "shop",
    "order_source_id": 2401,
    "user_comments": "",
    "admin_comments": "",
}
_INT_FIELDS = (
    "order_id",
    "shop_order_id",
    "order_status_id",
    "date_add",
    "date_confirmed",
    "date_in_status",
)
_STRING_ON_WIRE = ("shop_order_id", "date_add", "date_in_status")

# method name -> (parameter name -> exact JSON type, required parameter names)
_SIGNATURES: dict[str, tuple[dict[str, type], tuple[str, ...]]] = {
    "getOrders": (
        {
            "filter_email": str,
            "date_confirmed_from": int,
            "get_unconfirmed_orders": bool,
            "order_id": int,
            "status_id": int,
        },
        (),
    ),
    "getOrderStatusList": ({}, ()),
    "setOrderStatus": ({"order_id": int, "status_id": int}, ("order_id", "status_id")),
    "getOrderSources": ({}, ()),
}


class _ApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code
        self.message = message


class StandinStore:
    """The stand-in's data and test hooks; every access holds one lock."""

    def __init__(self, token, orders, statuses, sources, rate_limit, period, clock):
        self._token = token.encode()
        self._lock = threading.Lock()
        self._orders: dict[int, dict[str, Any]] = {}
        self._statuses = [dict(status) for status in statuses]
        self._sources = copy.deepcopy(sources)
        self.rate_limit = rate_limit
        self.period = period
        self.clock = clock
        self._hits: deque[float] = deque()
        self._blocked_until = 0.0
        self._failures: deque[str] = deque()
        self.down = False
        self.delay = 0.0
        self.calls: list[str] = []
        self.blocked_count = 0
        for order in orders:
            self.add_order(order)

    def add_order(self, order: dict[str, Any]) -> None:
        """Store (or replace) an order; missing fields get defaults, ids and times become int."""
        stored = {**copy.deepcopy(ORDER_FIELDS), **copy.deepcopy(order)}
        for name in _INT_FIELDS:
            stored[name] = int(stored[name])
        with self._lock:
            self._orders[stored["order_id"]] = stored

    def order(self, order_id: int) -> dict[str, Any]:
        """A copy of one stored order (KeyError if unknown)."""
        with self._lock:
            return copy.deepcopy(self._orders[order_id])

    def fail_next(self, n: int = 1, kind: str = "500") -> None:
        """Make the next ``n`` requests fail: ``"500"`` (HTTP 500) or ``"html"`` (200, HTML)."""
        if kind not in ("500", "html"):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._failures.extend([kind] * n)

    def take_failure(self) -> str | None:
        """The failure planned for this request, if any."""
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def token_ok(self, token: str | None) -> bool:
        """Whether ``token`` is the stand-in's token (constant-time comparison)."""
        return token is not None and hmac.compare_digest(token.encode(), self._token)

    def admit(self, method: str) -> float | None:
        """Count one request; ``None`` if allowed (``method`` joins ``calls``), else the unix
        time the block ends."""
        with self._lock:
            now = self.clock()
            if now < self._blocked_until:
                self.blocked_count += 1
                return self._blocked_until
            while self._hits and self._hits[0] <= now - self.period:
                self._hits.popleft()
            if len(self._hits) >= self.rate_limit:
                self._blocked_until = self._hits[0] + self.period
                self.blocked_count += 1
                return self._blocked_until
            self._hits.append(now)
            self.calls.append(method)
            return None

    def get_orders(self, params: dict[str, Any]) -> dict[str, Any]:
        """``getOrders``: filtered orders, oldest confirmation first, at most 100."""
        email = params.get("filter_email")
        with self._lock:
            found = [
                order
                for order in self._orders.values()
                if (email is None or order["email"].lower() == email.lower())
                and order["date_confirmed"] >= params.get("date_confirmed_from", 0)
                and (params.get("get_unconfirmed_orders", False) or order["date_confirmed"])
                and params.get("order_id", order["order_id"]) == order["order_id"]
                and params.get("status_id", order["order_status_id"]) == order["order_status_id"]
            ]
            found.sort(key=lambda order: (order["date_confirmed"], order["order_id"]))
            page = copy.deepcopy(found[:PAGE_SIZE])
        for order in page:
            for name in _STRING_ON_WIRE:
                order[name] = str(order[name])
        return {"orders": page}

    def get_order_status_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """``getOrderStatusList``."""
        with self._lock:
            return {"statuses": copy.deepcopy(self._statuses)}

    def set_order_status(self, params: dict[str, Any]) -> dict[str, Any]:
        """``setOrderStatus``: change the status and ``date_in_status``."""
        with self._lock:
            order = self._orders.get(params["order_id"])
            if order is None:
                raise _ApiError("ERROR_ORDER_NOT_FOUND", f"Order {params['order_id']} not found")
            if params["status_id"] not in {status["id"] for status in self._statuses}:
                raise _ApiError("ERROR_STATUS_ID", f"Invalid status_id {params['status_id']}")
            order["order_status_id"] = params["status_id"]
            order["date_in_status"] = int(self.clock())
        return {}

    def get_order_sources(self, params: dict[str, Any]) -> dict[str, Any]:
        """``getOrderSources``."""
        with self._lock:
            return {"sources": copy.deepcopy(self._sources)}


class StandinApp:
    """The WSGI application; its data and test hooks are ``self.standin``."""

    def __init__(self, store: StandinStore):
        self.standin = store
        self._handlers = {
            "getOrders": store.get_orders,
            "getOrderStatusList": store.get_order_status_list,
            "setOrderStatus": store.set_order_status,
            "getOrderSources": store.get_order_sources,
        }

    def __call__(self, environ, start_response):
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path != "/connector.php":
            return Response("Not Found", 404, mimetype="text/plain")
        if request.method != "POST":
            return Response("Method Not Allowed", 405, {"Allow": "POST"}, mimetype="text/plain")
        store = self.standin
        if store.delay:
            time.sleep(store.delay)
        if store.down:
            return Response(
                "<html><h1>503 Service Unavailable</h1></html>", 503, mimetype="text/html"
            )
        failure = store.take_failure()
        if failure is not None:
            status = 500 if failure == "500" else 200
            return Response(f"<html><h1>Error {status}</h1></html>", status, mimetype="text/html")
        try:
            answer = self._answer(request)
        except _ApiError as error:
            answer = {"status": "ERROR", "error_code": error.code, "error_message": error.message}
        return Response(json.dumps(answer), 200, mimetype="application/json")

    def _answer(self, request: Request) -> dict[str, Any]:
        store = self.standin
        if not store.token_ok(request.headers.get("X-BLToken")):
            raise _ApiError("ERROR_BAD_TOKEN", "Invalid or missing API token")
        method = request.form.get("method", "")
        blocked_until = store.admit(method)
        if blocked_until is not None:
            until = math.ceil(blocked_until)
            stamp = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M:%S")
            raise _ApiError(
                "ERROR_BLOCKED_TOKEN",
                f"Query limit exceeded, token blocked until {stamp} UTC (unix {until})",
            )
        if method not in _SIGNATURES:
            raise _ApiError("ERROR_UNKNOWN_METHOD", f"Unknown method {method!r}")
        params = _parse_parameters(request.form.get("parameters"), *_SIGNATURES[method])
        return {"status": "SUCCESS", **self._handlers[method](params)}


def _parse_parameters(raw, types: dict[str, type], required: tuple[str, ...]) -> dict[str, Any]:
    if raw is None:
        raise _ApiError("ERROR_PARAMETERS", "Missing 'parameters' field")
    try:
        params = json.loads(raw)
    except ValueError:
        raise _ApiError("ERROR_PARAMETERS", "'parameters' is not valid JSON") from None
    if not isinstance(params, dict):
        raise _ApiError("ERROR_PARAMETERS", "'parameters' must be a JSON object")
    for name, value in params.items():
        if name not in types:
            raise _ApiError("ERROR_PARAMETERS", f"Unknown parameter {name!r}")
        if type(value) is not types[name]:
            raise _ApiError(
                "ERROR_PARAMETERS", f"Parameter {name!r} must be {types[name].__name__}"
            )
    for name in required:
        if name not in params:
            raise _ApiError("ERROR_PARAMETERS", f"Missing parameter {name!r}")
    return params


def create_standin_app(
    token,
    orders=None,
    statuses=None,
    rate_limit=100,
    period=60.0,
    clock=time.time,
    sources=None,
) -> StandinApp:
    """A stand-in WSGI app accepting ``token``; ``None`` data means the demo data.

    ``rate_limit`` requests per ``period`` seconds (sliding window, measured with ``clock``,
    unix time) are allowed.
    """
    store = StandinStore(
        token,
        demo_orders() if orders is None else orders,
        demo_statuses() if statuses is None else statuses,
        demo_order_sources() if sources is None else sources,
        rate_limit,
        period,
        clock,
    )
    return StandinApp(store)


def serve_standin(app, host="127.0.0.1", port=0):
    """Serve ``app`` on a threaded werkzeug server in a daemon thread.

    Returns ``(server, thread, url)``; ``url`` is the ``/connector.php`` endpoint. Stop with
    ``server.shutdown()`` then ``thread.join()`` (the server closes its socket on the way out).
    """
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # so shutdown() returns quickly
        name="base-standin",
        daemon=True,
    )
    thread.start()
    return server, thread, f"http://{host}:{server.server_port}/connector.php"



def main(argv=None) -> None:
    """Serve the stand-in with demo data until interrupted.

    ``python -m responso_chat.demo.base_standin [PORT]``; the port may also come from
    ``BASE_STANDIN_PORT`` (default 5001) and the token from ``BASE_STANDIN_TOKEN``.
    """
    args = sys.argv[1:] if argv is None else argv
    port = int(args[0] if args else os.environ.get("BASE_STANDIN_PORT", "5001"))
    token = os.environ.get("BASE_STANDIN_TOKEN", "demo-base-token-0000")
    server = make_server("127.0.0.1", port, create_standin_app(token), threaded=True)
    print(f"Base stand-in on http://127.0.0.1:{server.server_port}/connector.php", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
