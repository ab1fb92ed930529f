"""Outgoing webhooks: the admin pages, signed deliveries received on a loopback server,
retries with backoff, the delivery log, and deliveries as RQ jobs."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from responso_chat.conversation import messages, ticket_changes
from responso_chat.infra.jobs import run_worker
from responso_chat.infra.outbox import RELAY_DUE, relay_due
from responso_chat.integrations import webhooks
from responso_chat.models import OutboxEntry, utcnow
from responso_chat.state import plugin_state
from responso_chat.users import Agent
from responso_chat.vocab import WEBHOOK_EVENTS
from tests.conftest import csrf_from_page
from tests.factories import make_chat, make_ticket
from tests.polling import wait_until

ALICE = Agent("2", "Alice Agent", "alice@shop.test")
ALL_EVENTS = list(WEBHOOK_EVENTS)


class Receiver:
    """A loopback HTTP server recording what it receives; answers the statuses queued in
    ``answers`` (then 200)."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: list[int] = []
        self._arrived = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @Request.application
    def _app(self, request):
        with self._arrived:
            status = self.answers.pop(0) if self.answers else 200
            self.received.append(
                {"path": request.path, "headers": dict(request.headers), "body": request.data}
            )
            self._arrived.notify_all()
        return Response("ok", status)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        """The first ``count`` requests, waiting for them up to ``timeout`` seconds."""
        with self._arrived:
            done = self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
        assert done, f"{len(self.received)} of {count} deliveries arrived"
        return self.received[:count]

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


#: The receivers of these tests listen on loopback, a private address webhooks refuse unless
#: the shop allows its own network (tests/test_trust.py checks the refusal).
PRIVATE_OK = {"RESPONSO_CHAT_WEBHOOK_PRIVATE_NETWORKS": True}


@pytest.fixture
def app(make_app):
    """A host app whose webhooks may reach the loopback receiver."""
    return make_app(**PRIVATE_OK)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def quick_retries(monkeypatch):
    """Retries after 50 ms instead of minutes, and three attempts in all."""
    monkeypatch.setattr(webhooks, "RETRY_DELAYS", (0.05, 0.05))


def add_webhook(app, url, events=ALL_EVENTS, enabled=True):
    with app.app_context():
        webhook = webhooks.create_webhook({"url": url, "events": events, "enabled": enabled})
        return webhook.id, webhook.secret


def deliveries(app, webhook_id):
    with app.app_context():
        plugin_state().db.session.expire_all()
        return webhooks.recent_deliveries(webhooks.get_webhook(webhook_id))


# --- admin pages -------------------------------------------------------------------------------


def test_only_admins_reach_the_webhook_pages(client, auth):
    assert client.get("/chat/admin/webhooks/").status_code == 302
    auth.login("alice@shop.test")
    assert client.get("/chat/admin/webhooks/").status_code == 403
    assert client.get("/chat/admin/webhooks/new").status_code == 403


