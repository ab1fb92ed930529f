"""Websockets under attack: rights checked while a socket is open, bounded frames, sockets and
time, errors that end in close frames, tokens kept out of URLs, and the client address behind
trusted proxies. Each test plays the attack against a live server and sees it refused."""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa
from simple_websocket import ConnectionClosed

from responso_chat.conversation import chats, messages
from responso_chat.conversation.visitor import issue_token
from responso_chat.conversation.websocket import (
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_INTERNAL_ERROR,
    CLOSE_TOO_BIG,
    CLOSE_TOO_MANY,
    VISITOR_PROTOCOL,
)
from responso_chat.models import Chat, ChatAgent, Message, Ticket
from responso_chat.schemas.chat_form import chat_form_values
from tests.factories import make_chat, make_ticket
from tests.hardening import handshake_status
from tests.hostapp import PASSWORD
from tests.wsclient import Socket

SHOP = "https://shop.example"


class Scene:
    """A live server with a chat (Alice has access) and a customer's ticket on it."""

    def __init__(self, app, live_server):
        self.app = app
        self.state = app.extensions["responso_chat"]
        server = live_server(app)
        self.url = server.url
        self.ws_url = server.url.replace("http://", "ws://") + "/chat/ws"
        with app.app_context():
            chat = make_chat(allowed_origins=[SHOP])
            ticket = make_ticket(chat)
            self.chat_id, self.ticket_id, self.token = chat.id, ticket.id, issue_token(ticket)
        self.sockets: list[Socket] = []

    def customer(self, token=None, after=0, **headers) -> Socket:
        """The customer's socket as the widget opens it (the token as a subprotocol)."""
        socket = Socket(f"{self.ws_url}/visitor?after={after}", {"Origin": SHOP, **headers},
                        [VISITOR_PROTOCOL, token or self.token])
        self.sockets.append(socket)
        return socket

    def login(self, email="alice@shop.test"):
        """A test client signed in as ``email``, and its session cookie."""
        client = self.app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        return client, f"session={client.get_cookie('session').value}"

    def agent(self, cookie, subscribe=True) -> Socket:
        """An agent's socket with ``cookie``, following the ticket."""
        socket = Socket(f"{self.ws_url}/agent", {"Origin": self.url, "Cookie": cookie})
        self.sockets.append(socket)
        if subscribe:
            socket.send(type="subscribe", ticket_id=self.ticket_id, after=1)
            assert socket.next("subscribed")["ticket_id"] == self.ticket_id
        return socket

    def ticket(self):
        return self.state.db.session.get(Ticket, self.ticket_id)

    def message_count(self) -> int:
        with self.app.app_context():
            return self.state.db.session.execute(
                sa.select(sa.func.count()).where(Message.ticket_id == self.ticket_id)
            ).scalar_one()

    def close(self):
        for socket in self.sockets:
            socket.close()


@pytest.fixture
def make_scene(make_app, live_server):
    """``make_scene(**config)``: a :class:`Scene` on a host app with ``config``."""
    scenes = []

    def build(**config):
        scene = Scene(make_app(**{f"RESPONSO_CHAT_{k}": v for k, v in config.items()}),
                      live_server)
        scenes.append(scene)
        return scene

    yield build
    for scene in scenes:
        scene.close()


