"""Websockets against a live server: customer and agent sockets, real clients."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from responso_chat.conversation import messages, tickets
from responso_chat.conversation.visitor import issue_token
from responso_chat.conversation.websocket import VISITOR_PROTOCOL
from responso_chat.infra.broker import INBOX_CHANNEL
from responso_chat.models import Chat, Ticket
from tests.factories import make_chat, make_ticket
from tests.polling import wait_until
from tests.wsclient import Socket

TIMEOUT = 5


@pytest.fixture
def server(app, live_server):
    """The app served live, with a chat (Alice has access) and one ticket."""
    server = live_server(app)
    with app.app_context():
        chat = make_chat(allowed_origins=["https://shop.example"])
        ticket = make_ticket(chat)
        server.chat_id, server.ticket_id = chat.id, ticket.id
        server.token = issue_token(ticket)
    server.ws_url = server.url.replace("http://", "ws://") + "/chat/ws"
    sockets = []

    def connect(path, subprotocols=None, **headers):
        socket = Socket(server.ws_url + path, headers, subprotocols)
        sockets.append(socket)
        return socket

    server.connect = connect
    yield server
    for socket in sockets:
        socket.close()


def handshake_status(url, headers):
    """The HTTP status a websocket handshake to ``url`` gets (101 when accepted)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}", headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", **headers,
        })
        return connection.getresponse().status
    finally:
        connection.close()


def session_cookie(app, email):
    client = app.test_client()
    client.post("/login", data={"email": email, "password": "secret-pass"})
    return f"session={client.get_cookie('session').value}"


def agent_socket(app, server, email="alice@shop.test"):
    return server.connect("/agent", Origin=server.url, Cookie=session_cookie(app, email))


def visitor_socket(server, after=0, origin="https://shop.example"):
    return server.connect(f"/visitor?after={after}", [VISITOR_PROTOCOL, server.token],
                          Origin=origin)


def test_customer_and_agent_exchange_messages_and_typing(app, server):
    customer = visitor_socket(server)
    assert customer.next() == {"type": "status", "ticket_id": server.ticket_id, "status": "open",
                               "reopenable": False}
    first = customer.next("message")
    assert (first["seq"], first["author_kind"]) == (1, "customer")

    agent = agent_socket(app, server)
    agent.send(type="subscribe", ticket_id=server.ticket_id, after=0)
    assert agent.next("subscribed")["ticket_id"] == server.ticket_id
    assert agent.next("message")["body"] == "Hello, my parcel has not arrived."
    assert agent.next("presence") == {
        "type": "presence", "ticket_id": server.ticket_id, "who": "customer", "online": True
    }

    customer.send(type="typing", typing=True)
    typing = agent.next("typing")
    assert (typing["author_kind"], typing["name"], typing["typing"]) == ("customer",
                                                                         "Zoe Customer", True)
    customer.send(type="send", body="Are you there?", client_msg_id="c-1")
    customer.send(type="send", body="Are you there?", client_msg_id="c-1")  # a retry
    echo = customer.next("message")
    assert (echo["seq"], echo["client_msg_id"]) == (2, "c-1")
    assert agent.next("message")["body"] == "Are you there?"
    agent.nothing("message")
    customer.nothing("message")

    with app.app_context():
        ticket = app.extensions["responso_chat"].db.session.get(
            Ticket, server.ticket_id
        )
        tickets.join_by_agent(ticket, "2", "Alice Agent")
        messages.post_agent_message(ticket, "2", "Alice Agent", "Yes, checking now")
        messages.post_agent_message(ticket, "2", "Alice Agent", "Base says shipped", internal=True)
    events = customer.collect(3, "message", "agent_joined")
    assert [e.get("body") for e in events if e["type"] == "message"] == [
        "Alice Agent joined the chat", "Yes, checking now"
    ]
    assert [e["name"] for e in events if e["type"] == "agent_joined"] == ["Alice Agent"]
    customer.nothing("message")  # the internal note stays with the agents
    agent_bodies = [e["body"] for e in agent.collect(3, "message")]
    assert agent_bodies == ["Alice Agent joined the chat", "Yes, checking now",
                            "Base says shipped"]

    agent.send(type="typing", ticket_id=server.ticket_id, typing=True)
    assert customer.next("typing")["name"] == "Alice Agent"
    agent.nothing("typing")  # its own typing does not come back
    customer.send(type="seen", seq=4)
    assert agent.next("seen") == {"type": "seen", "ticket_id": server.ticket_id,
                                  "by": "customer", "seq": 4}
    customer.send(type="page", url="https://shop.example/cart", title="Cart")
    assert agent.next("page")["title"] == "Cart"

    customer.close()
    assert agent.next("presence")["online"] is False


