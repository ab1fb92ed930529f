"""The tickets' events as background work: written to the outbox with their change, fanned out
to the automations and webhooks by a job.

The services call :func:`ticket_created`, :func:`message_created`, :func:`status_changed` or
:func:`assigned` *before* committing a change: each writes one outbox row (a job named after
the event, with ids and a new event id) in the change's transaction. The job, run by a worker
(or the in-process runner), looks up the webhooks and the rules that listen: the message path
itself never does. A job run twice does nothing twice: webhook deliveries are unique per
webhook and event id, automation runs per rule and message.

The plugin's blinker signals (:mod:`responso_chat.signals`) are still sent after the commit,
for hosts.
"""

from __future__ import annotations

import uuid

from responso_chat.infra import outbox


def _record(job: str, *args) -> None:
    outbox.add(f"{__name__}.{job}", uuid.uuid4().hex, *args)


def _actor(by) -> dict | None:
    """Who made a change, as the event keeps it: an agent or an automation, or None."""
    from responso_chat.services.automations import AutomationActor

    if by is None:
        return None
    return {"id": by.id, "name": by.name, "automation": isinstance(by, AutomationActor)}


def ticket_created(ticket_id: int, message_id: int) -> None:
    """Record (before the commit) that a ticket was created with its first message."""
    _record("on_ticket_created", ticket_id, message_id)


def message_created(ticket_id: int, message_id: int, author_kind: str) -> None:
    """Record (before the commit) that a message was added to a conversation."""
    _record("on_message_created", ticket_id, message_id, author_kind)


def status_changed(ticket_id: int, old: str, new: str, by, message_id: int) -> None:
    """Record (before the commit) a status change; ``message_id`` is the change's message
    (its system line, or the customer message that reopened the ticket)."""
    _record("on_status_changed", ticket_id, old, new, _actor(by), message_id)


def assigned(ticket_id: int, assignee_id: str | None, by) -> None:
    """Record (before the commit) that a ticket was assigned to an agent, or to nobody."""
    _record("on_assigned", ticket_id, assignee_id, _actor(by))


# --- the jobs ----------------------------------------------------------------------------------


def _by(actor: dict | None) -> dict | None:
    """The ``by`` of a webhook payload: ``id`` and ``name`` (``id`` null for an automation)."""
    return None if actor is None else {"id": actor["id"], "name": actor["name"]}


def on_ticket_created(event_id: str, ticket_id: int, message_id: int) -> None:
    """Job: the ``ticket.created`` webhooks."""
    from responso_chat.services import webhooks

    webhooks.emit("ticket.created", webhooks.event_data(ticket_id, message_id), event_id)


def on_message_created(event_id: str, ticket_id: int, message_id: int, author_kind: str) -> None:
    """Job: the ``message.created`` webhooks, then for a customer's message its rules."""
    from responso_chat.services import automations, webhooks

    webhooks.emit("message.created", webhooks.event_data(ticket_id, message_id), event_id)
    if author_kind == "customer":
        automations.on_customer_message(ticket_id, message_id)


def on_status_changed(
    event_id: str, ticket_id: int, old: str, new: str, actor: dict | None, message_id: int
) -> None:
    """Job: the ``ticket.status_changed`` webhooks, then the status rules (unless an
    automation made the change: automations never trigger automations)."""
    from responso_chat.services import automations, webhooks

    data = webhooks.event_data(ticket_id, old_status=old, new_status=new, by=_by(actor))
    webhooks.emit("ticket.status_changed", data, event_id)
    if not (actor and actor["automation"]):
        automations.on_status_changed(ticket_id, new, message_id)


def on_assigned(event_id: str, ticket_id: int, assignee_id: str | None, actor: dict | None):
    """Job: the ``ticket.assigned`` webhooks."""
    from responso_chat.services import webhooks

    data = webhooks.event_data(ticket_id, assignee_id=assignee_id, by=_by(actor))
    webhooks.emit("ticket.assigned", data, event_id)
