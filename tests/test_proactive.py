"""Proactive messages: the admin's pages (list, add, edit, turn off, delete; errors by the
field), what the widget's config carries, and the counts kept by the widget's beacons and by
Start chat."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from responso_chat.models import ProactiveMessage
from tests.factories import make_chat
from tests.test_widget_api import FORM, SHOP

GOOD = {"text": "Need help choosing a size?", "sender_id": "2", "path": "/products/*",
        "delay_seconds": "5", "min_cart_value": "100", "event": "", "enabled": "1"}


@pytest.fixture
def admin(client, auth):
    """The test client logged in as the shop admin; ``admin.token`` is a CSRF token."""
    auth.login("admin@shop.test")
    client.token = auth.csrf_token()
    return client


@pytest.fixture
def chat(app):
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP], agent_ids=("2",))
        return {"id": chat.id, "key": chat.public_key}


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": client.token})


def greetings(app):
    with app.app_context():
        state = app.extensions["responso_chat"]
        rows = state.db.session.execute(sa.select(ProactiveMessage)).scalars().all()
        return [{c.name: getattr(r, c.name) for c in ProactiveMessage.__table__.columns}
                for r in rows]


def add(app, chat_id, **values):
    with app.app_context():
        state = app.extensions["responso_chat"]
        greeting = ProactiveMessage(chat_id=chat_id, text=values.pop("text", "Hello there!"),
                                    sender_id=values.pop("sender_id", "2"), **values)
        state.db.session.add(greeting)
        state.db.session.commit()
        return greeting.id


def test_admin_adds_edits_disables_and_deletes_a_greeting(app, admin, chat):
    base = f"/chat/admin/chats/{chat['id']}/proactive"
    page = admin.get(base + "/new").get_data(as_text=True)
    assert "Alice Agent" in page and "alice@shop.test" not in page  # names, never e-mails
    response = post(admin, base + "/new", GOOD)
    assert response.status_code == 303
    (row,) = greetings(app)
    assert (row["path"], row["delay_seconds"], str(row["min_cart_value"]), row["enabled"]) == (
        "/products/*", 5, "100.00", True)
    listed = admin.get(base).get_data(as_text=True)
    assert "Need help choosing a size?" in listed and "After 5 s on the page" in listed
    assert post(admin, f"{base}/{row['id']}", {**GOOD, "text": "Free shipping today!",
                                              "min_cart_value": ""}).status_code == 303
    (row,) = greetings(app)
    assert row["text"] == "Free shipping today!" and row["min_cart_value"] is None
    assert post(admin, f"{base}/{row['id']}/enabled", {"enabled": "0"}).status_code == 303
    assert greetings(app)[0]["enabled"] is False
    assert post(admin, f"{base}/{row['id']}/delete", {}).status_code == 303
    assert greetings(app) == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("text", "", "Enter the greeting"),
    ("text", "x" * 501, "1 to 500"),
    ("sender_id", "", "Choose who greets"),
    ("sender_id", "3", "Choose an agent of this chat"),  # Bob: an agent, not of this chat
    ("sender_id", "4", "Choose an agent of this chat"),  # a customer
    ("path", "products", "starts with /"),
    ("path", "/a b", "no spaces"),
    ("delay_seconds", "-1", "from 0 to 3600"),
    ("delay_seconds", "soon", "whole number"),
    ("delay_seconds", "3601", "from 0 to 3600"),
    ("min_cart_value", "-5", "0 or more"),
    ("min_cart_value", "lots", "Enter an amount"),
    ("min_cart_value", "NaN", "Enter an amount"),
    ("event", "add to cart", "Enter an event name"),
    ("event", "<b>", "Enter an event name"),
])
def test_bad_greetings_are_refused_next_to_the_field(app, admin, chat, field, value, message):
    response = post(admin, f"/chat/admin/chats/{chat['id']}/proactive/new",
                    {**GOOD, field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="rc-proactive-{field}-error"' in page and message in page
    assert f'aria-describedby="rc-proactive-{field}-help rc-proactive-{field}-error"' in page
    assert greetings(app) == []


def test_another_chats_greeting_is_not_found(app, admin, chat):
    with app.app_context():
        other = make_chat("Other chat").id
    greeting_id = add(app, other)
    base = f"/chat/admin/chats/{chat['id']}/proactive/{greeting_id}"
    assert admin.get(base).status_code == 404
    assert post(admin, base + "/delete", {}).status_code == 404
    assert len(greetings(app)) == 1


def test_forms_without_csrf_are_refused(app, admin, chat):
    response = admin.post(f"/chat/admin/chats/{chat['id']}/proactive/new", data=GOOD)
    assert response.status_code == 400
    assert greetings(app) == []


def test_config_carries_enabled_greetings_with_the_senders_name(app, client, chat):
    config = client.get(f"/chat/widget/{chat['key']}/config", headers={"Origin": SHOP}).json
    assert config["proactive"] is None and config["proactive_per_day"] == 1
    first = add(app, chat["id"], path="/products", delay_seconds=3, event="checkout_started")
    add(app, chat["id"], enabled=False, text="Off")
    add(app, chat["id"], sender_id="99", text="Sender gone")
    config = client.get(f"/chat/widget/{chat['key']}/config", headers={"Origin": SHOP}).json
    assert config["proactive"] == [{
        "id": first, "path": "/products", "delay": 3, "min_cart": None,
        "event": "checkout_started", "text": "Hello there!", "sender": "Alice Agent",
    }]


def test_beacons_count_shown_and_opened_for_the_chats_own_greetings(app, client, chat):
    greeting_id = add(app, chat["id"])
    url = f"/chat/widget/{chat['key']}/proactive/{greeting_id}"
    assert client.post(url + "/shown", headers={"Origin": SHOP}).json == {"counted": "shown"}
    assert client.post(url + "/shown", headers={"Origin": SHOP}).status_code == 200
    assert client.post(url + "/opened", headers={"Origin": SHOP}).json == {"counted": "opened"}
    assert client.post(url + "/started", headers={"Origin": SHOP}).status_code == 404
    # another website, another chat's key, a greeting that does not exist
    assert client.post(url + "/shown", headers={"Origin": "https://evil.example"}
                       ).status_code == 403
    with app.app_context():
        other_key = make_chat("Other chat", allowed_origins=[SHOP]).public_key
    assert client.post(f"/chat/widget/{other_key}/proactive/{greeting_id}/shown",
                       headers={"Origin": SHOP}).status_code == 404
    assert client.post(f"/chat/widget/{chat['key']}/proactive/999999/shown",
                       headers={"Origin": SHOP}).status_code == 404
    (row,) = greetings(app)
    assert (row["shown_count"], row["opened_count"], row["started_count"]) == (2, 1, 0)


def test_beacons_are_rate_limited(make_app):
    app = make_app(RESPONSO_CHAT_PUBLIC_RATE_LIMIT="3 per minute")
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        key, chat_id = chat.public_key, chat.id
    greeting_id = add(app, chat_id)
    client = app.test_client()
    answers = [client.post(f"/chat/widget/{key}/proactive/{greeting_id}/shown",
                           headers={"Origin": SHOP}).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert greetings(app)[0]["shown_count"] == 3


def test_a_chat_started_from_a_greeting_counts_once_and_only_for_its_chat(app, client, chat):
    greeting_id = add(app, chat["id"])
    with app.app_context():
        other = make_chat("Other chat", allowed_origins=[SHOP])
        other_key = other.public_key
        other_greeting = add(app, other.id)
    started = client.post(f"/chat/widget/{chat['key']}/tickets",
                          json={**FORM, "proactive_id": greeting_id}, headers={"Origin": SHOP})
    assert started.status_code == 201
    # a greeting of another chat is not counted by this chat's Start chat
    client.post(f"/chat/widget/{chat['key']}/tickets",
                json={**FORM, "proactive_id": other_greeting, "client_msg_id": "x2"},
                headers={"Origin": SHOP})
    counts = {r["id"]: r["started_count"] for r in greetings(app)}
    assert counts == {greeting_id: 1, other_greeting: 0}
    bad = client.post(f"/chat/widget/{other_key}/tickets",
                      json={**FORM, "proactive_id": "many"}, headers={"Origin": SHOP})
    assert bad.status_code == 422 and "proactive_id" in bad.json["errors"]


def test_cart_value_only_for_the_shops_own_pages(make_app):
    app = make_app(RESPONSO_CHAT_CART="tests.hostapp:session_cart")
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    client = app.test_client()
    assert client.get(f"/chat/widget/{key}/cart").json == {"total": None, "currency": None}
    client.post("/cart/add", data={"product": "Wool scarf"})
    assert client.get(f"/chat/widget/{key}/cart").json == {"total": "45.00", "currency": "PLN"}
    other_site = client.get(f"/chat/widget/{key}/cart", headers={"Origin": SHOP})
    assert other_site.json == {"total": None, "currency": None}
    assert "no-store" in other_site.headers["Cache-Control"]


def test_no_greetings_in_the_config_when_the_shop_shows_none(make_app):
    app = make_app(RESPONSO_CHAT_PROACTIVE_PER_DAY=0)
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        key, chat_id = chat.public_key, chat.id
    add(app, chat_id)
    config = app.test_client().get(f"/chat/widget/{key}/config", headers={"Origin": SHOP}).json
    assert config["proactive"] is None and config["proactive_per_day"] == 0


@pytest.mark.parametrize("value", [-1, 101, "1", 1.5, True])
def test_a_bad_daily_cap_stops_the_app_at_start(make_app, value):
    from responso_chat.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="PROACTIVE_PER_DAY"):
        make_app(RESPONSO_CHAT_PROACTIVE_PER_DAY=value)


def test_the_greeting_a_chat_started_from_is_its_first_message_on_both_sides(app, client, chat):
    greeting_id = add(app, chat["id"], text="Need help choosing a size?")
    started = client.post(f"/chat/widget/{chat['key']}/tickets",
                          json={**FORM, "proactive_id": greeting_id}, headers={"Origin": SHOP})
    assert started.status_code == 201
    answered = [(m["seq"], m["author_kind"], m["author_name"], m["body"])
                for m in started.json["messages"]]
    assert answered == [(1, "agent", "Alice Agent", "Need help choosing a size?"),
                        (2, "customer", FORM["name"], FORM["message"])]
    # a day later the customer's widget reads the same conversation
    resumed = client.get("/chat/widget/tickets/messages?after=0",
                         headers={"Origin": SHOP,
                                  "Authorization": f"Bearer {started.json['token']}"})
    assert [m["body"] for m in resumed.json["messages"]] == [
        "Need help choosing a size?", FORM["message"]]
    with app.app_context():
        from responso_chat.conversation import messages
        from responso_chat.models import Ticket

        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, started.json["ticket"]["id"])
        # the greeting answers nobody: the ticket waits for its first response
        assert ticket.first_response_at is None and ticket.last_sender == "customer"
        stored = [(m.author_kind, m.author_id, m.internal, m.source, m.seen_at is not None)
                  for m in messages.messages_after(ticket.id, 0)]
        # read before the chat began: seen, so never mailed as an unseen reply
        assert stored == [("agent", "2", False, "greeting", True),
                          ("customer", None, False, None, False)]
    assert [m["source"] for m in started.json["messages"]] == ["greeting", None]
    # the agent's page says where the first message came from
    from tests.conftest import AuthActions

    AuthActions(client).login("alice@shop.test")
    page = client.get(f"/chat/inbox/tickets/{started.json['ticket']['id']}").get_data(as_text=True)
    assert '<span class="rc-msg-flag rc-msg-source">proactive greeting</span>' in page


def test_a_greeting_of_another_chat_or_of_a_sender_gone_is_not_stored(app, client, chat):
    with app.app_context():
        other = make_chat("Other chat", allowed_origins=[SHOP])
        foreign = add(app, other.id, text="Not yours")
    gone = add(app, chat["id"], text="From nobody", sender_id="999")
    for n, greeting_id in enumerate((foreign, gone)):
        started = client.post(f"/chat/widget/{chat['key']}/tickets",
                              json={**FORM, "proactive_id": greeting_id,
                                    "client_msg_id": f"g{n}"}, headers={"Origin": SHOP})
        assert started.status_code == 201
        assert [m["author_kind"] for m in started.json["messages"]] == ["customer"]
