"""Retention: closed and spam tickets older than RESPONSO_CHAT_RETENTION_DAYS are deleted with
everything that goes with them, a bounded batch per run, as a periodic job (in-process and
RQ); open, solved and recent tickets stay; each run that deleted something is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from responso_chat.automations import rules
from responso_chat.conversation import ticket_changes
from responso_chat.files import attachments_of_tickets
from responso_chat.inbox import tasks
from responso_chat.infra import outbox
from responso_chat.infra.jobs import PERIODIC_JOBS, RUN_PERIODIC, enqueue
from responso_chat.integrations import webhooks
from responso_chat.models import (
    AutomationRun,
    MailRecord,
    Message,
    OutboxEntry,
    PrivacyRecord,
    Task,
    Ticket,
    TicketWatcher,
    WebhookDelivery,
    ticket_tag,
    utcnow,
)
from responso_chat.privacy import retention
from responso_chat.state import plugin_state
from tests.conftest import AuthActions
from tests.factories import make_chat, make_ticket
from tests.rqworker import work_burst
from tests.test_privacy import ALICE, SOON_JOB, _count, _session, attach_pdf, stored_files

JOB = "responso_chat.privacy.retention.delete_expired_tickets"


def _ended(ticket_id: int, status: str, days_ago: float | None) -> None:
    ended = None if days_ago is None else utcnow() - timedelta(days=days_ago)
    _session().execute(
        sa.update(Ticket).where(Ticket.id == ticket_id).values(status=status, ended_at=ended)
    )


def build_tickets() -> dict:
    """Tickets of every kind, the old closed ones with a row in every related table."""
    session = _session()
    chat = make_chat()
    rule = rules.create_rule({
        "name": "Auto", "enabled": False, "trigger": "new_ticket", "trigger_minutes": None,
        "match": "all", "conditions": [], "actions": [{"type": "set_priority", "value": "high"}],
    })
    hook = webhooks.create_webhook(
        {"url": "https://hooks.example.test/r", "events": ["ticket.created"], "enabled": False})
    ids = {}
    for name, status, days_ago in (
        ("closed_90", "closed", 90), ("spam_60", "spam", 60), ("closed_45", "closed", 45),
        ("closed_10", "closed", 10), ("solved_90", "solved", 90), ("open", "open", None),
        ("pending", "pending", None),
    ):
        ticket = make_ticket(chat, f"Ticket {name}", email=f"{name}@example.com")
        ticket_changes.add_tag(ticket, "old", ALICE)
        ticket_changes.add_watcher(ticket, "2", ALICE)
        tasks.create_task(ALICE, title=f"Task of {name}", ticket=ticket)
        first = session.scalars(sa.select(Message.id).where(Message.ticket_id == ticket.id)).first()
        session.add(AutomationRun(rule_id=rule.id, ticket_id=ticket.id, message_id=first,
                                  outcome=[]))
        mail = MailRecord(ticket_id=ticket.id, kind="unseen", state="queued",
                          message_id=f"<{name}@shop.test>", address=f"{name}@example.com")
        session.add(mail)
        session.add(WebhookDelivery(
            webhook_id=hook.id, event="ticket.created", event_id=f"e-{name}",
            payload={"data": {"ticket": {"id": ticket.id}}}))
        session.flush()
        outbox.add(SOON_JOB, ticket.id, delay=3600)
        outbox.add("responso_chat.mail.outgoing.deliver", mail.id, delay=3600)
        _ended(ticket.id, status, days_ago)
        session.commit()
        ids[name] = ticket.id
    return ids


def _left(ids) -> set[str]:
    present = set(_session().scalars(sa.select(Ticket.id)))
    return {name for name, ticket_id in ids.items() if ticket_id in present}


def _rows_of(ticket_id: int) -> dict:
    args = [row.args for row in _session().scalars(sa.select(OutboxEntry).where(
        OutboxEntry.job == SOON_JOB, OutboxEntry.dispatched_at.is_(None)))]
    return {
        "messages": _count(Message, Message.ticket_id == ticket_id),
        "mails": _count(MailRecord, MailRecord.ticket_id == ticket_id),
        "runs": _count(AutomationRun, AutomationRun.ticket_id == ticket_id),
        "watchers": _count(TicketWatcher, TicketWatcher.ticket_id == ticket_id),
        "tags": _session().scalar(sa.select(sa.func.count()).select_from(ticket_tag).where(
            ticket_tag.c.ticket_id == ticket_id)),
        "jobs": args.count([ticket_id]),
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def retention_app(request, make_app):
    """A host app keeping closed tickets 30 days, deleting 2 a run (SQLite, then PostgreSQL)."""
    config = {"RESPONSO_CHAT_RETENTION_DAYS": 30, "RESPONSO_CHAT_RETENTION_BATCH": 2}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        return make_app(database_url=url, migrate=True, **config)
    return make_app(**config)


def test_retention_deletes_old_closed_and_spam_tickets_a_batch_per_run(retention_app):
    with retention_app.app_context():
        ids = build_tickets()
        assert _rows_of(ids["closed_90"]) == {
            "messages": 4, "mails": 1, "runs": 1, "watchers": 1, "tags": 1, "jobs": 1}
        everyone = set(ids)
        assert retention.delete_expired_tickets() == 2  # the batch: the two oldest
        assert _left(ids) == everyone - {"closed_90", "spam_60"}
        assert retention.delete_expired_tickets() == 1
        assert _left(ids) == {"closed_10", "solved_90", "open", "pending"}
        assert retention.delete_expired_tickets() == 0  # nothing left to delete
        for name in ("closed_90", "spam_60", "closed_45"):
            assert set(_rows_of(ids[name]).values()) == {0}, name
        for name in ("closed_10", "solved_90", "open", "pending"):
            assert _rows_of(ids[name])["jobs"] == 1, name
            assert _count(Message, Message.ticket_id == ids[name]) >= 1
        # their tasks stay, unlinked; the kept tickets' tasks keep their link
        assert _count(Task, Task.ticket_id.is_(None)) == 3
        assert _count(Task, Task.ticket_id.is_not(None)) == 4
        assert _count(WebhookDelivery) == 4
        assert _count(OutboxEntry, OutboxEntry.job == "responso_chat.mail.outgoing.deliver",
                      OutboxEntry.dispatched_at.is_(None)) == 4
        runs = _session().scalars(sa.select(PrivacyRecord).order_by(PrivacyRecord.id)).all()
        assert [(r.action, r.contact_id, r.actor_id) for r in runs] == [
            ("retention", None, None)] * 2
        assert [r.counts["tickets"] for r in runs] == [2, 1]
        assert runs[0].counts["messages"] == 8 and runs[0].counts["mails"] == 2
        assert runs[0].counts["jobs"] == 4  # a send job and a mail's delivery, per ticket


def test_retention_is_off_by_default(app):
    with app.app_context():
        assert plugin_state().setting("RETENTION_DAYS") == 0
        ids = build_tickets()
        assert retention.delete_expired_tickets() == 0
        assert _left(ids) == set(ids)
        assert _count(PrivacyRecord) == 0


def test_a_ticket_reopened_is_no_longer_old(make_app):
    app = make_app(RESPONSO_CHAT_RETENTION_DAYS=30)
    with app.app_context():
        ids = build_tickets()
        _ended(ids["closed_90"], "open", None)  # a customer wrote again
        _session().commit()
        assert retention.delete_expired_tickets() == 2
        assert "closed_90" in _left(ids)


@pytest.mark.parametrize(("name", "value"), [
    ("RETENTION_DAYS", -1), ("RETENTION_DAYS", "30"), ("RETENTION_BATCH", 0),
    ("RETENTION_INTERVAL", 5),
])
def test_bad_retention_settings_are_refused_at_start(make_app, name, value):
    from responso_chat.config import ConfigurationError

    with pytest.raises(ConfigurationError, match=f"RESPONSO_CHAT_{name}"):
        make_app(**{f"RESPONSO_CHAT_{name}": value})


def test_the_in_process_runner_runs_retention_periodically(make_app):
    app = make_app(RESPONSO_CHAT_RETENTION_DAYS=30, RESPONSO_CHAT_RETENTION_INTERVAL=120)
    assert (JOB, "RETENTION_INTERVAL") in PERIODIC_JOBS
    state = app.extensions["responso_chat"]
    with app.app_context():
        ids = build_tickets()
        enqueue(RUN_PERIODIC, JOB)
    state.jobs.join()
    with app.app_context():
        assert _left(ids) == {"closed_10", "solved_90", "open", "pending"}
    timer = state.jobs._timers[JOB]  # its next run is scheduled
    assert timer.is_alive() and timer.interval == 120


def test_an_rq_worker_runs_retention_and_schedules_the_next_run(make_app, redis_url):
    app = make_app(RESPONSO_CHAT_REDIS_URL=redis_url, RESPONSO_CHAT_RETENTION_DAYS=30)
    state = app.extensions["responso_chat"]
    with app.app_context():
        ids = build_tickets()
        enqueue(RUN_PERIODIC, JOB)
    assert work_burst(app)
    with app.app_context():
        assert _left(ids) == {"closed_10", "solved_90", "open", "pending"}
        assert _count(PrivacyRecord, PrivacyRecord.action == "retention") == 1
    scheduled = state.jobs.queue.scheduled_job_registry.get_job_ids()
    assert [job_id for job_id in scheduled if "retention" in job_id]


def test_the_privacy_page_shows_what_retention_deleted(make_app):
    app = make_app(RESPONSO_CHAT_RETENTION_DAYS=30)
    with app.app_context():
        build_tickets()
        retention.delete_expired_tickets()
    client = app.test_client()
    auth = AuthActions(client)
    auth.login("alice@shop.test")
    assert client.get("/chat/admin/privacy").status_code == 403
    auth.logout()
    auth.login("admin@shop.test")
    html = client.get("/chat/admin/privacy").get_data(as_text=True)
    assert "deleted 30 days after they ended" in html
    assert "3 tickets, 12 messages, 3 mails, 6 jobs" in html


def test_retention_deletes_the_tickets_files(make_app, tmp_path):
    app = make_app(RESPONSO_CHAT_RETENTION_DAYS=30,
                   RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "files"))
    with app.app_context():
        ids = build_tickets()
        for ticket_id in ids.values():  # a file sent while it was open, then its end again
            ticket = _session().get(Ticket, ticket_id)
            status, ended_at = ticket.status, ticket.ended_at
            _ended(ticket_id, "open", None)
            _session().commit()
            attach_pdf(ticket_id, "invoice.pdf")
            _session().execute(sa.update(Ticket).where(Ticket.id == ticket_id)
                               .values(status=status, ended_at=ended_at))
            _session().commit()
        old = [ids[name] for name in ("closed_90", "spam_60", "closed_45")]
        assert retention.delete_expired_tickets() == 3
        (run,) = _session().scalars(sa.select(PrivacyRecord)).all()
        plugin_state().jobs.join()
        kept = attachments_of_tickets(_session(), list(ids.values()))
    assert run.counts["files"] == 3
    assert sorted(a.ticket_id for a in kept) == sorted(set(ids.values()) - set(old))
    assert len(stored_files(app)) == len(ids) - 3