def close_code(socket: Socket, timeout: float = 5) -> int:
    """Wait until the server closes ``socket``; its close code."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            socket.ws.receive(timeout=0.2)
            if not socket.ws.connected:
                break
        else:
            pytest.fail(f"the socket is still open after {timeout} s")
    except ConnectionClosed:
        pass
    return socket.ws.close_reason


def still_open(socket: Socket) -> None:
    """The socket answers a frame (so it is open and served)."""
    socket.send(type="nonsense")
    assert socket.next("error")["error"] == "bad_request"


# --- 1. an open agent socket notices when its rights change ------------------------------------


def test_an_agent_removed_from_the_chat_loses_the_ticket_at_once(make_scene):
    scene = make_scene()  # the periodic check every 30 s: the admin's change is announced
    _client, cookie = scene.login()
    alice = scene.agent(cookie)
    with scene.app.app_context():
        chat = chats.get_chat(scene.chat_id)
        chats.update_chat(chat, {**chat_form_values(chat), "agent_ids": ["3"]})
    assert alice.next("unsubscribed", timeout=3) == {
        "type": "unsubscribed", "ticket_id": scene.ticket_id, "reason": "no_access"}
    with scene.app.app_context():
        messages.post_agent_message(scene.ticket(), "1", "Ada Admin", "Refund agreed",
                                    internal=True)
        messages.post_agent_message(scene.ticket(), "1", "Ada Admin", "Your refund is on its way")
    alice.nothing("message", wait=0.6)
    alice.send(type="typing", ticket_id=scene.ticket_id, typing=True)
    assert alice.next("error")["error"] == "not_subscribed"
    alice.send(type="seen", ticket_id=scene.ticket_id, seq=3)
    assert alice.next("error")["error"] == "not_subscribed"
    alice.send(type="subscribe", ticket_id=scene.ticket_id, after=0)
    assert alice.next("error")["error"] == "not_found"


def test_access_taken_away_without_an_announcement_is_noticed_within_the_interval(make_scene):
    scene = make_scene(WS_ACCESS_CHECK_INTERVAL=1)
    _client, cookie = scene.login()
    alice = scene.agent(cookie)
    with scene.app.app_context():  # straight in the database: nobody announces it
        scene.state.db.session.execute(sa.delete(ChatAgent).where(ChatAgent.user_id == "2"))
        scene.state.db.session.commit()
    assert alice.next("unsubscribed", timeout=3)["ticket_id"] == scene.ticket_id


def test_a_demoted_agent_is_disconnected(make_scene):
    scene = make_scene(WS_ACCESS_CHECK_INTERVAL=1)
    _client, cookie = scene.login()
    alice = scene.agent(cookie)
    with scene.app.app_context():
        host = scene.app.extensions["host_shop"]
        host.db.session.get(host.Account, 2).role = "customer"
        host.db.session.commit()
    assert close_code(alice) == CLOSE_FORBIDDEN
    assert handshake_status(f"{scene.ws_url}/agent", {"Origin": scene.url, "Cookie": cookie}) == 403


def test_signing_out_closes_the_agents_socket_and_the_old_cookie_opens_no_other(make_scene):
    scene = make_scene()
    client, cookie = scene.login()
    other_client, other_cookie = scene.login()  # the same agent on a second computer
    alice, elsewhere = scene.agent(cookie), scene.agent(other_cookie)
    client.post("/logout")
    assert close_code(alice, timeout=3) == CLOSE_FORBIDDEN
    with scene.app.app_context():
        messages.post_agent_message(scene.ticket(), "2", "Alice Agent", "Checking", internal=True)
    assert elsewhere.next("message")["body"] == "Checking"  # that sign-in is not over
    agent_socket = {"Origin": scene.url, "Cookie": cookie}
    assert handshake_status(f"{scene.ws_url}/agent", agent_socket) == 403  # a kept copy
    _again, fresh = scene.login()
    assert handshake_status(f"{scene.ws_url}/agent", {**agent_socket, "Cookie": fresh}) == 101


# --- 2. the customer's socket cannot hold the server --------------------------------------------


def test_a_frame_over_the_limit_closes_the_socket_unread(make_scene):
    scene = make_scene(WS_MAX_FRAME_SIZE=4096)
    customer = scene.customer()
    customer.next("message")
    body = "x" * 10_000_000
    sender = threading.Thread(target=_send_quietly, args=(customer, body), daemon=True)
    sender.start()
    assert close_code(customer) == CLOSE_TOO_BIG
    sender.join(timeout=10)
    assert scene.message_count() == 1
    fine = scene.customer(after=1)  # a frame under the limit is served
    fine.send(type="send", body="y" * 3000, client_msg_id="c-1")
    assert fine.next("message")["body"] == "y" * 3000


def _send_quietly(socket, body):
    try:
        socket.send(type="send", body=body, client_msg_id="big")
    except Exception:  # noqa: BLE001 - the server closed the socket halfway: what we want
        pass


def test_sockets_per_conversation_are_capped(make_scene):
    scene = make_scene(WS_MAX_SOCKETS_PER_VISITOR=2)
    tabs = [scene.customer(), scene.customer()]
    for tab in tabs:
        still_open(tab)
    assert close_code(scene.customer()) == CLOSE_TOO_MANY
    tabs[0].close()
    time.sleep(0.3)  # the server sees the close and frees the slot
    still_open(scene.customer())
    still_open(tabs[1])


def test_sockets_per_address_are_capped_across_conversations(make_scene):
    scene = make_scene(WS_MAX_SOCKETS_PER_ADDRESS=2)
    with scene.app.app_context():
        chat = chats.get_chat(scene.chat_id)
        other = issue_token(make_ticket(chat, "Another"))
    first, second = scene.customer(), scene.customer(other)
    still_open(first)
    still_open(second)
    assert close_code(scene.customer(other)) == CLOSE_TOO_MANY


def test_a_socket_whose_client_says_nothing_is_closed(make_scene):
    scene = make_scene(WS_IDLE_TIMEOUT=1.5)
    silent, alive = scene.customer(), scene.customer()
    started = time.monotonic()
    while time.monotonic() - started < 3:  # the widget answers each ping
        raw = alive.ws.receive(timeout=0.1)
        if raw is not None and json.loads(raw)["type"] == "ping":
            alive.send(type="pong")
    assert close_code(silent, timeout=0.5) == CLOSE_IDLE
    still_open(alive)


@pytest.mark.parametrize("frame", [
    {"type": "typing", "typing": True},
    {"type": "seen", "seq": 1},
    {"type": "page", "url": "https://shop.example/cart", "title": "Cart"},
    {"type": "nonsense"},
])
def test_a_flood_of_frames_closes_the_socket(make_scene, frame):
    scene = make_scene(WS_FRAME_RATE_LIMIT="10 per second")
    customer = scene.customer()
    for _ in range(10):
        customer.ws.send(json.dumps(frame))
    time.sleep(0.1)
    with pytest.raises(Exception):  # noqa: B017,PT011 - the server closes while we send
        for _ in range(200):
            customer.ws.send(json.dumps(frame))
            time.sleep(0.001)
    assert close_code(customer) == CLOSE_TOO_MANY
    still_open(scene.customer())


# --- 3. errors end in close frames --------------------------------------------------------------


def test_deeply_nested_json_is_a_bad_request_not_a_crash(make_scene):
    scene = make_scene()
    customer = scene.customer()
    nested = '{"type": "send", "body": "hi", "client_msg_id": ' + "[" * 500 + "]" * 500 + "}"
    customer.ws.send(nested)
    assert customer.next("error")["error"] == "bad_request"
    customer.ws.send("[" * 30_000 + "]" * 30_000)  # too deep even for the JSON decoder
    assert customer.next("error")["error"] == "bad_request"
    still_open(customer)
    assert scene.message_count() == 1


def test_an_error_in_a_handler_closes_with_1011(make_scene, monkeypatch):
    scene = make_scene()
    customer = scene.customer()
    customer.next("message")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("responso_chat.conversation.tickets.record_page", broken)
    customer.send(type="page", url="https://shop.example/", title="Home")
    assert close_code(customer) == CLOSE_INTERNAL_ERROR
    still_open(scene.customer())


def test_a_database_lost_after_the_commit_still_acknowledges_then_closes_with_1011(make_scene):
    scene = make_scene()
    customer = scene.customer()
    assert customer.next("message")["seq"] == 1
    with scene.app.app_context():
        engine = scene.state.db.engine
    armed, cut, inserting = threading.Event(), {}, set()

    def committed(connection):
        # The socket's thread, once it committed the message (not a job's or a beat's thread).
        if threading.get_ident() in inserting:
            cut.setdefault("thread", threading.get_ident())

    def execute(connection, cursor, statement, *args):
        if cut.get("thread") == threading.get_ident():  # the database went away after it
            raise sa.exc.OperationalError(statement, None, OSError("server closed the connection"))
        if armed.is_set() and statement.lstrip().upper().startswith(
            "INSERT INTO RESPONSO_CHAT_MESSAGE"
        ):
            inserting.add(threading.get_ident())

    sa.event.listen(engine, "commit", committed)
    sa.event.listen(engine, "before_cursor_execute", execute)
    try:
        armed.set()
        customer.send(type="send", body="Is my parcel lost?", client_msg_id="c-1")
        echo = customer.next("message")
        assert (echo["seq"], echo["client_msg_id"], echo["body"]) == (2, "c-1",
                                                                       "Is my parcel lost?")
        customer.send(type="page", url="https://shop.example/", title="Home")
        assert close_code(customer) == CLOSE_INTERNAL_ERROR
    finally:
        sa.event.remove(engine, "before_cursor_execute", execute)
        sa.event.remove(engine, "commit", committed)
    again = scene.customer(after=1)  # the customer's reconnect: the message, once
    assert again.next("message")["client_msg_id"] == "c-1"
    again.nothing("message")
    assert scene.message_count() == 2


# --- 4. the visitor token never in a URL --------------------------------------------------------


def test_the_visitor_token_is_refused_in_the_url(make_scene):
    scene = make_scene()
    url = f"{scene.ws_url}/visitor?after=0"
    assert handshake_status(f"{url}&token={scene.token}", {"Origin": SHOP}) == 403
    protocol = {"Origin": SHOP, "Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {scene.token}"}
    assert handshake_status(url, protocol) == 101


# --- 5. a disabled chat takes no more messages --------------------------------------------------


def test_a_disabled_chat_refuses_a_message_on_an_open_socket(make_scene):
    scene = make_scene()
    customer = scene.customer()
    customer.next("message")
    with scene.app.app_context():
        scene.state.db.session.get(Chat, scene.chat_id).enabled = False
        scene.state.db.session.commit()
    customer.send(type="send", body="Still there?", client_msg_id="c-1")
    assert customer.next("error") == {"type": "error", "error": "unavailable",
                                      "client_msg_id": "c-1"}
    assert close_code(customer) == CLOSE_FORBIDDEN
    assert scene.message_count() == 1


def test_a_disabled_chat_closes_its_idle_sockets_within_the_interval(make_scene):
    scene = make_scene(WS_ACCESS_CHECK_INTERVAL=1)
    customer = scene.customer()
    with scene.app.app_context():
        scene.state.db.session.get(Chat, scene.chat_id).enabled = False
        scene.state.db.session.commit()
    assert customer.next("error", timeout=3)["error"] == "unavailable"
    assert close_code(customer) == CLOSE_FORBIDDEN


# --- 7. the client address behind trusted proxies -----------------------------------------------


@pytest.mark.parametrize("hops, separate", [(0, False), (1, False), (2, True)])
def test_rate_limits_count_the_address_the_trusted_proxies_saw(make_app, hops, separate):
    app = make_app(RESPONSO_CHAT_TRUSTED_PROXIES=hops,
                   RESPONSO_CHAT_START_CHAT_RATE_LIMIT="2 per minute")
    with app.app_context():
        key = make_chat().public_key
    client = app.test_client()

    def start(address):
        return client.post(f"/chat/widget/{key}/tickets", json={}, headers={
            "X-Forwarded-For": f"{address}, 10.0.0.1"}).status_code

    assert [start("203.0.113.5") for _ in range(3)][-1] == 429
    # Two proxies trusted: the first entry is the customer, another customer has a bucket of
    # their own. Fewer: the proxy's own address (or the socket's) is what counts, and a
    # forged header changes nothing.
    assert (start("198.51.100.7") != 429) is separate


def test_sockets_per_address_count_the_forwarded_address(make_scene):
    scene = make_scene(TRUSTED_PROXIES=1, WS_MAX_SOCKETS_PER_ADDRESS=1)
    with scene.app.app_context():
        chat = chats.get_chat(scene.chat_id)
        other = issue_token(make_ticket(chat, "Another"))
    first = scene.customer(**{"X-Forwarded-For": "203.0.113.5"})
    second = scene.customer(other, **{"X-Forwarded-For": "198.51.100.7"})
    still_open(first)
    still_open(second)
    assert close_code(scene.customer(other, **{"X-Forwarded-For": "198.51.100.7"})) == \
        CLOSE_TOO_MANY
