"""The shop's context of a chat: the host's cart callable (failing, slow, garbage), the visit's
trail and tracked events with Start chat and later, validated and size-limited, shown to
agents in the side panel and live."""

from __future__ import annotations

import time

import pytest

from responso_chat.models import TicketContext
from tests.factories import make_chat
from tests.test_widget_api import FORM, SHOP, bearer

CALLS = []


def raising_cart():
    """A host cart callable that fails."""
    CALLS.append("raise")
    raise RuntimeError("the shop's cart service is down")


def slow_cart():
    """A host cart callable slower than the timeout."""
    CALLS.append("slow")
    time.sleep(2)
    return {"items": [], "total": "0", "currency": "PLN"}


def garbage_cart():
    """A host cart callable returning no cart at all."""
    return {"items": "three shirts", "total": "lots", "currency": "zloty"}


def listed_cart():
    """A host cart callable returning a list instead of a dict."""
    return ["Linen shirt"]


TRAIL = [
    {"path": "/store/", "title": "Store", "at": "2026-12-07T10:00:00Z"},
    {"path": "/store/shirts", "title": "Shirts", "at": "2026-12-07T10:01:00Z"},
    {"path": "/store/shirts", "title": "Shirts", "at": "2026-12-07T10:01:30Z"},  # a reload
    {"path": "/store/cart", "title": "Cart", "at": "2026-12-07T10:02:00Z"},
]
EVENTS = [{"event": "add_to_cart", "data": {"sku": "LS-1", "qty": 1, "gift": False},
           "at": "2026-12-07T10:01:40Z"}]


def _chat(app):
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        return chat.public_key


def _context(app, ticket_id):
    with app.app_context():
        state = app.extensions["responso_chat"]
        row = state.db.session.get(TicketContext, ticket_id)
        return None if row is None else {"cart": row.cart, "trail": row.trail,
                                         "events": row.events}


def _start_same_site(client, key, **changes):
    """Start chat from the host's own pages: no Origin header, the host's session cookie."""
    return client.post(f"/chat/widget/{key}/tickets", json={**FORM, **changes})


@pytest.fixture
def cart_app(make_app):
    return make_app(RESPONSO_CHAT_CART="tests.hostapp:session_cart")


def _fill_cart(client):
    client.post("/cart/add", data={"product": "Linen shirt"})
    client.post("/cart/add", data={"product": "Linen shirt"})
    client.post("/cart/add", data={"product": "Wool scarf"})


def test_start_chat_stores_cart_and_trail_with_the_ticket(cart_app):
    client = cart_app.test_client()
    key = _chat(cart_app)
    _fill_cart(client)
    response = _start_same_site(client, key, context={"trail": TRAIL, "events": EVENTS})
    assert response.status_code == 201, response.json
    stored = _context(cart_app, response.json["ticket"]["id"])
    assert stored["cart"] == {
        "items": [{"name": "Linen shirt", "quantity": 2, "price": "89.90"},
                  {"name": "Wool scarf", "quantity": 1, "price": "45.00"}],
        "total": "224.80", "currency": "PLN",
    }
    # the reload is kept once; times as ISO text
    assert [p["path"] for p in stored["trail"]] == ["/store/", "/store/shirts", "/store/cart"]
    assert stored["events"][0]["event"] == "add_to_cart"
    assert stored["events"][0]["data"] == {"sku": "LS-1", "qty": 1, "gift": False}


def test_another_site_never_gets_the_hosts_cart(cart_app):
    """A page of another origin does not carry the host's session: no cart is asked for."""
    client = cart_app.test_client()
    key = _chat(cart_app)
    _fill_cart(client)
    response = client.post(f"/chat/widget/{key}/tickets",
                           json={**FORM, "context": {"trail": TRAIL}}, headers={"Origin": SHOP})
    assert response.status_code == 201
    stored = _context(cart_app, response.json["ticket"]["id"])
    assert stored["cart"] is None and len(stored["trail"]) == 3


@pytest.mark.parametrize("callable_name", ["raising_cart", "garbage_cart", "listed_cart"])
def test_a_failing_cart_callable_never_breaks_start_chat(make_app, callable_name):
    app = make_app(RESPONSO_CHAT_CART=f"tests.test_shop_context:{callable_name}")
    client = app.test_client()
    response = _start_same_site(client, _chat(app), context={"trail": TRAIL})
    assert response.status_code == 201, response.json
    stored = _context(app, response.json["ticket"]["id"])
    assert stored["cart"] is None and len(stored["trail"]) == 3


