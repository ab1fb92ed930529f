"""The widget's HTTP endpoints: config, loader, Start chat, resume and send."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from responso_chat.conversation import messages, visitor
from responso_chat.models import Chat, Ticket
from tests.factories import make_chat

SHOP = "https://shop.example"
FORM = {
    "name": "Zoe Customer",
    "email": "zoe@example.com",
    "subject": "Where is my order?",
    "message": "Hello, my parcel has not arrived.",
    "page_url": "https://shop.example/orders",
    "page_title": "My orders",
    "language": "en",
    "client_msg_id": "first-1",
}
PUBLIC_FIELDS = {
    "name", "welcome_message", "alignment", "vertical_spacing", "path_rule_type", "paths",
    "out_of_hours_behaviour", "out_of_hours_message", "language", "color", "open_now",
    "next_change_at", "limits", "agents_online", "reply_minutes", "my_orders", "proactive",
    "proactive_per_day",
}


@pytest.fixture
def chat(app):
    """A chat (open all week) that only shop.example may embed; its public key and id."""
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        return {"key": chat.public_key, "id": chat.id, "secret": chat.secret}


def ticket_count(app) -> int:
    with app.app_context():
        state = app.extensions["responso_chat"]
        return state.db.session.execute(
            sa.select(sa.func.count()).select_from(Ticket)
        ).scalar_one()


def get_ticket(app, ticket_id):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        state.db.session.expunge(ticket)
        return ticket


def start(client, key, origin=SHOP, **changes):
    return client.post(f"/chat/widget/{key}/tickets", json={**FORM, **changes},
                       headers={"Origin": origin})


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Origin": SHOP}


# --- config and loader ---------------------------------------------------------------------

def test_config_gives_public_fields_with_cache_headers(client, chat):
    response = client.get(f"/chat/widget/{chat['key']}/config", headers={"Origin": SHOP})
    assert response.status_code == 200
    assert set(response.json) == PUBLIC_FIELDS
    assert response.json["open_now"] is True
    assert response.json["limits"] == {"name": 100, "email": 254, "subject": 200, "message": 5000,
                                       "rating_comment": 1000}
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "max-age=30" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get(f"/chat/widget/{chat['key']}/config",
                       headers={"Origin": SHOP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_config_gives_the_message_limit_of_the_settings(make_app):
    app = make_app(RESPONSO_CHAT_MAX_MESSAGE_LENGTH=800)
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    client = app.test_client()
    limits = client.get(f"/chat/widget/{key}/config", headers={"Origin": SHOP}).json["limits"]
    assert limits["message"] == 800
    assert start(client, key, message="x" * 801).status_code == 422


def test_config_of_unknown_or_disabled_chat_is_404(app, client, chat):
    response = client.get("/chat/widget/nope/config")
    assert response.status_code == 404 and "errors" in response.json
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.get(Chat, chat["id"]).enabled = False
        state.db.session.commit()
    assert client.get(f"/chat/widget/{chat['key']}/config").status_code == 404
    assert client.get(f"/chat/widget/{chat['key']}/loader.js").status_code == 404


def test_config_refuses_a_site_the_chat_does_not_allow(app, client, chat):
    response = client.get(f"/chat/widget/{chat['key']}/config",
                          headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    with app.app_context():
        open_to_all = make_chat("Any site").public_key
    response = client.get(f"/chat/widget/{open_to_all}/config",
                          headers={"Origin": "https://evil.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://evil.example"


def test_preflight_follows_the_chats_origins(client, chat):
    headers = {"Origin": SHOP, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    allowed = client.options(f"/chat/widget/{chat['key']}/tickets", headers=headers)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Content-Type" in allowed.headers["Access-Control-Allow-Headers"]
    refused = client.options(f"/chat/widget/{chat['key']}/tickets",
                             headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    token_route = client.options("/chat/widget/tickets/messages", headers=headers)
    assert "Authorization" in token_route.headers["Access-Control-Allow-Headers"]


def test_loader_is_served_with_caching_headers(client, chat):
    response = client.get(f"/chat/widget/{chat['key']}/loader.js")
    assert response.status_code == 200
    assert "javascript" in response.content_type
    assert "max-age=300" in response.headers["Cache-Control"]
    assert "stale-while-revalidate=604800" in response.headers["Cache-Control"]
    assert b"ResponsoChat" in response.data
    etag = response.headers["ETag"]
    response.close()
    again = client.get(f"/chat/widget/{chat['key']}/loader.js",
                       headers={"If-None-Match": etag})  # revalidated without the body
    assert again.status_code == 304 and again.data == b""
    again.close()


# --- Start chat ----------------------------------------------------------------------------

def test_start_chat_creates_the_ticket_and_returns_a_token(app, client, chat):
    response = start(client, chat["key"])
    assert response.status_code == 201
    body = response.json
    assert body["ticket"]["subject"] == "Where is my order?"
    assert body["ticket"]["status"] == "open" and body["ticket"]["agent_name"] is None
    assert [m["body"] for m in body["messages"]] == [FORM["message"]]
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    ticket = get_ticket(app, body["ticket"]["id"])
    assert not ticket.customer_email_verified and not ticket.out_of_hours
    assert (ticket.page_url, ticket.page_title, ticket.language) == (
        FORM["page_url"], FORM["page_title"], "en"
    )
    with app.app_context():
        assert visitor.ticket_for_token(body["token"]).id == ticket.id


@pytest.mark.parametrize(
    "payload, status, field",
    [
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 422, "name"),
        ({"email": "not-an-email"}, 422, "email"),
        ({"subject": "x" * 201}, 422, "subject"),
        ({"message": "x" * 5001}, 422, "message"),
        ({"message": None}, 422, "message"),
        ({"language": "de"}, 422, "language"),
        ({"signature": "abc"}, 422, "signature"),
        ({"surprise": 1}, 422, "surprise"),
        ({"name": ["a", "list"]}, 422, "name"),
    ],
)
def test_start_chat_refuses_bad_input_and_writes_nothing(app, client, chat, payload, status,
                                                        field):
    response = start(client, chat["key"], **payload)
    assert response.status_code == status
    assert field in response.json["errors"]
    assert ticket_count(app) == 0


@pytest.mark.parametrize("body", ["not json", "[1, 2]", ""])
def test_start_chat_needs_a_json_object(app, client, chat, body):
    response = client.post(f"/chat/widget/{chat['key']}/tickets", data=body,
                           content_type="application/json", headers={"Origin": SHOP})
    assert response.status_code == 400
    assert response.json == {"errors": {"_request": ["Send a JSON object."]}}
    assert ticket_count(app) == 0


def test_start_chat_from_another_site_is_refused(app, client, chat):
    assert start(client, chat["key"], origin="https://evil.example").status_code == 403
    assert start(client, "unknown-key").status_code == 404
    assert ticket_count(app) == 0


def test_a_signed_email_is_verified(app, client, chat):
    good = hmac.new(chat["secret"].encode(), b"zoe@example.com", hashlib.sha256).hexdigest()
    signed = start(client, chat["key"], signature=good).json["ticket"]["id"]
    forged = start(client, chat["key"], signature="0" * 64).json["ticket"]["id"]
    assert get_ticket(app, signed).customer_email_verified
    assert not get_ticket(app, forged).customer_email_verified


def test_the_host_apps_logged_in_customer_is_verified_on_its_own_pages(app, client, auth,
                                                                        chat):
    auth.login("carl@shop.test")
    own = start(client, chat["key"], origin="http://localhost", email="carl@shop.test")
    other_site = start(client, chat["key"], email="carl@shop.test")
    someone_else = start(client, chat["key"], origin="http://localhost")
    assert get_ticket(app, own.json["ticket"]["id"]).customer_email_verified
    assert not get_ticket(app, other_site.json["ticket"]["id"]).customer_email_verified
    assert not get_ticket(app, someone_else.json["ticket"]["id"]).customer_email_verified


def test_out_of_hours_leaves_a_message_or_refuses_with_hide(app, client):
    with app.app_context():
        closed = make_chat("Closed", opening_hours={}).public_key
        hidden = make_chat("Hidden", opening_hours={}, out_of_hours_behaviour="hide_widget")
        hidden = hidden.public_key
    response = start(client, closed)
    assert response.status_code == 201 and response.json["ticket"]["out_of_hours"] is True
    assert get_ticket(app, response.json["ticket"]["id"]).out_of_hours
    refused = start(client, hidden)
    assert refused.status_code == 409 and ticket_count(app) == 1


def test_start_chat_is_rate_limited(make_app, chat):
    app = make_app(RESPONSO_CHAT_START_CHAT_RATE_LIMIT="1 per minute")
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    client = app.test_client()
    assert start(client, key).status_code == 201
    limited = start(client, key)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["Access-Control-Allow-Origin"] == SHOP
    assert "_request" in limited.json["errors"]
    assert ticket_count(app) == 1


# --- resume and send -----------------------------------------------------------------------

@pytest.fixture
def conversation(client, chat):
    """A started chat: its token and ticket id."""
    body = start(client, chat["key"]).json
    return body["token"], body["ticket"]["id"]


def test_resume_returns_messages_after_a_sequence_number(app, client, conversation):
    token, ticket_id = conversation
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Checking")
        messages.post_agent_message(ticket, "2", "Alice Agent", "note", internal=True)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Shipped today")
    response = client.get("/chat/widget/tickets/messages?after=1", headers=bearer(token))
    assert response.status_code == 200
    assert [(m["seq"], m["body"]) for m in response.json["messages"]] == [
        (2, "Checking"), (4, "Shipped today")
    ]
    assert response.json["ticket"]["id"] == ticket_id
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert client.get("/chat/widget/tickets/messages?after=x",
                      headers=bearer(token)).status_code == 400
    for bad in ("-1", "²", "9" * 30):
        assert client.get(f"/chat/widget/tickets/messages?after={bad}",
                          headers=bearer(token)).status_code == 400


def test_sends_are_idempotent_by_client_message_id(client, conversation):
    token, _ticket_id = conversation
    url = "/chat/widget/tickets/messages"
    first = client.post(url, json={"body": "Any news?", "client_msg_id": "c-1"},
                        headers=bearer(token))
    again = client.post(url, json={"body": "Any news?", "client_msg_id": "c-1"},
                        headers=bearer(token))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["message"]["seq"] == again.json["message"]["seq"] == 2
    history = client.get(url + "?after=0", headers=bearer(token)).json["messages"]
    assert [m["body"] for m in history] == [FORM["message"], "Any news?"]


@pytest.mark.parametrize(
    "payload, field",
    [({"body": ""}, "body"), ({"body": "x" * 5001}, "body"), ({}, "body"),
     ({"body": "hi", "client_msg_id": "x" * 65}, "client_msg_id")],
)
def test_send_refuses_bad_messages(client, conversation, payload, field):
    token, _ticket_id = conversation
    response = client.post("/chat/widget/tickets/messages", json=payload, headers=bearer(token))
    assert response.status_code == 422 and field in response.json["errors"]


def test_customer_cannot_send_into_a_spam_ticket(app, client, conversation):
    token, ticket_id = conversation
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.get(Ticket, ticket_id).status = "spam"
        state.db.session.commit()
    response = client.post("/chat/widget/tickets/messages", json={"body": "Hello?"},
                           headers=bearer(token))
    assert response.status_code == 409
    resumed = client.get("/chat/widget/tickets/messages", headers=bearer(token)).json
    assert resumed["ticket"]["ended"] is True


def test_sending_is_rate_limited(make_app):
    app = make_app(RESPONSO_CHAT_SEND_RATE_LIMIT="2 per minute")
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    client = app.test_client()
    token = start(client, key).json["token"]
    url = "/chat/widget/tickets/messages"
    for n in range(2):
        assert client.post(url, json={"body": f"m{n}"}, headers=bearer(token)).status_code == 201
    limited = client.post(url, json={"body": "m3"}, headers=bearer(token))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def forge(app, payload, *, age=0):
    """A token signed with the app's key, as if issued ``age`` seconds ago."""
    real_timestamp = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: int(time.time()) - age
    try:
        return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=visitor.SALT).dumps(payload)
    finally:
        TimestampSigner.get_timestamp = real_timestamp


