"""BaseClient against the local Base stand-in over real HTTP on loopback, plus the limiters."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import socket
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import fakeredis
import pytest
import requests

from responso_chat.demo.base_orders import demo_orders, demo_statuses
from responso_chat.demo.base_standin import create_standin_app, serve_standin
from responso_chat.orders.base_client import (
    BaseApiError,
    BaseClient,
    BaseUnavailable,
    InProcessRateLimiter,
    RedisRateLimiter,
    normalize_order,
    parse_blocked_until,
)

TOKEN = "bl-test-token-5f3c9a1e7b2d4c68"
ANNA = "anna.kowalska@example.com"
DAY = 86400
NOW = 1_800_000_000


class FakeTime:
    """A clock that only moves when ``sleep`` is called; records every sleep."""

    def __init__(self, start=float(NOW)):
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def standin():
    """``standin(**create_standin_app kwargs) -> (store, url)``; servers stop at teardown."""
    running = []

    def start(**kwargs):
        kwargs.setdefault("token", TOKEN)
        app = create_standin_app(**kwargs)
        server, thread, url = serve_standin(app)
        running.append((server, thread))
        return app.standin, url

    yield start
    for server, thread in running:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def make_client():
    """``make_client(url, **BaseClient kwargs)``; clients are closed at teardown."""
    clients = []

    def make(url, **kwargs):
        kwargs.setdefault("token", TOKEN)
        client = BaseClient(url=url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def bulk_order(order_id, email, date_confirmed, **fields):
    return {
        "order_id": order_id,
        "email": email,
        "order_status_id": 1003,
        "date_add": date_confirmed - 60,
        "date_confirmed": date_confirmed,
        "date_in_status": date_confirmed,
        "products": [
            {
                "name": "Mug",
                "sku": "MUG-1",
                "ean": "5900000000001",
                "price_brutto": 10.5,
                "quantity": 2,
            }
        ],
        "delivery_price": 5.0,
        **fields,
    }


# --- normalization -------------------------------------------------------------------------


def test_normalize_order_parses_strings_and_drops_unknown_fields():
    order = normalize_order(
        {
            "order_id": "123",
            "shop_order_id": "77",
            "order_status_id": "1005",
            "date_add": "1700000000",
            "date_confirmed": 1700000100,
            "date_in_status": "1700000200.0",
            "email": "a@example.com",
            "phone": None,
            "delivery_price": "9,99",
            "payment_done": 30.99,
            "products": [
                {
                    "name": "X",
                    "sku": "S",
                    "ean": 5901234123457,
                    "price_brutto": "10.50",
                    "quantity": "2",
                    "extra": 1,
                },
                "garbage",
            ],
            "unexpected": {"x": 1},
        }
    )
    assert order["order_id"] == 123
    assert order["shop_order_id"] == 77
    assert order["order_status_id"] == 1005
    assert (order["date_add"], order["date_confirmed"], order["date_in_status"]) == (
        1700000000,
        1700000100,
        1700000200,
    )
    assert order["phone"] == "" and order["email"] == "a@example.com"
    assert order["delivery_price"] == Decimal("9.99")
    assert order["payment_done"] == Decimal("30.99")
    assert order["products"] == [
        {
            "name": "X",
            "sku": "S",
            "ean": "5901234123457",
            "price_brutto": Decimal("10.50"),
            "quantity": 2,
        }
    ]
    assert order["total"] == Decimal("30.99")
    assert "unexpected" not in order


def test_normalize_order_defends_against_garbage():
    assert normalize_order("x") is None
    assert normalize_order({"order_id": "abc"}) is None
    assert normalize_order({"order_id": True}) is None
    order = normalize_order(
        {"order_id": 5, "date_add": "soon", "delivery_price": "NaN", "products": None}
    )
    assert order["date_add"] == 0
    assert order["delivery_price"] == Decimal(0)
    assert order["products"] == []
    assert order["total"] == Decimal(0)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Query limit exceeded, token blocked until 2026-11-24 12:34:56",
            datetime(2026, 11, 24, 12, 34, 56, tzinfo=UTC),
        ),
        (
            "token blocked until 2026-11-24T12:34:56 UTC",
            datetime(2026, 11, 24, 12, 34, 56, tzinfo=UTC),
        ),
        ("blocked until 1795000000", datetime.fromtimestamp(1795000000, UTC)),
        ("blocked until 1795000000.5 (unix)", datetime.fromtimestamp(1795000000, UTC)),
        ("Query limit exceeded", None),
        ("", None),
    ],
)
def test_parse_blocked_until(message, expected):
    assert parse_blocked_until(message) == expected


# --- methods ---------------------------------------------------------------------------------


def test_get_orders_returns_normalized_orders_oldest_first(standin, make_client):
    store, url = standin(orders=demo_orders(now=NOW))
    orders = make_client(url).get_orders(email=ANNA.upper())

    assert [o["order_id"] for o in orders] == [5100420, 5103650, 5104101, 5104188]
    shipped = orders[2]
    raw = store.order(5104101)
    assert shipped["email"] == ANNA
    assert shipped["order_status_id"] == 1005
    assert shipped["date_add"] == raw["date_add"] and isinstance(shipped["date_add"], int)
    assert shipped["date_in_status"] == raw["date_in_status"]
    assert shipped["shop_order_id"] == raw["shop_order_id"]
    assert shipped["delivery_package_nr"] == "620012345678901234567890"
    assert shipped["order_page"] == "https://shop.example.com/order/5104101"
    assert shipped["products"][1] == {
        "name": "Wool care shampoo 250 ml",
        "sku": "CARE-WOOL-250",
        "ean": "5901234123464",
        "price_brutto": Decimal("24.99"),
        "quantity": 2,
    }
    assert shipped["delivery_price"] == Decimal("12.99")
    assert shipped["total"] == Decimal("129.00") + 2 * Decimal("24.99") + Decimal("12.99")
    assert "order_source" not in shipped and "admin_comments" not in shipped


def test_get_orders_filters(standin, make_client):
    unconfirmed = bulk_order(5109999, ANNA, 0, order_status_id=1001)
    store, url = standin(orders=[*demo_orders(now=NOW), unconfirmed])
    client = make_client(url)

    since = NOW - 90 * DAY
    recent = client.get_orders(email=ANNA, date_confirmed_from=since)
    assert [o["order_id"] for o in recent] == [5103650, 5104101, 5104188]
    as_datetime = client.get_orders(
        email=ANNA, date_confirmed_from=datetime.fromtimestamp(since, UTC)
    )
    assert as_datetime == recent
    assert [o["order_id"] for o in client.get_orders(email=ANNA, status_id=1006)] == [
        5100420,
        5103650,
    ]
    assert [o["order_id"] for o in client.get_orders(order_id=5104150)] == [5104150]
    assert client.get_orders(email="nobody@example.com") == []
    with_unconfirmed = client.get_orders(email=ANNA)
    assert with_unconfirmed[0]["order_id"] == 5109999 and len(with_unconfirmed) == 5
    assert len(client.get_orders(email=ANNA, get_unconfirmed_orders=False)) == 4


def test_get_orders_follows_paging_past_100(standin, make_client):
    base = NOW - 30 * DAY
    bulk = [bulk_order(9_000_000 + i, "bulk@example.com", base + i * 60) for i in range(250)]
    others = [bulk_order(8_000_000 + i, "other@example.com", base + i * 90 + 7) for i in range(40)]
    seeded = bulk + others
    random.Random(7).shuffle(seeded)
    store, url = standin(orders=seeded)
    client = make_client(url)

    orders = client.get_orders(email="bulk@example.com")
    assert [o["order_id"] for o in orders] == [9_000_000 + i for i in range(250)]
    assert store.calls == ["getOrders"] * 3

    store.calls.clear()
    tail = client.get_orders(email="bulk@example.com", date_confirmed_from=base + 150 * 60)
    assert [o["order_id"] for o in tail] == [9_000_000 + i for i in range(150, 250)]
    assert store.calls == ["getOrders"] * 2  # a full page, then an empty one


def test_order_status_list_and_sources(standin, make_client):
    _store, url = standin()
    client = make_client(url)
    statuses = client.get_order_status_list()
    assert statuses == demo_statuses()
    assert statuses[0] == {
        "id": 1001,
        "name": "New",
        "name_for_customer": "Order received",
        "color": "#4a90d9",
    }
    assert client.get_order_sources() == {
        "personal": {0: "In person / phone"},
        "shop": {2401: "shop.example.com"},
    }


def test_set_order_status_changes_status_and_date_in_status(standin, make_client):
    fake = FakeTime(NOW + 5.7)
    store, url = standin(orders=demo_orders(now=NOW), clock=fake.clock)
    client = make_client(url)

    assert client.set_order_status(5104188, 1003) is None
    assert store.order(5104188)["order_status_id"] == 1003
    [order] = client.get_orders(order_id=5104188)
    assert order["order_status_id"] == 1003
    assert order["date_in_status"] == NOW + 5


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.set_order_status(424242, 1003), "ERROR_ORDER_NOT_FOUND"),
        (lambda c: c.set_order_status(5104188, 9999), "ERROR_STATUS_ID"),
        (lambda c: c.call("getInventories"), "ERROR_UNKNOWN_METHOD"),
        (lambda c: c.call("getOrders", {"order_id": "5104188"}), "ERROR_PARAMETERS"),
        (lambda c: c.call("getOrders", {"filter_email": 5}), "ERROR_PARAMETERS"),
        (lambda c: c.call("getOrders", {"get_unconfirmed_orders": 1}), "ERROR_PARAMETERS"),
        (lambda c: c.call("getOrders", {"filter_foo": "x"}), "ERROR_PARAMETERS"),
        (lambda c: c.call("setOrderStatus", {"order_id": 5104188}), "ERROR_PARAMETERS"),
    ],
)
def test_api_errors_raise_base_api_error(standin, make_client, call, code):
    store, url = standin()
    with pytest.raises(BaseApiError) as info:
        call(make_client(url))
    assert info.value.error_code == code
    assert info.value.message
    assert str(info.value) == f"{code}: {info.value.message}"
    assert store.blocked_count == 0


def test_bad_token_raises_without_showing_either_token(standin, make_client):
    _store, url = standin()
    wrong = "bl-wrong-token-0123456789abcdef"
    with pytest.raises(BaseApiError) as info:
        make_client(url, token=wrong).get_order_status_list()
    assert info.value.error_code == "ERROR_BAD_TOKEN"
    for text in (str(info.value), repr(info.value), repr(info.value.args)):
        assert wrong not in text and TOKEN not in text


# --- rate limits and blocked tokens --------------------------------------------------------


def test_client_limiter_keeps_under_the_standin_limit(standin, make_client):
    store, url = standin(rate_limit=5, period=1.0)
    # Base counts on arrival, so the client's window carries a little slack.
    client = make_client(url, rate_limiter=InProcessRateLimiter(limit=5, period=1.1))
    started = time.monotonic()
    for _ in range(12):
        client.get_order_status_list()
    assert store.blocked_count == 0
    assert store.calls == ["getOrderStatusList"] * 12
    assert time.monotonic() - started >= 2.2


def test_standin_blocks_over_the_limit_until_the_window_frees(standin):
    fake = FakeTime(NOW + 0.25)
    store, url = standin(rate_limit=3, period=30.0, clock=fake.clock)
    form = {"method": "getOrderStatusList", "parameters": "{}"}

    def post():
        return requests.post(url, data=form, headers={"X-BLToken": TOKEN}, timeout=5).json()

    assert [post()["status"] for _ in range(3)] == ["SUCCESS"] * 3
    answer = post()
    assert answer["status"] == "ERROR" and answer["error_code"] == "ERROR_BLOCKED_TOKEN"
    assert parse_blocked_until(answer["error_message"]) == datetime.fromtimestamp(NOW + 31, UTC)
    assert f"unix {NOW + 31}" in answer["error_message"]
    fake.now = NOW + 30.2
    assert post()["error_code"] == "ERROR_BLOCKED_TOKEN"
    fake.now = NOW + 30.25
    assert post()["status"] == "SUCCESS"
    assert store.blocked_count == 2


def test_blocked_token_is_waited_out_then_retried(standin, make_client):
    fake = FakeTime(NOW + 0.25)
    store, url = standin(rate_limit=2, period=30.0, clock=fake.clock)
    client = make_client(
        url,
        rate_limiter=InProcessRateLimiter(limit=1000),
        sleep=fake.sleep,
        clock=fake.clock,
        max_blocked_wait=60.0,
    )
    for _ in range(3):
        assert client.get_order_status_list()
    assert fake.sleeps == [pytest.approx(31 - 0.25 + 1.0)]  # until the block ends + margin
    assert store.blocked_count == 1
    assert store.calls == ["getOrderStatusList"] * 3


def test_blocked_token_longer_than_max_blocked_wait_raises(standin, make_client):
    fake = FakeTime()
    store, url = standin(rate_limit=2, period=60.0, clock=fake.clock)
    client = make_client(
        url,
        rate_limiter=InProcessRateLimiter(limit=1000),
        sleep=fake.sleep,
        clock=fake.clock,
        max_blocked_wait=10.0,
    )
    client.get_order_status_list()
    client.get_order_status_list()
    with pytest.raises(BaseApiError) as info:
        client.get_order_status_list()
    assert info.value.error_code == "ERROR_BLOCKED_TOKEN"
    assert "blocked until" in str(info.value)
    assert fake.sleeps == []


def test_in_process_limiter_sliding_window():
    fake = FakeTime(100.0)
    limiter = InProcessRateLimiter(limit=3, period=10.0, clock=fake.clock, sleep=fake.sleep)
    for step in (0, 1, 1):
        fake.now += step
        limiter.acquire("a")
    limiter.acquire("b")  # keys are independent
    assert fake.sleeps == []
    limiter.acquire("a")
    assert fake.sleeps == [pytest.approx(8.0)]  # the first slot (t=100) frees at t=110


def test_in_process_limiter_is_thread_safe():
    limiter = InProcessRateLimiter(limit=5, period=0.2)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire("k")
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    stamps.sort()
    assert len(stamps) == 20
    assert all(stamps[i + 5] - stamps[i] >= 0.2 - 0.05 for i in range(len(stamps) - 5))


def test_redis_limiter_is_shared_between_processes():
    server = fakeredis.FakeServer()
    first, second = fakeredis.FakeRedis(server=server), fakeredis.FakeRedis(server=server)
    fake = FakeTime(1000.0)
    a = RedisRateLimiter(first, limit=3, period=10.0, clock=fake.clock, sleep=fake.sleep)
    b = RedisRateLimiter(second, limit=3, period=10.0, clock=fake.clock, sleep=fake.sleep)
    a.acquire("k")
    fake.now += 1
    b.acquire("k")
    fake.now += 1
    a.acquire("k")
    assert fake.sleeps == []
    b.acquire("k")
    assert fake.sleeps == [pytest.approx(8.0)]
    key = "responso_chat:base_api:rate:k"
    assert first.zcard(key) == 3  # the refused attempt removed itself
    assert 0 < first.pttl(key) <= 11_000
    first.close()
    second.close()


def test_redis_limiter_uses_redis_time_by_default():
    redis_client = fakeredis.FakeRedis()
    waits = []

    class Waited(Exception):
        pass

    def sleep(seconds):
        waits.append(seconds)
        raise Waited

    limiter = RedisRateLimiter(redis_client, limit=2, period=60.0, sleep=sleep)
    limiter.acquire("k")
    limiter.acquire("k")
    with pytest.raises(Waited):
        limiter.acquire("k")
    assert 59.0 < waits[0] <= 60.0
    redis_client.close()


def test_client_with_redis_limiter_keys_by_token_hash(standin, make_client):
    _store, url = standin()
    redis_client = fakeredis.FakeRedis()
    client = make_client(url, rate_limiter=RedisRateLimiter(redis_client))
    client.get_order_status_list()
    keys = [key.decode() for key in redis_client.keys("*")]
    assert keys == ["responso_chat:base_api:rate:" + hashlib.sha256(TOKEN.encode()).hexdigest()]
    redis_client.close()


# --- transient faults ----------------------------------------------------------------------


def test_retries_5xx_with_exponential_backoff(standin, make_client):
    store, url = standin()
    fake = FakeTime()
    client = make_client(url, sleep=fake.sleep, backoff=0.5, retries=3)
    store.fail_next(2, "500")
    assert client.get_order_status_list()
    assert len(fake.sleeps) == 2
    assert 0.25 <= fake.sleeps[0] <= 0.5 and 0.5 <= fake.sleeps[1] <= 1.0
    assert store.calls == ["getOrderStatusList"]


@pytest.mark.parametrize("kind", ["500", "html"])
def test_gives_up_with_base_unavailable(standin, make_client, kind):
    store, url = standin()
    fake = FakeTime()
    client = make_client(url, sleep=fake.sleep, retries=3)
    store.fail_next(4, kind)
    with pytest.raises(BaseUnavailable, match="after 4 attempts"):
        client.get_orders(email=ANNA)
    assert len(fake.sleeps) == 3
    assert store.calls == []


def test_down_standin_raises_base_unavailable(standin, make_client):
    store, url = standin()
    store.down = True
    fake = FakeTime()
    with pytest.raises(BaseUnavailable, match="HTTP 503"):
        make_client(url, sleep=fake.sleep, retries=2).get_order_sources()
    assert len(fake.sleeps) == 2


def test_connection_refused_raises_base_unavailable(make_client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeTime()
    client = make_client(f"http://127.0.0.1:{port}/connector.php", sleep=fake.sleep, retries=2)
    with pytest.raises(BaseUnavailable, match="ConnectionError"):
        client.get_order_status_list()
    assert len(fake.sleeps) == 2


def test_slow_standin_times_out(standin, make_client):
    store, url = standin()
    store.delay = 0.3
    fake = FakeTime()
    client = make_client(url, timeout=0.05, sleep=fake.sleep, retries=1)
    with pytest.raises(BaseUnavailable, match="Timeout"):
        client.get_order_status_list()
    assert len(fake.sleeps) == 1
    store.delay = 0
    time.sleep(0.3)  # let the slow handlers finish before the server stops


# --- secrecy ---------------------------------------------------------------------------------


def test_token_never_in_repr_errors_or_logs(standin, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeTime()
    store, url = standin(rate_limit=3, period=30.0, clock=fake.clock)
    client = make_client(
        url,
        sleep=fake.sleep,
        clock=fake.clock,
        retries=1,
        rate_limiter=InProcessRateLimiter(limit=1000),
    )

    assert repr(client) == f"BaseClient(url={url!r}, token='…{TOKEN[-4:]}')"
    store.fail_next(1, "500")
    client.get_order_status_list()  # one retry, logged
    client.get_order_status_list()
    client.get_order_status_list()  # blocked, waited out, logged
    errors = []
    store.fail_next(2, "html")
    with pytest.raises(BaseUnavailable) as unavailable:
        client.get_order_status_list()
    errors.append(unavailable.value)
    with pytest.raises(BaseApiError) as api_error:
        client.set_order_status(1, 1)
    errors.append(api_error.value)

    assert len(fake.sleeps) == 3 and any("retry" in r.getMessage() for r in caplog.records)
    assert any("blocked" in r.getMessage() for r in caplog.records)
    for error in errors:
        for text in (str(error), repr(error), repr(error.args)):
            assert TOKEN not in text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    assert TOKEN not in caplog.text


class EchoSession:
    """A session whose every answer is an ERROR quoting the token it was sent."""

    def post(self, url, data, headers, timeout, allow_redirects=True):
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(
            {
                "status": "ERROR",
                "error_code": "ERROR_BAD_TOKEN",
                "error_message": f"Token {headers['X-BLToken']} is not valid",
            }
        ).encode()
        return response


def test_token_echoed_by_the_api_is_masked():
    client = BaseClient(TOKEN, session=EchoSession())
    with pytest.raises(BaseApiError) as info:
        client.get_order_sources()
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert f"…{TOKEN[-4:]}" in info.value.message


def test_blocked_message_without_a_time_is_not_retried():
    class Blocked(EchoSession):
        def post(self, url, data, headers, timeout, allow_redirects=True):
            response = requests.Response()
            response.status_code = 200
            response._content = (
                b'{"status": "ERROR", "error_code": "ERROR_BLOCKED_TOKEN",'
                b' "error_message": "Query limit exceeded"}'
            )
            return response

    fake = FakeTime()
    client = BaseClient(TOKEN, session=Blocked(), sleep=fake.sleep)
    with pytest.raises(BaseApiError, match="ERROR_BLOCKED_TOKEN"):
        client.get_order_status_list()
    assert fake.sleeps == []


# --- the stand-in itself, spoken to raw ------------------------------------------------------


def raw_post(url, method=None, parameters="{}", token=TOKEN, **kwargs):
    data = {}
    if method is not None:
        data["method"] = method
    if parameters is not None:
        data["parameters"] = parameters
    headers = {} if token is None else {"X-BLToken": token}
    return requests.post(url, data=data, headers=headers, timeout=5, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"method": "getOrders", "token": None}, "ERROR_BAD_TOKEN"),
        ({"method": "getOrders", "token": "nope"}, "ERROR_BAD_TOKEN"),
        ({"method": "getOrders", "token": ""}, "ERROR_BAD_TOKEN"),
        ({}, "ERROR_UNKNOWN_METHOD"),
        ({"method": "getInventories"}, "ERROR_UNKNOWN_METHOD"),
        ({"method": "getOrders", "parameters": None}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": "{order_id: 1"}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": "[1, 2]"}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": "null"}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": '{"order_id": "5104188"}'}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": '{"order_id": true}'}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": '{"order_id": 1.5}'}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": '{"filter_email": 5}'}, "ERROR_PARAMETERS"),
        (
            {"method": "getOrders", "parameters": '{"get_unconfirmed_orders": "true"}'},
            "ERROR_PARAMETERS",
        ),
        ({"method": "getOrders", "parameters": '{"date_confirmed_from": "1"}'}, "ERROR_PARAMETERS"),
        ({"method": "getOrders", "parameters": '{"filter_foo": 1}'}, "ERROR_PARAMETERS"),
        ({"method": "getOrderStatusList", "parameters": '{"x": 1}'}, "ERROR_PARAMETERS"),
        ({"method": "setOrderStatus", "parameters": '{"order_id": 5104188}'}, "ERROR_PARAMETERS"),
        (
            {"method": "setOrderStatus", "parameters": '{"order_id": 1, "status_id": 1003}'},
            "ERROR_ORDER_NOT_FOUND",
        ),
        (
            {"method": "setOrderStatus", "parameters": '{"order_id": 5104188, "status_id": 1}'},
            "ERROR_STATUS_ID",
        ),
    ],
)
def test_standin_rejects_bad_requests(standin, kwargs, code):
    _store, url = standin()
    response = raw_post(url, **kwargs)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["status"] == "ERROR"
    assert answer["error_code"] == code
    assert isinstance(answer["error_message"], str) and answer["error_message"]
    assert TOKEN not in response.text


def test_standin_only_serves_post_connector(standin):
    _store, url = standin()
    assert requests.get(url, timeout=5).status_code == 405
    assert requests.post(url.replace("connector.php", "other.php"), timeout=5).status_code == 404
    assert requests.get(url.replace("/connector.php", "/"), timeout=5).status_code == 404
    json_body = requests.post(
        url, json={"method": "getOrders", "parameters": {}}, headers={"X-BLToken": TOKEN}, timeout=5
    ).json()
    assert json_body["error_code"] == "ERROR_UNKNOWN_METHOD"  # form fields, not a JSON body


def test_standin_wire_format_and_hooks(standin):
    store, url = standin(orders=demo_orders(now=NOW))
    assert url.startswith("http://127.0.0.1:") and url.endswith("/connector.php")
    answer = raw_post(url, "getOrders", json.dumps({"order_id": 5104101})).json()
    assert answer["status"] == "SUCCESS"
    [order] = answer["orders"]
    assert isinstance(order["order_id"], int) and isinstance(order["date_confirmed"], int)
    assert isinstance(order["date_add"], str) and isinstance(order["shop_order_id"], str)
    assert set(order) >= {
        "order_id",
        "shop_order_id",
        "order_status_id",
        "date_add",
        "date_confirmed",
        "date_in_status",
        "user_login",
        "email",
        "phone",
        "currency",
        "payment_method",
        "payment_done",
        "delivery_method",
        "delivery_price",
        "delivery_fullname",
        "delivery_address",
        "delivery_city",
        "delivery_postcode",
        "delivery_country_code",
        "delivery_package_nr",
        "order_page",
        "products",
    }
    assert set(order["products"][0]) >= {"name", "sku", "ean", "price_brutto", "quantity"}

    store.fail_next(1, "500")
    assert raw_post(url, "getOrderSources").status_code == 500
    store.fail_next(1, "html")
    html = raw_post(url, "getOrderSources")
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    store.down = True
    assert raw_post(url, "getOrderSources").status_code == 503
    store.down = False
    assert raw_post(url, "getOrderSources").json()["status"] == "SUCCESS"
    with pytest.raises(ValueError):
        store.fail_next(1, "drop")


def test_demo_data():
    orders = demo_orders(now=NOW)
    status_ids = {status["id"] for status in demo_statuses()}
    assert len(status_ids) == 8
    recent_cut = NOW - 90 * DAY
    for email in (ANNA, "jean.dupont@example.com", "john.smith@example.com"):
        mine = [o for o in orders if o["email"] == email]
        recent = [o for o in mine if o["date_confirmed"] >= recent_cut]
        assert 2 <= len(recent) <= 4
        assert len({o["order_status_id"] for o in recent}) >= 2
    old = [o for o in orders if o["date_confirmed"] < recent_cut]
    assert [o["email"] for o in old] == [ANNA]
    for order in orders:
        assert order["order_status_id"] in status_ids
        assert order["order_page"] == f"https://shop.example.com/order/{order['order_id']}"
        assert all(p["sku"] and p["ean"] for p in order["products"])
        if order["order_status_id"] == 1005:
            assert order["delivery_package_nr"]
    assert len({o["order_id"] for o in orders}) == len(orders)
