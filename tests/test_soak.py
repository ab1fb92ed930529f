"""Soak: 200 conversations over websockets against one live server (gunicorn, PostgreSQL),
20 at a time: the server's memory stays flat, nothing fails, and every message sent is stored
and caught up exactly once (counted)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from responso_chat.models import Message
from tests.appserver import AppServer
from tests.factories import make_chat
from tests.hardening import VisitorSocket

pytestmark = [pytest.mark.soak, pytest.mark.postgres, pytest.mark.timeout(120)]

SHOP = "https://shop.example"
CONVERSATIONS = 200
WARM_UP = 30
AT_ONCE = 20
CUSTOMER_MESSAGES = 3  # over the socket, after the first one of "Start chat"
RSS_GROWTH_LIMIT_KB = 16 * 1024  # 200 conversations grow it by about 3 MB
CONFIG = {
    "RESPONSO_CHAT_START_CHAT_RATE_LIMIT": "100000 per minute",
    "RESPONSO_CHAT_SEND_RATE_LIMIT": "100000 per minute",
    "RESPONSO_CHAT_PUBLIC_RATE_LIMIT": "100000 per minute",
}


def rss_kb(pid: int) -> int:
    """Resident memory of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Soak:
    """Runs conversations against ``server`` and remembers what was sent."""

    def __init__(self, server: AppServer, public_key: str):
        self.server, self.public_key = server, public_key
        self.agent = server.login("alice@shop.test")
        self.lock = threading.Lock()
        self.sent: dict[int, list[str]] = {}  # ticket id -> bodies, customer's and agent's
        self.tokens: dict[int, str] = {}
        self.resent = 0

    def conversation(self, number: int) -> None:
        """Start chat, say more over the socket (each echoed), get one reply from Alice."""
        first = f"soak {number} first"
        started = self.server.start_chat(self.public_key, SHOP, message=first,
                                         client_msg_id=f"s{number}-0")
        token, ticket_id = started["token"], started["ticket"]["id"]
        bodies = [first]
        socket = VisitorSocket(self.server.url, token, origin=SHOP)
        try:
            for n in range(1, CUSTOMER_MESSAGES + 1):
                body = f"soak {number} message {n}"
                socket.send(type="send", body=body, client_msg_id=f"s{number}-{n}")
                bodies.append(body)
                event = socket.next("message", timeout=10)
                while event.get("client_msg_id") != f"s{number}-{n}":
                    event = socket.next("message", timeout=10)
            reply = f"soak {number} reply"
            self.reply(ticket_id, reply, f"a{number}")
            bodies.append(reply)
            assert socket.next("message", timeout=10)["body"] == reply  # pushed live
        finally:
            socket.close()
        with self.lock:
            self.sent[ticket_id], self.tokens[ticket_id] = bodies, token

    def reply(self, ticket_id: int, body: str, client_msg_id: str) -> None:
        """Alice replies; a keep-alive connection the server closed meanwhile is retried, as
        browsers do (the send is idempotent by its id)."""
        for attempt in range(3):
            try:
                response = self.agent.post(
                    f"{self.server.url}/chat/inbox/tickets/{ticket_id}/messages", timeout=10,
                    json={"body": body, "client_msg_id": client_msg_id},
                    headers={"Accept": "application/json"},
                )
                break
            except requests.ConnectionError:
                if attempt == 2:
                    raise
                with self.lock:
                    self.resent += 1
        assert response.status_code in (200, 201), response.text

    def run(self, numbers) -> None:
        with ThreadPoolExecutor(AT_ONCE) as pool:
            for future in [pool.submit(self.conversation, n) for n in numbers]:
                future.result()

    def found(self, ticket_id: int) -> Counter:
        """The ticket's customer and agent messages as the customer catches them up."""
        response = requests.get(
            f"{self.server.url}/chat/widget/tickets/messages?after=0", timeout=10,
            headers={"Authorization": f"Bearer {self.tokens[ticket_id]}", "Origin": SHOP},
        )
        assert response.status_code == 200
        return Counter(m["body"] for m in response.json()["messages"]
                       if m["author_kind"] in ("customer", "agent"))


def test_200_conversations_keep_memory_flat_and_lose_nothing(make_app, postgres_url, tmp_path):
    app = make_app(database_url=postgres_url)
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    log = tmp_path / "server.log"
    server = AppServer(postgres_url, workers=1, threads=64, config=CONFIG, log_path=log).start()
    try:
        (worker_pid,) = server.pids()[1:]
        soak = Soak(server, key)
        soak.run(range(WARM_UP))  # code paths, pools and caches filled once
        before = rss_kb(worker_pid)
        soak.run(range(WARM_UP, WARM_UP + CONVERSATIONS))
        after = rss_kb(worker_pid)
        found = {ticket_id: soak.found(ticket_id) for ticket_id in soak.sent}
    finally:
        server.stop()
    sent_total = sum(len(bodies) for bodies in soak.sent.values())
    found_total = sum(sum(counts.values()) for counts in found.values())
    assert len(soak.sent) == WARM_UP + CONVERSATIONS
    for ticket_id, bodies in soak.sent.items():
        assert found[ticket_id] == Counter(bodies), ticket_id  # each exactly once
    assert found_total == sent_total == (WARM_UP + CONVERSATIONS) * (CUSTOMER_MESSAGES + 2)
    with app.app_context():
        state = app.extensions["responso_chat"]
        stored = state.db.session.scalar(
            sa.select(sa.func.count()).select_from(Message)
            .where(Message.author_kind.in_(("customer", "agent")))
        )
    assert stored == sent_total
    assert "Traceback" not in log.read_text()
    growth = after - before
    print(f"soak: {sent_total} messages sent, {found_total} found, {stored} stored, "
          f"{soak.resent} replies resent; RSS {before} kB -> {after} kB ({growth:+} kB)")
    assert growth < RSS_GROWTH_LIMIT_KB
