"""What a contact's data is, and how tickets are deleted with everything pointing at them.

A contact's data is found by their e-mail address, in any case: the tickets whose customer
e-mail it is (with their messages, mails, automation runs, tasks' links, webhook deliveries
and pending jobs), the Base orders cached for it, and the contact row itself.

:func:`delete_tickets` walks the foreign keys of the plugin's metadata rather than a list of
tables: every table that points at a ticket (or at a row that goes with it) is handled by its
own ``ondelete`` rule, on SQLite too (which does not enforce them), so tables added later
(ratings, attachments) go with their tickets without a change here.
"""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.models import (
    MailRecord,
    OutboxEntry,
    Ticket,
    WebhookDelivery,
    metadata,
)

#: What erased text reads as.
ERASED_TEXT = "[erased]"

#: Jobs whose arguments name a ticket: dotted path -> position of the ticket's id.
TICKET_JOBS = {
    "responso_chat.orders.sync.sync_ticket_orders": 0,
    "responso_chat.mail.outgoing.send_new_ticket": 0,
    "responso_chat.mail.outgoing.send_unseen": 0,
    "responso_chat.mail.outgoing.send_transcript": 0,
    "responso_chat.mail.outgoing.notify_agents": 0,
    "responso_chat.automations.runner.run_automations": 1,
    "responso_chat.conversation.event_jobs.on_ticket_created": 1,
    "responso_chat.conversation.event_jobs.on_message_created": 1,
    "responso_chat.conversation.event_jobs.on_status_changed": 1,
    "responso_chat.conversation.event_jobs.on_assigned": 1,
    "responso_chat.conversation.event_jobs.on_rated": 1,
}
#: The job sending one stored mail (its argument: the mail's id).
MAIL_JOB = "responso_chat.mail.outgoing.deliver"
#: The job posting one webhook delivery (its argument: the delivery's id).
WEBHOOK_JOB = "responso_chat.integrations.webhooks.deliver"


def normal_email(email: str) -> str:
    """An address as contacts store it and as it is matched: trimmed, lower case."""
    return (email or "").strip().lower()


def erased_email(contact_id: int) -> str:
    """The address an erased contact keeps (contacts' addresses are unique and required);
    ``.invalid`` is reserved, so it never reaches anybody."""
    return f"erased-{contact_id}@erased.invalid"


def is_erased(contact) -> bool:
    """Whether the contact's data was erased (and nobody gave it an address since)."""
    return contact.email == erased_email(contact.id)


def ticket_ids_of_email(session, email: str) -> list[int]:
    """Ids of the tickets whose customer e-mail is ``email`` (any case), oldest first."""
    email = normal_email(email)
    if not email:
        return []
    return list(
        session.scalars(
            sa.select(Ticket.id)
            .where(sa.func.lower(Ticket.customer_email) == email)
            .order_by(Ticket.id)
        )
    )


def webhook_deliveries_of(session, ticket_ids) -> list[int]:
    """Ids of the webhook deliveries whose event is about one of the tickets (their payload
    carries the ticket as the API shows it). The log keeps a bounded number per webhook, so
    reading the payloads is bounded too."""
    wanted = set(ticket_ids)
    if not wanted:
        return []
    found = []
    for delivery_id, payload in session.execute(
        sa.select(WebhookDelivery.id, WebhookDelivery.payload)
    ):
        ticket = ((payload or {}).get("data") or {}).get("ticket") or {}
        if isinstance(ticket, dict) and ticket.get("id") in wanted:
            found.append(delivery_id)
    return found


def forget_jobs(session, ticket_ids, mail_ids=(), delivery_ids=()) -> int:
    """Delete the outbox rows not dispatched yet whose job is about one of the tickets, one of
    the mails or one of the webhook deliveries; returns how many."""
    tickets, mails, deliveries = set(ticket_ids), set(mail_ids), set(delivery_ids)
    table = OutboxEntry.__table__
    rows = session.execute(
        sa.select(table.c.id, table.c.job, table.c.args).where(
            table.c.dispatched_at.is_(None),
            table.c.job.in_([*TICKET_JOBS, MAIL_JOB, WEBHOOK_JOB]),
        )
    )
    doomed = []
    for row_id, job, args in rows:
        args = list(args or [])
        if job == MAIL_JOB:
            wanted, position = mails, 0
        elif job == WEBHOOK_JOB:
            wanted, position = deliveries, 0
        else:
            wanted, position = tickets, TICKET_JOBS[job]
        if len(args) > position and args[position] in wanted:
            doomed.append(row_id)
    if doomed:
        session.execute(table.delete().where(table.c.id.in_(doomed)))
    return len(doomed)


def _referencing(table: sa.Table):
    """``(table, foreign key)`` of every plugin table with a foreign key to ``table``."""
    for other in metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table:
                yield other, fk


def delete_rows(session, table: sa.Table, ids, counts: dict) -> None:
    """Delete the rows ``ids`` of ``table`` (single integer key ``id``) and what their foreign
    keys say goes with them: rows that cascade are deleted (recursively), references that may
    be null are set null. Adds the rows deleted per table to ``counts``."""
    ids = list(ids)
    if not ids:
        return
    for child, fk in _referencing(table):
        column = fk.parent
        if fk.ondelete == "CASCADE" or not column.nullable:
            keys = list(child.primary_key.columns)
            if len(keys) == 1 and any(True for _ in _referencing(child)):
                child_ids = list(session.scalars(sa.select(keys[0]).where(column.in_(ids))))
                delete_rows(session, child, child_ids, counts)
            else:
                gone = session.execute(child.delete().where(column.in_(ids))).rowcount
                _count(counts, child, gone)
        else:
            session.execute(child.update().where(column.in_(ids)).values({column.name: None}))
    gone = session.execute(table.delete().where(table.c.id.in_(ids))).rowcount
    _count(counts, table, gone)


def _count(counts: dict, table: sa.Table, number: int) -> None:
    if number:
        name = table.name.removeprefix("responso_chat_")
        key = name[:-1] + "ies" if name.endswith("y") else name + "s"
        counts[key] = counts.get(key, 0) + number


def delete_tickets(session, ticket_ids) -> dict:
    """Delete the tickets with their messages, mails, automation runs, tags, watchers and
    every other row that cascades from them, unlink their tasks, and drop their webhook
    deliveries and pending jobs (in the caller's transaction). Returns counts by kind."""
    ticket_ids = list(ticket_ids)
    counts: dict = {}
    if not ticket_ids:
        return counts
    mail_ids = list(
        session.scalars(sa.select(MailRecord.id).where(MailRecord.ticket_id.in_(ticket_ids)))
    )
    deliveries = webhook_deliveries_of(session, ticket_ids)
    counts["jobs"] = forget_jobs(session, ticket_ids, mail_ids, deliveries)
    if deliveries:
        delete_rows(session, WebhookDelivery.__table__, deliveries, counts)
    delete_rows(session, Ticket.__table__, ticket_ids, counts)
    return counts