def test_tokens_reach_only_their_own_ticket(app, client, chat, conversation):
    token, ticket_id = conversation
    with app.app_context():
        other_chat = make_chat("Other shop").id
    max_age = app.config["RESPONSO_CHAT_VISITOR_TOKEN_MAX_AGE"]
    refused = {
        "missing": {},
        "not bearer": {"Authorization": f"Token {token}"},
        "tampered": bearer(token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        "other secret": bearer(URLSafeTimedSerializer("other", salt=visitor.SALT).dumps(
            {"t": ticket_id, "c": chat["id"]})),
        "expired": bearer(forge(app, {"t": ticket_id, "c": chat["id"]}, age=max_age + 5)),
        "other chat": bearer(forge(app, {"t": ticket_id, "c": other_chat})),
        "no such ticket": bearer(forge(app, {"t": ticket_id + 1, "c": chat["id"]})),
        "not a dict": bearer(forge(app, [ticket_id, chat["id"]])),
    }
    for why, headers in refused.items():
        response = client.get("/chat/widget/tickets/messages", headers=headers)
        assert response.status_code == 401, why
        assert response.json == {"errors": {"_request": ["This conversation is not available."]}}
        sent = client.post("/chat/widget/tickets/messages", json={"body": "hi"}, headers=headers)
        assert sent.status_code == 401, why
    recent = bearer(forge(app, {"t": ticket_id, "c": chat["id"]}, age=max_age - 60))
    assert client.get("/chat/widget/tickets/messages", headers=recent).status_code == 200


def test_token_from_another_site_is_refused(client, conversation):
    token, _ticket_id = conversation
    response = client.get("/chat/widget/tickets/messages",
                          headers={**bearer(token), "Origin": "https://evil.example"})
    assert response.status_code == 403
