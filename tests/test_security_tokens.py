"""Visitor tokens and websocket handshakes: a bad token reaches nothing, over HTTP or a socket.

Every kind of bad token (missing, garbage, tampered, expired, signed for something else, for a
ticket moved to another chat, for a disabled chat, for a deleted ticket) is refused by the
widget's HTTP routes (401, nothing written) and by the customer's socket (403 before the
upgrade, whether the token comes as the widget's subprotocol or in the query). Sockets also
refuse a wrong Origin, and the agents' socket refuses customers, strangers and other sites,
and gives an agent nothing of a chat they have no access to.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from responso_chat.blueprints.ws import VISITOR_PROTOCOL

from responso_chat.conversation import messages, visitor
from responso_chat.conversation.visitor import issue_token
from responso_chat.models import Message, Ticket
from tests.factories import make_chat, make_ticket
from tests.hardening import handshake_status, message_counts
from tests.wsclient import Socket

SHOP = "https://shop.example"


def signed(secret, payload, *, age=0, salt=visitor.SALT):
    """A token of ``payload`` signed with ``secret``, as if issued ``age`` seconds ago."""

    class Signer(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age

    return URLSafeTimedSerializer(secret, salt=salt, signer=Signer).dumps(payload)


@pytest.fixture
def scene(app, live_server):
    """A live server, a chat (shop.example only) with a ticket and its good token, and the
    bad tokens by reason."""
    server = live_server(app)
    state = app.extensions["responso_chat"]
    secret = app.config["SECRET_KEY"]
    max_age = app.config["RESPONSO_CHAT_VISITOR_TOKEN_MAX_AGE"]
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        ticket = make_ticket(chat)
        good = issue_token(ticket)
        moved, disabled, deleted = (make_ticket(chat, f"Ticket {n}") for n in range(3))
        other_chat = make_chat("Other shop")
        disabled_chat = make_chat("Disabled shop")
        bad = {
            "garbage": "not-a-token",
            "empty": "",
            "tampered signature": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
            # Another ticket's payload under the good token's timestamp and signature.
            "tampered payload": signed("guess", {"t": moved.id, "c": chat.id}).split(".")[0]
            + "." + ".".join(good.split(".")[1:]),
            "expired": signed(secret, {"t": ticket.id, "c": chat.id}, age=max_age + 5),
            "other secret": signed("another-shop-secret", {"t": ticket.id, "c": chat.id}),
            "other salt": signed(secret, {"t": ticket.id, "c": chat.id}, salt="cookie-session"),
            "other chat": signed(secret, {"t": ticket.id, "c": other_chat.id}),
            "moved to another chat": issue_token(moved),
            "disabled chat": issue_token(disabled),
            "deleted ticket": issue_token(deleted),
            "not a dict": signed(secret, [ticket.id, chat.id]),
            "ids as text": signed(secret, {"t": str(ticket.id), "c": str(chat.id)}),
        }
        moved.chat_id = other_chat.id
        disabled.chat_id = disabled_chat.id
        disabled_chat.enabled = False
        state.db.session.flush()
        bad["disabled chat"] = issue_token(disabled)
        state.db.session.delete(deleted)
        state.db.session.commit()
        server.ticket_id, server.good = ticket.id, good
    server.bad = bad
    return server


def test_bad_tokens_reach_nothing_over_http(app, scene):
    client = app.test_client()
    before = message_counts(app, scene.ticket_id)
    for why, token in scene.bad.items():
        headers = {"Authorization": f"Bearer {token}", "Origin": SHOP}
        response = client.get("/chat/widget/tickets/messages", headers=headers)
        assert response.status_code == 401, why
        assert response.headers["WWW-Authenticate"] == "Bearer"
        sent = client.post("/chat/widget/tickets/messages", headers=headers,
                           json={"body": f"sneaky {why}", "client_msg_id": why})
        assert sent.status_code == 401, why
    assert message_counts(app, scene.ticket_id) == before
    # The good token still works, and only for its own ticket.
    good = client.get("/chat/widget/tickets/messages",
                      headers={"Authorization": f"Bearer {scene.good}", "Origin": SHOP})
    assert good.status_code == 200 and good.json["ticket"]["id"] == scene.ticket_id


def test_bad_tokens_are_refused_before_the_socket_opens(scene):
    url = scene.url + "/chat/ws/visitor?after=0"
    for why, token in scene.bad.items():
        as_protocol = {"Origin": SHOP, "Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {token}"}
        assert handshake_status(url, as_protocol) == 403, why
        assert handshake_status(f"{url}&token={token}", {"Origin": SHOP}) == 403, why
    assert handshake_status(url, {"Origin": SHOP}) == 403  # no token at all
    good = {"Origin": SHOP, "Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {scene.good}"}
    assert handshake_status(url, good) == 101
    # The token must follow the widget's protocol name, not any protocol.
    other = {"Origin": SHOP, "Sec-WebSocket-Protocol": f"chat, {scene.good}"}
    assert handshake_status(url, other) == 403


def test_the_customers_socket_refuses_a_site_the_chat_does_not_allow(scene):
    url = scene.url + "/chat/ws/visitor?after=0"
    protocol = {"Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {scene.good}"}
    for origin in ("https://evil.example", "http://shop.example.evil.test", "null",
                   "https://shop.example:8443.evil.test"):
        assert handshake_status(url, {"Origin": origin, **protocol}) == 403, origin
    assert handshake_status(url, {"Origin": SHOP, **protocol}) == 101
    assert handshake_status(url, {"Origin": scene.url, **protocol}) == 101  # the host itself


def _cookie(app, email):
    client = app.test_client()
    client.post("/login", data={"email": email, "password": "secret-pass"})
    return f"session={client.get_cookie('session').value}"


def test_the_agents_socket_refuses_customers_strangers_and_other_sites(app, scene):
    url = scene.url + "/chat/ws/agent"
    alice = _cookie(app, "alice@shop.test")
    assert handshake_status(url, {"Origin": scene.url}) == 403  # not logged in
    assert handshake_status(url, {"Origin": scene.url,
                                  "Cookie": _cookie(app, "carl@shop.test")}) == 403
    assert handshake_status(url, {"Origin": "https://evil.example", "Cookie": alice}) == 403
    assert handshake_status(url, {"Cookie": alice}) == 403  # no Origin
    assert handshake_status(url, {"Origin": scene.url, "Cookie": "session=forged"}) == 403
    # A visitor token is no agent credential.
    assert handshake_status(url, {"Origin": scene.url, "Sec-WebSocket-Protocol":
                                  f"{VISITOR_PROTOCOL}, {scene.good}"}) == 403
    assert handshake_status(url, {"Origin": scene.url, "Cookie": alice}) == 101


def test_an_agent_without_access_gets_nothing_of_the_ticket(app, scene):
    bob = Socket(scene.url.replace("http://", "ws://") + "/chat/ws/agent",
                 {"Origin": scene.url, "Cookie": _cookie(app, "bob@shop.test")})
    try:
        bob.send(type="subscribe", ticket_id=scene.ticket_id, after=0)
        refused = bob.next("error")
        assert (refused["error"], refused["ticket_id"]) == ("not_found", scene.ticket_id)
        bob.send(type="inbox")
        bob.send(type="typing", ticket_id=scene.ticket_id, typing=True)
        assert bob.next("error")["error"] == "not_subscribed"
        with app.app_context():
            state = app.extensions["responso_chat"]
            ticket = state.db.session.get(Ticket, scene.ticket_id)
            messages.post_agent_message(ticket, "2", "Alice Agent", "For Alice's chat only")
            messages.post_customer_message(ticket, "A secret for the shop", "secret-1")
        bob.nothing("message", wait=0.6)
        bob.nothing("inbox", wait=0.3)
    finally:
        bob.close()
    with app.app_context():
        state = app.extensions["responso_chat"]
        authors = state.db.session.scalars(
            sa.select(Message.author_id).where(Message.ticket_id == scene.ticket_id)
        ).all()
    assert "3" not in authors  # Bob wrote nothing either
