"""Two gunicorn server processes sharing PostgreSQL and Redis, as a busy shop runs them.

A customer connected to one process and agents connected to the other talk in real time; a
process that loses Redis keeps committing messages, and clients catch up by sequence number
once Redis is back.
"""

from __future__ import annotations

import time

import pytest
import requests

from responso_chat.conversation.websocket import VISITOR_PROTOCOL
from tests.appserver import AppServer
from tests.factories import make_chat
from tests.servers import RedisServer
from tests.wsclient import Socket

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(60)]

ORIGIN = "https://shop.example"
PUSH_SECONDS = 3  # a pushed event crosses processes well within this


@pytest.fixture
def shop(pg_app, postgres_url):
    """The shop's database (tables, accounts, one chat Alice answers) shared by the servers."""
    with pg_app.app_context():
        chat = make_chat(allowed_origins=[ORIGIN])
        return {"database_url": postgres_url, "public_key": chat.public_key}


@pytest.fixture
def serve(shop, tmp_path):
    """Start server processes on the shop's database: ``first, second = serve(redis_url, 2)``."""
    servers, sockets = [], []

    def start(redis_url, count):
        started = [
            AppServer(shop["database_url"], redis_url, threads=20,
                      log_path=tmp_path / f"server-{len(servers) + i}.log").launch()
            for i in range(count)
        ]
        servers.extend(started)
        for server in started:
            server.wait_ready()
            server.connect = connector(server)
        return started

    def connector(server):
        def connect(path, subprotocols=None, **headers):
            socket = Socket(server.ws_url + "/chat/ws" + path, headers, subprotocols)
            sockets.append(socket)
            return socket
        return connect

    yield start
    for socket in sockets:
        socket.close()
    for server in servers:
        server.stop()


def agent_socket(server, session, inbox=False):
    """An agent's websocket on ``server`` (listening to the inbox if asked), ready to use."""
    socket = server.connect("/agent", Origin=server.url, Cookie=session.cookie_header)
    if inbox:
        socket.send(type="inbox")
    socket.send(type="ready?")  # answered after the frames before it: subscriptions are made
    assert socket.next("error")["error"] == "bad_request"
    return socket


def visitor_socket(server, token, after=0):
    """The customer's websocket on ``server``."""
    return server.connect(f"/visitor?after={after}", [VISITOR_PROTOCOL, token], Origin=ORIGIN)


def counts(server, session):
    """The agent's inbox view counts, read from ``server``."""
    return session.get(server.url + "/chat/inbox/counts", timeout=10).json()["counts"]


def send_as_agent(server, session, ticket_id, body, client_msg_id):
    """An agent's reply over HTTP, as the inbox sends it."""
    response = session.post(
        f"{server.url}/chat/inbox/tickets/{ticket_id}/messages",
        json={"body": body, "client_msg_id": client_msg_id}, timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["message"]


def send_as_customer(server, token, body, client_msg_id, status=201):
    """A customer's message over HTTP (the widget's fallback when its socket is down)."""
    response = requests.post(
        server.url + "/chat/widget/tickets/messages",
        json={"body": body, "client_msg_id": client_msg_id},
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN}, timeout=10,
    )
    assert response.status_code == status, response.text
    return response.json()["message"]


