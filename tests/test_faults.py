"""Faults on real servers (loopback): Redis stopped and started again, PostgreSQL restarted,
Base slow then down, an RQ worker killed mid-job, a websocket dropped while sending.

Each test holds a conversation through the fault the way the widget and the inbox do (the
customer resends unacknowledged messages with the same ``client_msg_id``, the agent's page
retries a failed send), then checks on both sides, over HTTP catch-up by sequence number,
that every committed message is there exactly once, and that no auto-response was sent twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from simple_websocket import ConnectionClosed

from responso_chat.conversation import messages
from responso_chat.demo.base_standin import create_standin_app, serve_standin
from responso_chat.models import AutomationRun, OutboxEntry, Ticket, ticket_details, utcnow
from tests.factories import make_chat, make_ticket
from tests.hardening import VisitorSocket
from tests.hostapp import PASSWORD
from tests.polling import wait_until
from tests.servers import PostgresServer, RedisServer
from tests.wsclient import Socket

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[1]
SHOP = "https://shop.example"
AUTO = "Thanks, we got your message."
BASE_TOKEN = "bl-faults-token-91c2"
CONFIG = {
    "RESPONSO_CHAT_START_CHAT_RATE_LIMIT": "1000 per minute",
    "RESPONSO_CHAT_SEND_RATE_LIMIT": "1000 per minute",
    "RESPONSO_CHAT_PUBLIC_RATE_LIMIT": "1000 per minute",
    "RESPONSO_CHAT_AUTORESPONDER_LIMIT": 1000,
}


class Worker:
    """``flask responso-chat worker`` for the shop's app factory, in its own process group
    (its work horses with it), so it can be killed at once like a machine going away."""

    def __init__(self, database_url: str, redis_url: str, log_path: Path, config: dict):
        self.env = dict(os.environ, SCALEAPP_DATABASE_URL=database_url,
                        SCALEAPP_REDIS_URL=redis_url, SCALEAPP_CONFIG=json.dumps(config))
        self.log_path = log_path
        self.process = None

    def start(self) -> Worker:
        """Start the worker (with its scheduler)."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "tests.scaleapp:create_app",
                 "responso-chat", "worker"],
                cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL the worker, its work horse (in a session of its own) and its scheduler at
        once, as when the machine goes away: no cleanup, no goodbye."""
        for pid in [*self._descendants(self.process.pid), self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)

    @classmethod
    def _descendants(cls, pid: int) -> list[int]:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [d for child in map(int, children) for d in (child, *cls._descendants(child))]

    def stop(self) -> None:
        """Stop the worker if it still runs."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Conversation:
    """A customer (visitor token and socket, like the widget) and Alice (the inbox's HTTP
    session) on one ticket of a live server."""

    def __init__(self, app, url: str, public_key: str):
        self.app, self.url = app, url
        started = requests.post(
            f"{url}/chat/widget/{public_key}/tickets", headers={"Origin": SHOP}, timeout=10,
            json={"name": "Zoe Customer", "email": "zoe@example.com", "subject": "Parcel",
                  "message": "c-0 first message", "client_msg_id": "c-0"},
        )
        assert started.status_code == 201, started.text
        self.token = started.json()["token"]
        self.ticket_id = started.json()["ticket"]["id"]
        self.customer_bodies = ["c-0 first message"]
        self.agent_bodies = []
        self.agent = requests.Session()
        self.agent.post(f"{url}/login", data={"email": "alice@shop.test", "password": PASSWORD},
                        timeout=10)
        self.agent.headers["X-CSRFToken"] = self.agent.get(f"{url}/csrf-token", timeout=10).text
        self.socket = None
        self.refusals: list[int] = []  # statuses of HTTP sends that had to be retried

    # --- the customer --------------------------------------------------------------------------

    def connect(self, after=0) -> VisitorSocket:
        """(Re)open the customer's socket, caught up from ``after``."""
        self.socket = VisitorSocket(self.url, self.token, after=after, origin=SHOP)
        return self.socket

    def say(self, body: str, client_msg_id: str) -> None:
        """The customer sends over the socket and waits for the message to come back on it
        (the echo, or the catch-up of a new socket when it was stored already)."""
        self.customer_bodies.append(body)
        self.socket.send(type="send", body=body, client_msg_id=client_msg_id)
        event = self.socket.next("message", timeout=10)
        while event.get("client_msg_id") != client_msg_id:
            event = self.socket.next("message", timeout=10)

    def say_again_or_wait(self, body: str, client_msg_id: str) -> None:
        """Resend on a new socket: the message comes back once, by catch-up or as an echo."""
        self.socket.send(type="send", body=body, client_msg_id=client_msg_id)
        event = self.socket.next("message", timeout=10)
        while event.get("client_msg_id") != client_msg_id:
            event = self.socket.next("message", timeout=10)

    def say_again(self, body: str, client_msg_id: str) -> None:
        """The same message again on a socket that has it already: it does not come back."""
        self.socket.send(type="send", body=body, client_msg_id=client_msg_id)
        deadline = time.monotonic() + 0.5
        while (left := deadline - time.monotonic()) > 0:
            raw = self.socket.ws.receive(timeout=left)
            assert raw is None or json.loads(raw).get("client_msg_id") != client_msg_id

    def say_over_http(self, body: str, client_msg_id: str, timeout=30.0, resend=False) -> None:
        """The widget's fallback: POST until the server answers 2xx, with the same id."""
        if not resend:
            self.customer_bodies.append(body)
        headers = {"Authorization": f"Bearer {self.token}", "Origin": SHOP}

        def sent():
            try:
                response = requests.post(
                    f"{self.url}/chat/widget/tickets/messages", headers=headers, timeout=5,
                    json={"body": body, "client_msg_id": client_msg_id},
                )
            except requests.RequestException:
                return False
            if response.status_code not in (200, 201):
                self.refusals.append(response.status_code)
                return False
            return True

        wait_until(sent, timeout, f"customer message {client_msg_id} accepted")

    # --- the agent -----------------------------------------------------------------------------

    def reply(self, body: str, client_msg_id: str, timeout=30.0) -> None:
        """Alice replies from the ticket page (the page retries a failed send, same id)."""
        self.agent_bodies.append(body)

        def sent():
            try:
                response = self.agent.post(
                    f"{self.url}/chat/inbox/tickets/{self.ticket_id}/messages", timeout=5,
                    json={"body": body, "client_msg_id": client_msg_id},
                    headers={"Accept": "application/json"},
                )
            except requests.RequestException:
                return False
            if response.status_code not in (200, 201):
                self.refusals.append(response.status_code)
                return False
            return True

        wait_until(sent, timeout, f"agent reply {client_msg_id} accepted")

    def agent_socket(self) -> Socket:
        """Alice's live view of the ticket (the inbox page's socket), subscribed."""
        cookie = f"session={self.agent.cookies['session']}"
        socket = Socket(self.url.replace("http://", "ws://") + "/chat/ws/agent",
                        {"Origin": self.url, "Cookie": cookie})
        socket.send(type="subscribe", ticket_id=self.ticket_id, after=0)
        socket.next("subscribed")
        return socket

    # --- what both sides see -------------------------------------------------------------------

    def customer_view(self) -> list[dict]:
        """The conversation as the customer's widget catches it up over HTTP."""
        response = requests.get(
            f"{self.url}/chat/widget/tickets/messages?after=0", timeout=10,
            headers={"Authorization": f"Bearer {self.token}", "Origin": SHOP},
        )
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    def agent_view(self) -> list[dict]:
        """The conversation as the inbox page catches it up over HTTP (notes included)."""
        response = self.agent.get(
            f"{self.url}/chat/inbox/tickets/{self.ticket_id}/messages?after=0", timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    def assert_intact(self, auto_responses_expected: int | None = None) -> dict:
        """Every committed message exactly once on both sides, in order; one auto-response per
        customer message at most (and their number, when given). Returns the counts."""
        views = {"customer": self.customer_view(), "agent": self.agent_view()}
        for side, view in views.items():
            seqs = [m["seq"] for m in view]
            assert seqs == sorted(set(seqs)), f"{side}: sequence numbers out of order"
            bodies = [m["body"] for m in view]
            for body in self.customer_bodies + self.agent_bodies:
                assert bodies.count(body) == 1, f"{side}: {body!r} {bodies.count(body)} times"
        assert [m["seq"] for m in views["customer"]] == [
            m["seq"] for m in views["agent"] if not m.get("internal")
        ]
        autos = [m for m in views["agent"] if m["author_kind"] == "automation"]
        runs = self.automation_runs()
        assert len(runs) == len(set(runs)), "a rule ran twice on one message"
        assert len(autos) == len(runs) <= len(self.customer_bodies)
        if auto_responses_expected is not None:
            assert len(autos) == auto_responses_expected
        return {"messages": len(self.customer_bodies) + len(self.agent_bodies),
                "found": len(views["agent"]), "auto_responses": len(autos)}

    def auto_responses(self) -> int:
        """How many auto-responses the ticket holds now."""
        return sum(m["author_kind"] == "automation" for m in self.agent_view())

    def automation_runs(self) -> list[tuple[int, int]]:
        state = self.app.extensions["responso_chat"]
        with self.app.app_context():
            rows = state.db.session.execute(
                sa.select(AutomationRun.rule_id, AutomationRun.message_id)
                .where(AutomationRun.ticket_id == self.ticket_id)
            ).all()
            state.db.session.remove()
        return [tuple(row) for row in rows]

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


def add_auto_reply_rule(app, trigger="customer_message") -> None:
    """An enabled rule answering every customer message once with :data:`AUTO`."""
    from responso_chat.automations import rules

    with app.app_context():
        rules.create_rule({
            "name": "Auto answer", "enabled": True, "trigger": trigger, "trigger_minutes": None,
            "match": "all", "conditions": [],
            "actions": [{"type": "auto_reply", "value": AUTO}],
        })


@pytest.fixture
def own_redis():
    """A Redis of this test only: it may be stopped and started again on the same port."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def workers(tmp_path):
    """Start workers: ``workers(database_url, redis_url, **settings)``; all stopped at the
    end."""
    started = []

    def start(database_url, redis_url, **settings):
        worker = Worker(database_url, redis_url, tmp_path / f"worker-{len(started)}.log",
                        {**CONFIG, **settings}).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# --- Redis stopped and started again mid-conversation ------------------------------------------


@pytest.mark.redis
def test_redis_stopped_and_started_again_mid_conversation(
    make_app, postgres_url, own_redis, live_server, workers
):
    redis_server = own_redis
    relay_every_second = {"RESPONSO_CHAT_OUTBOX_RELAY_INTERVAL": 1}
    app = make_app(database_url=postgres_url, migrate=False,
                   RESPONSO_CHAT_REDIS_URL=redis_server.url, **CONFIG, **relay_every_second)
    add_auto_reply_rule(app)
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    server = live_server(app)
    worker = workers(postgres_url, redis_server.url, **relay_every_second)
    talk = Conversation(app, server.url, key)
    agent = talk.agent_socket()
    talk.connect()
    try:
        for n in (1, 2):
            talk.say(f"c-{n} before the outage", f"c-{n}")
        talk.reply("a-1 before the outage", "a-1")
        wait_until(lambda: talk.auto_responses() == 3, what="3 auto-responses")

        redis_server.stop()
        for n in (3, 4):  # committed with their outbox rows; the push cannot go out
            talk.say(f"c-{n} while Redis is down", f"c-{n}")
        talk.reply("a-2 while Redis is down", "a-2")
        talk.say_over_http("c-5 over HTTP while Redis is down", "c-5")

        redis_server.start()
        # RQ's worker quits when it loses Redis; production runs it under a supervisor
        # (systemd, Kubernetes) that starts it again, as here.
        try:
            worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass  # it rode the outage out
        else:
            workers(postgres_url, redis_server.url, **relay_every_second)
        agent_seen = {}
        wait_until(lambda: _drain(agent, agent_seen) and len(agent_seen) >= 8, 20,
                   "the agent's socket catching up after the outage")
        for n in (6, 7):
            talk.say(f"c-{n} after the outage", f"c-{n}")
        talk.reply("a-3 after the outage", "a-3")
        # c-3, c-4 and c-5 are answered late (their outbox rows waited), c-6 and c-7 at once.
        wait_until(lambda: talk.auto_responses() == 8, 20, "auto-responses after Redis")
        counts = talk.assert_intact()
        # The agent's socket got every message once, in order, including during the outage.
        wait_until(lambda: _drain(agent, agent_seen) and len(agent_seen) == counts["found"],
                   10, "every message on the agent's socket")
    finally:
        agent.close()
        talk.close()
    # Every customer message got its auto-response once, those of the outage included.
    assert counts["auto_responses"] == 8
    with app.app_context():
        state = app.extensions["responso_chat"]
        Entry = OutboxEntry
        due = sa.and_(Entry.dispatched_at.is_(None), Entry.available_at <= utcnow())
        waiting = sa.select(Entry).where(due)
        assert state.db.session.scalars(waiting).all() == []


def _drain(socket, seen: dict) -> bool:
    """Read the socket's pending events; record each message by seq (twice is a failure)."""
    while True:
        raw = socket.ws.receive(timeout=0.2)
        if raw is None:
            return True
        event = json.loads(raw)
        if event["type"] == "message":
            assert event["seq"] not in seen, f"message {event['seq']} pushed twice"
            assert not seen or event["seq"] > max(seen), "messages out of order"
            seen[event["seq"]] = event["body"]


# --- PostgreSQL restarted ----------------------------------------------------------------------


@pytest.fixture
def own_postgres():
    """A PostgreSQL of this test only, to restart."""
    server = PostgresServer().start()
    yield server
    server.stop()


def test_postgresql_restarted_mid_conversation(make_app, own_postgres, live_server):
    database = own_postgres.create_database("shop")
    app = make_app(database_url=database, migrate=False, **CONFIG)
    add_auto_reply_rule(app)
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    server = live_server(app)
    talk = Conversation(app, server.url, key)
    talk.connect()
    try:
        talk.say("c-1 before the restart", "c-1")
        talk.reply("a-1 before the restart", "a-1")
        app.extensions["responso_chat"].jobs.join()

        own_postgres.restart()  # every open connection is cut
        talk.say_over_http("c-2 just after the restart", "c-2")
        talk.reply("a-2 just after the restart", "a-2")
        # The customer's socket outlived its database connection, or the widget reconnects
        # and resends what was not acknowledged, with the same id.
        try:
            talk.say("c-3 on the socket", "c-3")
        except (ConnectionClosed, AssertionError):
            talk.close()
            talk.connect()
            talk.say_again_or_wait("c-3 on the socket", "c-3")
        talk.say_over_http("c-3 on the socket", "c-3", resend=True)  # changes nothing
        app.extensions["responso_chat"].jobs.join()
        counts = talk.assert_intact(auto_responses_expected=4)
    finally:
        talk.close()
    assert counts["found"] == counts["messages"] + counts["auto_responses"]
    # The cut was felt by a pooled connection, and answered "try again" (503), not a 500.
    assert talk.refusals and set(talk.refusals) == {503}


# --- Base slow, then down ----------------------------------------------------------------------


def test_base_slow_then_down_never_holds_the_conversation(make_app, postgres_url, live_server):
    standin = create_standin_app(token=BASE_TOKEN)
    base_server, base_thread, base_url = serve_standin(standin)
    store = standin.standin
    app = make_app(database_url=postgres_url, migrate=False, RESPONSO_CHAT_BASE_API_URL=base_url,
                   RESPONSO_CHAT_BASE_API_TOKEN=BASE_TOKEN, RESPONSO_CHAT_BASE_TIMEOUT=1.0,
                   **CONFIG)
    add_auto_reply_rule(app)
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    server = live_server(app)
    try:
        store.delay = 3.0  # slower than the client's timeout
        started = time.monotonic()
        talk = Conversation(app, server.url, key)
        talk.connect()
        talk.say("c-1 while Base is slow", "c-1")
        talk.reply("a-1 while Base is slow", "a-1")
        page = talk.agent.get(f"{server.url}/chat/inbox/tickets/{talk.ticket_id}", timeout=10)
        assert page.status_code == 200
        refresh = talk.agent.post(
            f"{server.url}/chat/inbox/tickets/{talk.ticket_id}/orders/refresh", timeout=20,
            headers={"X-Requested-With": "fetch"},
        )
        assert refresh.status_code == 503 and "Base" in refresh.text
        assert time.monotonic() - started < 15  # nothing waited on Base more than its timeout

        base_server.shutdown()  # Base is gone
        base_thread.join(timeout=5)
        talk.say("c-2 while Base is down", "c-2")
        talk.reply("a-2 while Base is down", "a-2")
        refresh = talk.agent.post(
            f"{server.url}/chat/inbox/tickets/{talk.ticket_id}/orders/refresh", timeout=20,
            headers={"X-Requested-With": "fetch"},
        )
        assert refresh.status_code == 503
        panel = talk.agent.get(
            f"{server.url}/chat/inbox/tickets/{talk.ticket_id}/orders", timeout=10)
        assert panel.status_code == 200
        app.extensions["responso_chat"].jobs.join(timeout=30)
        counts = talk.assert_intact(auto_responses_expected=3)
        talk.close()
    finally:
        store.delay = 0
    assert counts["auto_responses"] == 3


# --- an RQ worker killed mid-job -----------------------------------------------------------------


@pytest.mark.redis
def test_a_worker_killed_mid_job_is_finished_by_another_exactly_once(
    make_app, postgres_url, redis_url, live_server, workers
):
    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    standin = create_standin_app(token=BASE_TOKEN)
    base_server, base_thread, base_url = serve_standin(standin)
    store = standin.standin
    config = {**CONFIG, "RESPONSO_CHAT_BASE_API_URL": base_url,
              "RESPONSO_CHAT_BASE_API_TOKEN": BASE_TOKEN, "RESPONSO_CHAT_BASE_TIMEOUT": 30.0}
    app = make_app(database_url=postgres_url, migrate=False, RESPONSO_CHAT_REDIS_URL=redis_url,
                   **config)
    add_auto_reply_rule(app, trigger="new_ticket")
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    server = live_server(app)
    queue = Queue(app.config["RESPONSO_CHAT_QUEUE_NAME"], connection=Redis.from_url(redis_url))
    started = StartedJobRegistry(queue=queue)
    try:
        store.delay = 20.0  # every Base call hangs: the job is busy when the worker dies
        first = workers(postgres_url, redis_url, **config)
        talk = Conversation(app, server.url, key)
        wait_until(lambda: started.get_job_ids(cleanup=False), 20, "a job running")
        time.sleep(0.5)  # well inside the slow call
        running = started.get_job_ids(cleanup=False)
        first.kill()
        assert talk.automation_runs() == []  # the job died before its rule acted

        store.delay = 0
        # What the dead worker left in Redis expires by itself: its scheduler's lock after
        # 61 s, its job's heartbeat after 90 s (the monitoring interval plus 60 s). The test
        # moves the clock past both instead of waiting: the lock goes, then RQ's own
        # maintenance (StartedJobRegistry.cleanup) finds the abandoned job and retries it.
        queue.connection.delete(f"rq:scheduler-lock:{queue.name}")
        workers(postgres_url, redis_url, **config)
        started.cleanup(timestamp=time.time() + 120)
        assert not set(running) & set(started.get_job_ids(cleanup=False))
        wait_until(lambda: talk.auto_responses() == 1, 40, "the rule's auto-response")
        killed = [Job.fetch(job_id.split(":")[0], connection=queue.connection)
                  for job_id in running]
        wait_until(lambda: all(job.get_status(refresh=True) == "finished" for job in killed),
                   30, "the killed job finished by the other worker")
        talk.connect()
        talk.say("c-1 after the recovery", "c-1")
        time.sleep(1.0)  # any twin of the job would act by now
        counts = talk.assert_intact(auto_responses_expected=1)
        talk.close()
    finally:
        store.delay = 0
        base_server.shutdown()
        base_thread.join(timeout=5)
        queue.connection.close()
    assert counts["auto_responses"] == 1


class WorkerKilled(BaseException):
    """Stands for SIGKILL inside a job: nothing after it runs, no ``except Exception`` sees it."""


def test_a_run_cut_short_is_finished_by_the_retry_once(app, monkeypatch):
    """Regression: the rule's run is claimed before its actions; a job killed between the claim
    and the last action left the rest undone for good (the retry saw the claim and skipped).
    The retry now finishes it, and what the first try did is not done again."""
    from responso_chat.automations import actions, rules, runner

    state = app.extensions["responso_chat"]
    with app.app_context():
        rule = rules.create_rule({
            "name": "Answer, note, tag", "enabled": False, "trigger": "new_ticket",
            "trigger_minutes": None, "match": "all", "conditions": [],
            "actions": [{"type": "auto_reply", "value": AUTO},
                        {"type": "internal_note", "value": "Customer answered"},
                        {"type": "add_tag", "value": "answered"}],
        })
        ticket = make_ticket(make_chat())
        state.jobs.join()  # the new ticket's own event job ran (with the rule still off)
        first = messages.messages_after(ticket.id)[0]
        rule.enabled = True
        state.db.session.commit()

        def killed(ctx, value):
            raise WorkerKilled

        with monkeypatch.context() as patch:
            patch.setitem(actions._PERFORM, "internal_note", killed)
            with pytest.raises(WorkerKilled):
                runner.run_automations("new_ticket", ticket.id, first.id)
        state.db.session.rollback()
        # The retry (and any later twin) finishes the run once.
        for _try in range(2):
            runner.run_automations("new_ticket", ticket.id, first.id)
        state.db.session.expire_all()
        bodies = [m.body for m in messages.messages_after(ticket.id, include_internal=True)
                  if m.author_kind == "automation"]
        assert bodies == [AUTO, "Customer answered"]
        ticket = state.db.session.get(Ticket, ticket.id, options=ticket_details())
        assert [tag.name for tag in ticket.tags] == ["answered"]
        (run,) = rules.runs_for_ticket(ticket.id)
        assert [step["result"] for step in run.outcome] == ["skipped", "done", "done"]


# --- a websocket dropped while sending -----------------------------------------------------------


def test_a_socket_dropped_while_sending_loses_and_doubles_nothing(
    make_app, postgres_url, live_server
):
    app = make_app(database_url=postgres_url, migrate=False, **CONFIG)
    add_auto_reply_rule(app)
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    server = live_server(app)
    talk = Conversation(app, server.url, key)
    agent = talk.agent_socket()
    try:
        # 1. A whole frame goes out, and the socket dies before any answer.
        socket = talk.connect()
        socket.ws.send(json.dumps({"type": "send", "body": "c-1 sent as the line died",
                                   "client_msg_id": "c-1"}))
        socket.ws.sock.close()  # no closing handshake: the cable is pulled
        # 2. Half a frame goes out, then the socket dies.
        socket = talk.connect()
        frame = _masked_text_frame(json.dumps({"type": "send", "body": "c-2 half sent",
                                               "client_msg_id": "c-2"}))
        socket.ws.sock.sendall(frame[: len(frame) // 2])
        socket.ws.sock.close()
        # The widget reconnects from the last seq it holds and resends both, same ids.
        talk.connect()
        talk.say("c-1 sent as the line died", "c-1")
        talk.say("c-2 half sent", "c-2")
        talk.say_again("c-2 half sent", "c-2")  # unsure again: changes nothing
        talk.reply("a-1 after the drops", "a-1")
        app.extensions["responso_chat"].jobs.join()
        seen = {}
        wait_until(lambda: _drain(agent, seen) and len(seen) >= 6, 10, "the agent's socket")
        counts = talk.assert_intact(auto_responses_expected=3)
    finally:
        agent.close()
        talk.close()
    assert counts["found"] == 7


def _masked_text_frame(text: str) -> bytes:
    """A client's text frame (RFC 6455: FIN, opcode 1, masked), for sending only part of it."""
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    length = len(payload)
    if length < 126:
        header += bytes([0x80 | length])
    else:
        header += bytes([0x80 | 126]) + length.to_bytes(2, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