def test_catch_up_after_reconnect(app, server):
    customer = visitor_socket(server)
    assert customer.next("message")["seq"] == 1
    customer.close()
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, server.ticket_id)
        for body in ("one", "two"):
            messages.post_agent_message(ticket, "2", "Alice Agent", body)
    again = visitor_socket(server, after=1)
    assert again.next("status")["status"] == "open"
    assert [again.next("message")["body"] for _ in range(2)] == ["one", "two"]
    again.nothing("message")


def test_customer_message_on_the_socket_reopens_a_closed_ticket(app, server):
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.get(Ticket, server.ticket_id).status = "closed"
        state.db.session.commit()
    customer = visitor_socket(server)
    assert customer.next("status") == {"type": "status", "ticket_id": server.ticket_id,
                                       "status": "closed", "reopenable": True}
    customer.send(type="send", body="One more question", client_msg_id="c-8")
    seen = []
    while not seen or seen[-1].get("body") != "One more question":
        seen.append(customer.next())
    # the ticket is open again before the message shows, never after it
    assert [e.get("status") for e in seen if e["type"] == "status"] == ["open"]


def test_customer_cannot_send_into_a_spam_ticket(app, server):
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.get(Ticket, server.ticket_id).status = "spam"
        state.db.session.commit()
    customer = visitor_socket(server)
    assert customer.next("status")["reopenable"] is False
    customer.send(type="send", body="Hello?", client_msg_id="c-9")
    assert customer.next("error") == {"type": "error", "error": "ended", "client_msg_id": "c-9"}
    customer.send(type="send", body="", client_msg_id="c-10")
    assert customer.next("error")["errors"] == {"body": ["Shorter than minimum length 1."]}
    customer.send(type="nonsense")
    assert customer.next("error")["error"] == "bad_request"
    customer.send(type="seen", seq=10**30)  # ignored, the socket stays up
    customer.send(type="page", url=["not", "a", "string"])
    assert customer.next("error")["errors"] == {"url": ["Not a valid string."]}


def test_agent_without_access_is_refused_the_ticket(app, server):
    bob = agent_socket(app, server, "bob@shop.test")
    bob.send(type="subscribe", ticket_id=server.ticket_id, after=0)
    assert bob.next() == {"type": "error", "error": "not_found", "ticket_id": server.ticket_id}
    bob.send(type="typing", ticket_id=server.ticket_id, typing=True)
    assert bob.next()["error"] == "not_subscribed"
    bob.send(type="subscribe", ticket_id=10**30, after=0)
    assert bob.next()["error"] == "not_found"


def test_inbox_events_only_for_visible_chats(app, server):
    with app.app_context():
        other = make_chat("Bob's chat", agent_ids=("3",))
        other_id = other.id
    alice = agent_socket(app, server)
    admin = agent_socket(app, server, "admin@shop.test")
    for socket in (alice, admin):
        socket.send(type="inbox")
    broker = app.extensions["responso_chat"].broker
    wait_until(lambda: len(broker._listeners.get(INBOX_CHANNEL, ())) == 2,
               what="both inbox subscriptions")  # made by each socket's loop
    with app.app_context():
        make_ticket(app.extensions["responso_chat"].db.session.get(
            Chat, other_id))
        make_ticket(app.extensions["responso_chat"].db.session.get(
            Chat, server.chat_id))
    assert [admin.next("inbox")["chat_id"] for _ in range(2)] == [other_id, server.chat_id]
    event = alice.next("inbox")
    assert (event["chat_id"], event["event"]) == (server.chat_id, "created")


@pytest.mark.parametrize(
    "who, headers_of",
    [
        ("customer", lambda server, cookie: {"Origin": server.url, "Cookie": cookie}),
        ("agent", lambda server, cookie: {"Origin": "https://evil.example", "Cookie": cookie}),
        ("agent", lambda server, cookie: {"Origin": server.url}),
    ],
)
def test_agent_socket_needs_an_agent_session_and_same_origin(app, server, who, headers_of):
    cookie = session_cookie(app, "carl@shop.test" if who == "customer" else "alice@shop.test")
    assert handshake_status(server.ws_url + "/agent", headers_of(server, cookie)) == 403


@pytest.mark.parametrize(
    "token, origin",
    [
        ("{token}", "https://evil.example"),
        ("{token}x", "https://shop.example"),
        ("", "https://shop.example"),
    ],
)
def test_visitor_socket_refuses_wrong_origin_and_bad_tokens(server, token, origin):
    protocol = f"{VISITOR_PROTOCOL}, {token.format(token=server.token)}"
    assert handshake_status(server.ws_url + "/visitor?after=0",
                            {"Origin": origin, "Sec-WebSocket-Protocol": protocol}) == 403


def test_visitor_socket_refuses_a_bad_sequence_number(server):
    assert handshake_status(server.ws_url + "/visitor?after=-1", {
        "Origin": "https://shop.example",
        "Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {server.token}",
    }) == 400
