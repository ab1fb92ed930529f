"""The tickets' events as background work, written to the outbox with their change.

The services call :func:`ticket_created`, :func:`message_created`, :func:`status_changed` or
:func:`assigned` *before* committing a change: each writes one outbox row (a job of
:mod:`.event_jobs` named after the event, with ids and a new event id) in the change's
transaction. The job, run by a worker (or the in-process runner), looks up the webhooks and
the rules that listen: the message path itself never does.

The plugin's blinker signals (:mod:`responso_chat.signals`) are still sent after the commit,
for hosts.
"""

from __future__ import annotations

import uuid

from responso_chat.infra import outbox


def _record(job: str, *args) -> None:
    outbox.add(f"responso_chat.conversation.event_jobs.{job}", uuid.uuid4().hex, *args)


def _actor(by) -> dict | None:
    """Who made a change, as the event keeps it: an agent, an automation (``id`` None, see
    :class:`responso_chat.automations.actions.AutomationActor`), or None."""
    if by is None:
        return None
    return {"id": by.id, "name": by.name, "automation": by.id is None}


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


def rated(ticket_id: int, changed: bool) -> None:
    """Record (before the commit) that the customer rated the ticket, or changed the rating."""
    _record("on_rated", ticket_id, changed)
