"""The jobs of the tickets' events (:mod:`.events` writes their outbox rows): each looks up the
webhooks and the rules that listen, in the worker, and hands the event to them.

A job run twice does nothing twice: webhook deliveries are unique per webhook and event id,
automation runs per rule and message.
"""

from __future__ import annotations

from responso_chat.automations import triggers
from responso_chat.integrations import webhooks
from responso_chat.mail import outgoing as mail


def _by(actor: dict | None) -> dict | None:
    """The ``by`` of a webhook payload: ``id`` and ``name`` (``id`` null for an automation)."""
    return None if actor is None else {"id": actor["id"], "name": actor["name"]}


def on_ticket_created(event_id: str, ticket_id: int, message_id: int) -> None:
    """Job: the ``ticket.created`` webhooks."""
    webhooks.emit("ticket.created", webhooks.event_data(ticket_id, message_id), event_id)


def on_message_created(event_id: str, ticket_id: int, message_id: int, author_kind: str) -> None:
    """Job: the ``message.created`` webhooks, then for a customer's message its rules, then
    the e-mails the message may need (see :func:`.mail.outgoing.after_message`)."""
    webhooks.emit("message.created", webhooks.event_data(ticket_id, message_id), event_id)
    if author_kind == "customer":
        triggers.on_customer_message(ticket_id, message_id)
    mail.after_message(ticket_id, message_id, author_kind)


def on_status_changed(
    event_id: str, ticket_id: int, old: str, new: str, actor: dict | None, message_id: int
) -> None:
    """Job: the ``ticket.status_changed`` webhooks, then the status rules (unless an
    automation made the change: automations never trigger automations)."""
    data = webhooks.event_data(ticket_id, old_status=old, new_status=new, by=_by(actor))
    webhooks.emit("ticket.status_changed", data, event_id)
    if not (actor and actor["automation"]):
        triggers.on_status_changed(ticket_id, new, message_id)
    mail.after_status_change(ticket_id, new)


def on_assigned(event_id: str, ticket_id: int, assignee_id: str | None, actor: dict | None):
    """Job: the ``ticket.assigned`` webhooks."""
    data = webhooks.event_data(ticket_id, assignee_id=assignee_id, by=_by(actor))
    webhooks.emit("ticket.assigned", data, event_id)


def on_rated(event_id: str, ticket_id: int, changed: bool) -> None:
    """Job: the ``ticket.rated`` webhooks (the ticket's ``rating`` as it is when it runs)."""
    webhooks.emit("ticket.rated", webhooks.event_data(ticket_id, changed=changed), event_id)