def test_a_slow_cart_callable_is_skipped_after_the_timeout(make_app):
    app = make_app(RESPONSO_CHAT_CART="tests.test_shop_context:slow_cart",
                   RESPONSO_CHAT_CART_TIMEOUT=0.2)
    client = app.test_client()
    began = time.monotonic()
    response = _start_same_site(client, _chat(app))
    assert response.status_code == 201
    assert time.monotonic() - began < 1.5  # the 2 s callable was not waited for
    assert _context(app, response.json["ticket"]["id"]) is None  # nothing known: no row
    # the message itself is there
    token = response.json["token"]
    resumed = client.get("/chat/widget/tickets/messages?after=0",
                         headers={"Authorization": f"Bearer {token}"})
    assert resumed.json["messages"][0]["body"] == FORM["message"]


def test_later_page_views_update_the_context(cart_app):
    client = cart_app.test_client()
    key = _chat(cart_app)
    started = _start_same_site(client, key, context={"trail": TRAIL[:1]})
    token, ticket_id = started.json["token"], started.json["ticket"]["id"]
    _fill_cart(client)
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/chat/widget/tickets/context", headers=headers,
                           json={"trail": TRAIL, "events": EVENTS})
    assert response.status_code == 200 and response.json == {"changed": True}
    stored = _context(cart_app, ticket_id)
    assert stored["cart"]["total"] == "224.80" and len(stored["trail"]) == 3
    again = client.post("/chat/widget/tickets/context", headers=headers,
                        json={"trail": TRAIL, "events": EVENTS})
    assert again.json == {"changed": False}


def test_context_from_another_site_keeps_the_cart_it_had(cart_app):
    client = cart_app.test_client()
    key = _chat(cart_app)
    _fill_cart(client)
    started = _start_same_site(client, key)
    token, ticket_id = started.json["token"], started.json["ticket"]["id"]
    response = client.post("/chat/widget/tickets/context", headers=bearer(token),
                           json={"trail": TRAIL})
    assert response.status_code == 200
    assert _context(cart_app, ticket_id)["cart"]["total"] == "224.80"