def test_registration_is_validated(app, client, auth):
    auth.login("admin@shop.test")
    page = client.get("/chat/admin/webhooks/new")
    assert page.status_code == 200
    csrf = csrf_from_page(page.get_data(as_text=True))
    for form, field_error in (
        ({"url": "", "events": "ticket.created"}, "Enter the URL."),
        ({"url": "ftp://files.example.com/x", "events": "ticket.created"}, "https://"),
        ({"url": "https://crm.example.com/hook"}, "Choose at least one event."),
        ({"url": "https://crm.example.com/hook", "events": "ticket.deleted"}, "from the list"),
    ):
        response = client.post("/chat/admin/webhooks/new", data={"csrf_token": csrf, **form})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert field_error in html
        if form["url"]:  # the form keeps what was typed
            assert f'value="{form["url"]}"' in html
    with app.app_context():
        assert webhooks.list_webhooks() == []
    response = client.post(
        "/chat/admin/webhooks/new",
        data={
            "csrf_token": csrf,
            "url": " https://crm.example.com/hook ",
            "events": ["ticket.assigned", "ticket.created"],
            "enabled": "1",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        (webhook,) = webhooks.list_webhooks()
        assert (webhook.url, webhook.events, webhook.enabled) == (
            "https://crm.example.com/hook",
            ["ticket.created", "ticket.assigned"],
            True,
        )
        secret = webhook.secret
    edit = client.get(response.headers["Location"]).get_data(as_text=True)
    assert secret in edit and "No delivery yet" in edit
    listing = client.get("/chat/admin/webhooks/").get_data(as_text=True)
    assert "https://crm.example.com/hook" in listing and "Ticket assigned" in listing


def test_edit_rotate_secret_and_delete(app, client, auth):
    webhook_id, secret = add_webhook(app, "https://crm.example.com/hook")
    auth.login("admin@shop.test")
    url = f"/chat/admin/webhooks/{webhook_id}"
    csrf = csrf_from_page(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": csrf, "url": "https://x.example/h"})
    assert response.status_code == 422  # no event left
    assert client.post(
        url, data={"csrf_token": csrf, "url": "https://x.example/h", "events": "ticket.created"}
    ).status_code == 303
    assert client.post(f"{url}/secret", data={"csrf_token": csrf}).status_code == 303
    with app.app_context():
        webhook = webhooks.get_webhook(webhook_id)
        assert (webhook.url, webhook.events, webhook.enabled) == (
            "https://x.example/h",
            ["ticket.created"],
            False,  # the box was not ticked
        )
        assert webhook.secret != secret
    assert client.post(f"{url}/delete", data={"csrf_token": csrf}).status_code == 303
    with app.app_context():
        assert webhooks.list_webhooks() == []
    assert client.get(url).status_code == 404


# --- deliveries --------------------------------------------------------------------------------


def test_events_are_delivered_signed(app, receiver):
    webhook_id, secret = add_webhook(app, receiver.url)
    add_webhook(app, receiver.url, enabled=False)
    add_webhook(app, receiver.url, events=["ticket.assigned"])
    with app.app_context():
        ticket = make_ticket(make_chat())
        ticket_changes.set_status(ticket, "pending", ALICE)
        ticket_changes.assign(ticket, "2", ALICE)
        ticket_id = ticket.id
    arrived = receiver.wait_for(5)  # 4 events, the assignment twice
    time.sleep(0.1)
    assert len(receiver.received) == 5  # nothing for the disabled webhook
    by_event = {}
    for request in arrived:
        headers, body = request["headers"], request["body"]
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        payload = json.loads(body)
        assert headers["X-Responso-Event"] == payload["event"]
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Responso-Delivery"].isdigit()
        if headers["X-Responso-Signature"] == expected:
            by_event[payload["event"]] = payload
    assert set(by_event) == set(ALL_EVENTS) - {"ticket.rated"}  # nobody rated (test_ratings)
    created = by_event["ticket.created"]["data"]
    assert created["ticket"]["id"] == ticket_id
    assert created["message"]["body"] == "Hello, my parcel has not arrived."
    assert by_event["message.created"]["data"]["message"]["author_kind"] == "customer"
    changed = by_event["ticket.status_changed"]["data"]
    assert (changed["old_status"], changed["new_status"]) == ("open", "pending")
    assert changed["by"] == {"id": "2", "name": "Alice Agent"}
    assert by_event["ticket.assigned"]["data"]["assignee_id"] == "2"
    log = deliveries(app, webhook_id)
    assert len(log) == 4
    assert all(webhooks.delivery_state(d) == "delivered" and d.status_code == 200 for d in log)


def test_a_failed_delivery_is_retried_then_succeeds(app, client, auth, receiver, quick_retries):
    webhook_id, _secret = add_webhook(app, receiver.url, events=["message.created"])
    receiver.answers = [500]
    with app.app_context():
        ticket = make_ticket(make_chat())
        messages.post_agent_message(ticket, "2", "Alice Agent", "On its way")
    first, second, third = receiver.wait_for(3)
    assert first["body"] != second["body"]  # two messages: the customer's, the agent's
    assert third["body"] == first["body"]  # the retry sends the same body
    assert third["headers"]["X-Responso-Delivery"] == first["headers"]["X-Responso-Delivery"]
    wait_until(lambda: all(d.delivered_at for d in deliveries(app, webhook_id)))
    retried = next(d for d in deliveries(app, webhook_id) if d.attempt == 2)
    assert (retried.status_code, retried.error) == (200, "")
    auth.login("admin@shop.test")
    page = client.get(f"/chat/admin/webhooks/{webhook_id}").get_data(as_text=True)
    assert "2 / 3" in page and "Delivered" in page and "message.created" in page


def test_a_delivery_gives_up_after_its_attempts(app, receiver, quick_retries):
    webhook_id, _secret = add_webhook(app, receiver.url, events=["ticket.created"])
    receiver.answers = [503, 500, 502, 200]
    with app.app_context():
        make_ticket(make_chat())
    receiver.wait_for(3)
    wait_until(lambda: deliveries(app, webhook_id)[0].attempt == 3)
    time.sleep(0.2)
    (delivery,) = deliveries(app, webhook_id)
    assert len(receiver.received) == 3
    assert (delivery.status_code, delivery.error) == (502, "The URL answered 502.")
    assert webhooks.delivery_state(delivery) == "failed"


def test_an_unreachable_url_is_recorded(app, quick_retries):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook_id, _secret = add_webhook(app, f"http://127.0.0.1:{port}/", ["ticket.created"])
    with app.app_context():
        make_ticket(make_chat())
    wait_until(lambda: [d.attempt for d in deliveries(app, webhook_id)] == [3])
    (delivery,) = deliveries(app, webhook_id)
    assert delivery.status_code is None and "ConnectionError" in delivery.error


def test_the_log_keeps_the_latest_deliveries(app, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "LOG_KEPT", 3)
    webhook_id, _secret = add_webhook(app, receiver.url, events=["message.created"])
    jobs = app.extensions["responso_chat"].jobs
    with app.app_context():
        ticket = make_ticket(make_chat())
        jobs.join()
        for n in range(4):  # one after the other: each event's job is done before the next
            messages.post_agent_message(ticket, "2", "Alice Agent", f"Reply {n}")
            jobs.join()
    receiver.wait_for(5)
    log = deliveries(app, webhook_id)
    assert [d.payload["data"]["message"]["body"] for d in log] == [
        "Reply 3",
        "Reply 2",
        "Reply 1",
    ]


@pytest.mark.redis
def test_deliveries_are_rq_jobs_retried_through_the_outbox(make_app, redis_url, receiver):
    from rq.job import Job

    app = make_app(RESPONSO_CHAT_REDIS_URL=redis_url, **PRIVATE_OK)
    state = app.extensions["responso_chat"]
    queue = state.jobs.queue
    webhook_id, _secret = add_webhook(app, receiver.url, events=["ticket.created"])
    receiver.answers = [500]
    with app.app_context():
        make_ticket(make_chat())
    assert deliveries(app, webhook_id) == []  # the event's job, in the worker, makes them
    queued = [job.func_name for job in queue.jobs]
    assert "responso_chat.conversation.event_jobs.on_ticket_created" in queued
    run_worker(app, burst=True)
    (delivery,) = deliveries(app, webhook_id)
    assert (delivery.attempt, delivery.status_code, delivery.delivered_at) == (1, 500, None)
    scheduled = [
        Job.fetch(job_id, connection=queue.connection)
        for job_id in queue.scheduled_job_registry.get_job_ids()
    ]
    assert RELAY_DUE in [job.func_name for job in scheduled]  # a relay when the retry is due
    Entry = OutboxEntry
    with app.app_context():  # its time has come
        state.db.session.execute(
            sa.update(Entry).where(Entry.job == webhooks.DELIVER, Entry.dispatched_at.is_(None))
            .values(available_at=utcnow())
        )
        state.db.session.commit()
        assert relay_due() == 1
    run_worker(app, burst=True)
    (delivery,) = deliveries(app, webhook_id)
    assert (delivery.attempt, delivery.status_code) == (2, 200)
    assert delivery.delivered_at is not None