def test_customer_and_agents_on_different_processes_talk_in_real_time(shop, serve, redis_url):
    first, second = serve(redis_url, 2)
    alice = second.login("alice@shop.test")
    admin = first.login("admin@shop.test")
    alice_desk = agent_socket(second, alice, inbox=True)
    admin_desk = agent_socket(first, admin, inbox=True)
    before = counts(first, alice)

    started = first.start_chat(shop["public_key"], ORIGIN)
    ticket_id = started["ticket"]["id"]
    for desk in (alice_desk, admin_desk):  # the new chat shows up in both processes' inboxes
        event = desk.next("inbox", timeout=PUSH_SECONDS)
        assert (event["ticket_id"], event["event"]) == (ticket_id, "created")
    after = counts(first, alice)
    assert after["all"] == before["all"] + 1 and counts(second, alice) == after

    customer = visitor_socket(first, started["token"], after=1)
    assert customer.next("status")["status"] == "open"
    alice_desk.send(type="subscribe", ticket_id=ticket_id, after=0)
    assert alice_desk.next("message")["seq"] == 1
    assert alice_desk.next("presence", timeout=PUSH_SECONDS)["online"] is True
    admin_desk.send(type="subscribe", ticket_id=ticket_id, after=1)
    assert alice_desk.next("viewers", timeout=PUSH_SECONDS)["agents"] == [
        {"id": "1", "name": "Ada Admin"}
    ]
    assert admin_desk.next("viewers")["agents"] == [{"id": "2", "name": "Alice Agent"}]

    customer.send(type="typing", typing=True)
    assert alice_desk.next("typing", timeout=PUSH_SECONDS)["name"] == "Zoe Customer"
    sent_at = time.monotonic()
    customer.send(type="send", body="Is anyone there?", client_msg_id="c-2")
    assert customer.next("message")["seq"] == 2  # its own message, from the database
    pushed = alice_desk.next("message", timeout=PUSH_SECONDS)
    assert (pushed["seq"], pushed["body"]) == (2, "Is anyone there?")
    assert time.monotonic() - sent_at < PUSH_SECONDS
    message, activity = admin_desk.collect(2, "message", "inbox")
    assert (message["seq"], activity["ticket_id"], activity["event"]) == (2, ticket_id, "activity")

    send_as_agent(second, alice, ticket_id, "Yes, looking into it.", "a-1")
    reply = customer.next("message", timeout=PUSH_SECONDS)
    assert (reply["seq"], reply["author_name"]) == (3, "Alice Agent")
    customer.nothing("message")
    assert admin_desk.next("message", timeout=PUSH_SECONDS)["seq"] == 3
    assert counts(first, alice) == counts(second, alice)

    customer.close()
    assert alice_desk.next("presence", timeout=PUSH_SECONDS)["online"] is False


def test_a_process_without_redis_keeps_committing_and_clients_catch_up(shop, serve):
    redis = RedisServer().start()
    try:
        first, second = serve(redis.url, 2)
        started = first.start_chat(shop["public_key"], ORIGIN)
        ticket_id, token = started["ticket"]["id"], started["token"]
        alice = second.login("alice@shop.test")
        customer = visitor_socket(first, token, after=1)
        assert customer.next("status")["status"] == "open"
        desk = agent_socket(second, alice)
        desk.send(type="subscribe", ticket_id=ticket_id, after=1)
        assert desk.next("subscribed")["ticket_id"] == ticket_id

        redis.stop()
        assert send_as_customer(first, token, "Still there?", "c-2")["seq"] == 2
        assert send_as_agent(second, alice, ticket_id, "Yes, one moment.", "a-1")["seq"] == 3
        assert send_as_customer(first, token, "Still there?", "c-2", status=200)["seq"] == 2
        redis.start()

        assert desk.next("message", timeout=10)["seq"] == 2  # pushed again once Redis is back
        assert desk.next("message")["seq"] == 3
        assert [customer.next("message", timeout=10)["seq"] for _ in range(2)] == [2, 3]
        customer.nothing("message")
        desk.nothing("message")

        resumed = requests.get(
            first.url + "/chat/widget/tickets/messages?after=1",
            headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN}, timeout=10,
        ).json()["messages"]
        assert [(m["seq"], m["body"]) for m in resumed] == [
            (2, "Still there?"), (3, "Yes, one moment.")
        ]
        again = visitor_socket(second, token, after=1)
        assert [again.next("message")["seq"] for _ in range(2)] == [2, 3]
        again.nothing("message")
    finally:
        redis.stop()
