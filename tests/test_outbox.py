"""The transactional outbox: a process killed right after its commit loses no automation and
no webhook, relays running at once hand each row over once, and nothing runs twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from responso_chat.automations import rules
from responso_chat.infra.jobs import run_worker
from responso_chat.infra.outbox import relay_due
from responso_chat.models import AutomationRun, Message, OutboxEntry, WebhookDelivery, utcnow
from tests.factories import make_chat
from tests.test_webhooks import PRIVATE_OK, Receiver, add_webhook


def _counts(app, receiver):
    """(automation runs, auto-responses, deliveries in the log, requests received)."""
    session = app.extensions["responso_chat"].db.session
    with app.app_context():
        runs = session.scalar(sa.select(sa.func.count(AutomationRun.id)))
        replies = session.scalar(
            sa.select(sa.func.count(Message.id)).where(Message.author_kind == "automation")
        )
        logged = session.scalar(sa.select(sa.func.count(WebhookDelivery.id)))
    return runs, replies, logged, len(receiver.received)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_process_killed_after_its_commit_loses_no_job_and_none_runs_twice(
    make_app, postgres_url, redis_url
):
    app = make_app(database_url=postgres_url, migrate=True, RESPONSO_CHAT_REDIS_URL=redis_url,
                   **PRIVATE_OK)
    state = app.extensions["responso_chat"]
    receiver = Receiver()
    try:
        add_webhook(app, receiver.url, events=["ticket.created", "message.created"])
        with app.app_context():
            rules.create_rule({
                "name": "Thanks", "enabled": True, "trigger": "new_ticket", "match": "all",
                "conditions": [], "actions": [{"type": "auto_reply", "value": "Thanks!"}],
            })
            chat_id = make_chat().id
        child = subprocess.run(
            [sys.executable, "-m", "tests.outbox_crash_child", postgres_url, redis_url,
             str(chat_id)],
            timeout=60, capture_output=True,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr.decode()
        with app.app_context():  # committed with the ticket, never handed over
            rows = state.db.session.scalars(
                sa.select(OutboxEntry).order_by(OutboxEntry.id)
            ).all()
            assert [row.job.rsplit(".", 1)[1] for row in rows] == [
                "sync_ticket_orders", "on_ticket_created", "on_message_created"]
            assert all(row.dispatched_at is None for row in rows)
            # Held by the dead process's own claim (no other relay takes them meanwhile) ...
            assert relay_due() == 0
            # ... until it runs out.
            state.db.session.execute(
                sa.update(OutboxEntry).values(
                    claimed_until=utcnow() - timedelta(seconds=1)
                )
            )
            state.db.session.commit()
        assert len(state.jobs.queue) == 0

        handed = []  # two relays at once (two workers' periodic runs): each row goes once
        start = threading.Barrier(2)

        def relay():
            with app.app_context():
                start.wait()
                handed.append(relay_due())

        threads = [threading.Thread(target=relay) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sum(handed) == 3 and len(state.jobs.queue) == 3

        run_worker(app, burst=True)
        receiver.wait_for(3)  # ticket.created, the customer's and the automation's messages
        assert _counts(app, receiver) == (1, 1, 3, 3)

        # Every row handed over again (a relay died before marking them, its claim expired):
        # nothing runs twice.
        with app.app_context():
            state.db.session.execute(
                sa.update(OutboxEntry).values(dispatched_at=None, claimed_until=None)
            )
            state.db.session.commit()
            assert relay_due() >= 3
        run_worker(app, burst=True)
        assert _counts(app, receiver) == (1, 1, 3, 3)
    finally:
        receiver.stop()
