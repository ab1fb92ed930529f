"""Brokers: presence shared by every process, the first subscription, and resync after Redis
comes back; presence as agents see it on their sockets."""

from __future__ import annotations

import threading
import time

import pytest

from responso_chat.conversation.visitor import issue_token
from responso_chat.conversation.websocket import VISITOR_PROTOCOL
from responso_chat.infra.broker import RESYNC, InProcessBroker, RedisBroker
from tests.factories import make_chat, make_ticket
from tests.servers import RedisServer
from tests.wsclient import Socket


class Inbox:
    """A listener that keeps what it receives and says when something arrived."""

    def __init__(self):
        self.events = []
        self.arrived = threading.Event()

    def __call__(self, event):
        self.events.append(event)
        self.arrived.set()

    def wait(self, timeout=5):
        """The first event received (waiting up to ``timeout`` seconds)."""
        assert self.arrived.wait(timeout), "nothing arrived"
        return self.events[0]


def check_presence(broker, other):
    """``broker`` and ``other`` share presence (the same object for the in-process one)."""
    assert broker.join("ticket:1:customer", "tab-1", 60) == (True, 1)
    assert other.join("ticket:1:customer", "tab-2", 60) == (True, 2)
    assert broker.join("ticket:1:customer", "tab-1", 60) == (False, 2)  # a heartbeat
    assert other.members("ticket:1:customer") == ["tab-1", "tab-2"]
    assert broker.leave("ticket:1:customer", "tab-2") == (True, 1)
    assert broker.leave("ticket:1:customer", "tab-2") == (False, 1)
    other.join("ticket:1:customer", "crashed-tab", 0.2)  # its process dies: no heartbeat
    assert broker.members("ticket:1:customer") == ["crashed-tab", "tab-1"]
    time.sleep(0.3)
    assert other.members("ticket:1:customer") == ["tab-1"]
    assert other.leave("ticket:1:customer", "tab-1") == (True, 0)
    assert broker.members("ticket:1:customer") == []


def test_in_process_presence_counts_members_until_they_leave_or_expire():
    broker = InProcessBroker()
    check_presence(broker, broker)


@pytest.mark.timeout(30)
def test_redis_presence_is_shared_by_every_process(redis_url):
    first, second = RedisBroker(redis_url), RedisBroker(redis_url)
    try:
        check_presence(first, second)
    finally:
        first.close()
        second.close()


@pytest.mark.timeout(30)
def test_redis_broker_receives_what_is_published_right_after_the_first_subscription(redis_url):
    publisher, subscriber = RedisBroker(redis_url), RedisBroker(redis_url)
    inbox = Inbox()
    try:
        subscriber.subscribe("ticket:7", inbox)
        publisher.publish("ticket:7", {"seq": 1})
        assert inbox.wait() == {"seq": 1}
    finally:
        publisher.close()
        subscriber.close()


@pytest.mark.timeout(30)
def test_listeners_resync_once_when_redis_comes_back():
    redis = RedisServer().start()
    broker = RedisBroker(redis.url)
    inbox, other = Inbox(), Inbox()
    try:
        broker.subscribe("ticket:1", inbox)
        broker.subscribe("ticket:1:agents", inbox)  # one listener on two channels
        broker.subscribe("inbox", other)
        redis.stop()
        broker.publish("ticket:1", {"seq": 2})  # dropped, never raised
        assert broker.join("ticket:1:customer", "tab", 60) is None  # presence: unknown
        redis.start()
        assert inbox.wait(10) == RESYNC and other.wait(10) == RESYNC
        broker.publish("ticket:1", {"seq": 3})
        deadline = time.monotonic() + 5
        while len(inbox.events) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert inbox.events == [RESYNC, {"seq": 3}]
        assert broker.join("ticket:1:customer", "tab", 60) == (True, 1)
    finally:
        broker.close()
        redis.stop()


@pytest.fixture
def desk(app, live_server):
    """The app served live with one ticket; ``desk.connect(path, **headers)`` opens sockets."""
    server = live_server(app)
    with app.app_context():
        chat = make_chat(agent_ids=("2", "3"), allowed_origins=["https://shop.example"])
        ticket = make_ticket(chat)
        server.ticket_id, server.token = ticket.id, issue_token(ticket)
    sockets = []

    def connect(path, subprotocols=None, **headers):
        socket = Socket(server.url.replace("http://", "ws://") + "/chat/ws" + path, headers,
                        subprotocols)
        sockets.append(socket)
        return socket

    def agent(email):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": "secret-pass"})
        socket = connect("/agent", Origin=server.url,
                         Cookie=f"session={client.get_cookie('session').value}")
        socket.send(type="subscribe", ticket_id=server.ticket_id, after=1)
        assert socket.next("subscribed")["ticket_id"] == server.ticket_id
        return socket

    server.connect, server.agent = connect, agent
    yield server
    for socket in sockets:
        socket.close()


def test_customer_tabs_and_agents_present_on_a_ticket(desk):
    alice = desk.agent("alice@shop.test")
    assert alice.next() == {"type": "presence", "ticket_id": desk.ticket_id, "who": "customer",
                            "online": False}
    tabs = [desk.connect("/visitor?after=1", [VISITOR_PROTOCOL, desk.token],
                         Origin="https://shop.example")
            for _ in range(2)]
    for tab in tabs:  # answered once the socket has opened (and joined)
        tab.send(type="ready?")
        assert tab.next("error")["error"] == "bad_request"
    assert alice.next("presence")["online"] is True
    tabs[0].close()
    alice.nothing("presence")  # the other tab is still open
    bob = desk.agent("bob@shop.test")
    assert bob.next("presence")["online"] is True
    assert bob.next("viewers")["agents"] == [{"id": "2", "name": "Alice Agent"}]
    assert alice.next("viewers")["agents"] == [{"id": "3", "name": "Bob Other"}]
    bob.close()
    assert alice.next("viewers")["agents"] == []
    tabs[1].close()
    assert alice.next("presence")["online"] is False