BAD_CONTEXTS = [
    ({"trail": [{"path": "/p?q=secret", "title": "x", "at": "2026-12-07T10:00:00Z"}]}, "trail"),
    ({"trail": [{"path": "/p#top", "title": "x", "at": "2026-12-07T10:00:00Z"}]}, "trail"),
    ({"trail": [{"path": "https://evil.example/", "at": "2026-12-07T10:00:00Z"}]}, "trail"),
    ({"trail": [{"path": "/p", "at": "yesterday"}]}, "trail"),
    ({"trail": [{"path": "/p", "at": "2026-12-07T10:00:00"}]}, "trail"),  # no timezone
    ({"trail": [{"path": "/" + "a" * 400, "at": "2026-12-07T10:00:00Z"}]}, "trail"),
    ({"trail": [{"path": f"/p{i}", "at": "2026-12-07T10:00:00Z"} for i in range(21)]}, "trail"),
    ({"trail": "not a list"}, "trail"),
    ({"events": [{"event": "add to cart", "at": "2026-12-07T10:00:00Z"}]}, "events"),
    ({"events": [{"event": "", "at": "2026-12-07T10:00:00Z"}]}, "events"),
    ({"events": [{"event": "e" * 41, "at": "2026-12-07T10:00:00Z"}]}, "events"),
    ({"events": [{"event": "<script>", "at": "2026-12-07T10:00:00Z"}]}, "events"),
    ({"events": [{"event": "x", "data": {"nested": {"a": 1}}, "at": "2026-12-07T10:00:00Z"}]},
     "events"),
    ({"events": [{"event": "x", "data": {"list": [1, 2]}, "at": "2026-12-07T10:00:00Z"}]},
     "events"),
    ({"events": [{"event": "x", "data": [1, 2], "at": "2026-12-07T10:00:00Z"}]}, "events"),
    ({"events": [{"event": "x", "data": {f"k{i}": i for i in range(21)},
                  "at": "2026-12-07T10:00:00Z"}]}, "events"),
    ({"events": [{"event": "x", "data": {"big": "y" * 1100}, "at": "2026-12-07T10:00:00Z"}]},
     "events"),
    ({"events": [{"event": "x", "data": {"bad key": 1}, "at": "2026-12-07T10:00:00Z"}]},
     "events"),
    ({"events": [{"event": "x", "at": "2026-12-07T10:00:00Z"}] * 21}, "events"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CONTEXTS)
def test_malformed_or_oversized_context_is_refused_whole(cart_app, body, field):
    client = cart_app.test_client()
    key = _chat(cart_app)
    started = _start_same_site(client, key, context={"trail": TRAIL[:1]})
    token, ticket_id = started.json["token"], started.json["ticket"]["id"]
    response = client.post("/chat/widget/tickets/context",
                           headers={"Authorization": f"Bearer {token}"}, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert _context(cart_app, ticket_id)["trail"] == [
        {"path": "/store/", "title": "Store", "at": "2026-12-07T10:00:00+00:00"}
    ]
    # with Start chat, the same context refuses the chat (nothing half-written)
    refused = _start_same_site(client, key, context=body, client_msg_id="other")
    assert refused.status_code == 422 and "context" in refused.json["errors"]


def test_context_needs_the_visitor_token_and_a_json_object(cart_app):
    client = cart_app.test_client()
    assert client.post("/chat/widget/tickets/context", json={"trail": []}).status_code == 401
    assert client.post("/chat/widget/tickets/context", json={"trail": []},
                       headers={"Authorization": "Bearer forged"}).status_code == 401
    started = _start_same_site(client, _chat(cart_app))
    headers = {"Authorization": f"Bearer {started.json['token']}"}
    assert client.post("/chat/widget/tickets/context", headers=headers,
                       json=[1, 2]).status_code == 400
    too_big = {"trail": [], "padding": "x" * 70000}
    assert client.post("/chat/widget/tickets/context", headers=headers,
                       json=too_big).status_code == 413


def test_context_updates_are_rate_limited(make_app):
    app = make_app(RESPONSO_CHAT_PUBLIC_RATE_LIMIT="3 per minute")
    client = app.test_client()
    started = _start_same_site(client, _chat(app))
    headers = {"Authorization": f"Bearer {started.json['token']}"}
    answers = [client.post("/chat/widget/tickets/context", headers=headers,
                           json={"trail": TRAIL[:1]}).status_code for _ in range(5)]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429]


def test_agent_sees_cart_and_visit_in_the_side_panel(cart_app):
    client = cart_app.test_client()
    key = _chat(cart_app)
    _fill_cart(client)
    events = [*EVENTS, {"event": "coupon", "data": {"code": "<b>WIN</b>"},
                        "at": "2026-12-07T10:03:00Z"}]
    started = _start_same_site(client, key, context={"trail": TRAIL, "events": events})
    ticket_id = started.json["ticket"]["id"]
    agent = cart_app.test_client()
    agent.post("/login", data={"email": "alice@shop.test", "password": "secret-pass"})
    html = agent.get(f"/chat/inbox/tickets/{ticket_id}").get_data(as_text=True)
    assert "Linen shirt" in html and "224.80 PLN" in html
    assert "/store/shirts" in html and "add_to_cart" in html
    assert "code=&lt;b&gt;WIN&lt;/b&gt;" in html and "<b>WIN</b>" not in html
    # an agent without access to the chat sees nothing of it
    other = cart_app.test_client()
    other.post("/login", data={"email": "bob@shop.test", "password": "secret-pass"})
    assert other.get(f"/chat/inbox/tickets/{ticket_id}").status_code in (403, 404)


def test_agents_get_the_context_event_live(cart_app):
    from responso_chat.infra.broker import agent_ticket_channel

    client = cart_app.test_client()
    started = _start_same_site(client, _chat(cart_app))
    token, ticket_id = started.json["token"], started.json["ticket"]["id"]
    heard = []
    state = cart_app.extensions["responso_chat"]
    state.broker.subscribe(agent_ticket_channel(ticket_id), heard.append)
    try:
        client.post("/chat/widget/tickets/context", json={"trail": TRAIL, "events": EVENTS},
                    headers={"Authorization": f"Bearer {token}"})
    finally:
        state.broker.unsubscribe(agent_ticket_channel(ticket_id), heard.append)
    events = [e for e in heard if e.get("type") == "context"]
    assert len(events) == 1
    assert events[0]["ticket_id"] == ticket_id and len(events[0]["trail"]) == 3
    assert events[0]["events"][0]["event"] == "add_to_cart"


def test_a_cart_setting_that_names_nothing_never_breaks_start_chat(make_app):
    app = make_app(RESPONSO_CHAT_CART="tests.no_such_module:cart")
    response = _start_same_site(app.test_client(), _chat(app))
    assert response.status_code == 201


@pytest.mark.parametrize("value", [0, -1, 11, "fast"])
def test_a_bad_cart_timeout_stops_the_app_at_start(make_app, value):
    from responso_chat.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="CART_TIMEOUT"):
        make_app(RESPONSO_CHAT_CART_TIMEOUT=value)


def test_the_demo_shops_cart_passes_the_cart_check(tmp_path):
    """The demo names its session cart in RESPONSO_CHAT_CART: what it returns is a cart."""
    from flask import session

    from responso_chat.conversation.shop_context import checked_cart
    from responso_chat.demo.app import create_app, demo_cart

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}"})
    assert app.config["RESPONSO_CHAT_CART"] == "responso_chat.demo.app:demo_cart"
    with app.test_request_context():
        assert demo_cart() is None
        session["cart"] = {"linen-shirt": 2, "wool-scarf": 1, "gone": 3}
        assert checked_cart(demo_cart()) == {
            "items": [{"name": "Linen shirt", "quantity": 2, "price": "49.90"},
                      {"name": "Merino wool scarf", "quantity": 1, "price": "29.00"}],
            "total": "128.80", "currency": "PLN",
        }
