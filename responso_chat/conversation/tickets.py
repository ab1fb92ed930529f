"""Chat tickets: opening one from the widget, agents joining it, the customer's current page."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat import signals
from responso_chat.conversation import events, ratings, wire
from responso_chat.conversation.messages import (
    ENDED_STATUSES,
    add_message,
    add_system_line,
    announcements,
    classify,
    commit_keeping,
    customer_may_reopen,
    publish,
)
from responso_chat.infra import outbox
from responso_chat.infra.broker import INBOX_CHANNEL, agent_ticket_channel, ticket_channel
from responso_chat.models import Message, Ticket
from responso_chat.state import plugin_state
from responso_chat.users import agent_by_id

#: "<agent> joined the chat" in the ticket's language (the customer reads it in the widget).
JOINED_TEXT = {
    "en": "{name} joined the chat",
    "fr": "{name} a rejoint la conversation",
    "pl": "{name} dołącza do czatu",
}
TOOK_OVER_TEXT = "{name} took over the ticket from {previous}"


def open_chat_ticket(
    chat,
    *,
    name: str,
    email: str,
    subject: str,
    message: str,
    email_verified: bool = False,
    out_of_hours: bool = False,
    page_url: str | None = None,
    page_title: str | None = None,
    language: str | None = None,
    client_msg_id: str | None = None,
    attach=None,
    greeting=None,
):
    """Create a chat ticket and its first customer message, commit, then publish.

    ``greeting`` (:class:`~responso_chat.conversation.proactive.Opening`), the proactive
    greeting the customer answered, is stored before the customer's message as its sender's,
    so both sides read the conversation as it happened; it is not the ticket's first response.

    ``attach(ticket, message)``, when given, adds rows about them in the same transaction (the
    order a customer asks about from "My orders", the shop's context: see
    ``shop_context.at_start``), so the ticket's jobs see them.

    The ticket's values stay loaded after the commit, and ``ticket.opening_events`` are the
    browser events of the messages as stored (the greeting's, then the customer's): answer
    with them, never by reading them again.
    """
    state = plugin_state()
    ticket = Ticket(
        chat_id=chat.id,
        chat_name=chat.name,
        subject=subject,
        customer_name=name,
        customer_email=email,
        customer_email_verified=email_verified,
        out_of_hours=out_of_hours,
        page_url=page_url,
        page_title=page_title,
        language=language,
        assignee_id=None,  # set, so the answer knows it without a query: nobody has it yet
    )
    state.db.session.add(ticket)
    state.db.session.flush()
    opener = None
    if greeting is not None:
        opener = add_message(
            ticket, author_kind="agent", body=greeting.text, author_id=greeting.sender_id,
            author_name=greeting.sender_name, source="greeting",
        )
    first = add_message(
        ticket,
        author_kind="customer",
        body=message,
        author_name=name,
        client_msg_id=client_msg_id,
        analysis=classify(ticket, message),
    )
    if attach is not None:
        attach(ticket, first)
    published = announcements([first], inbox="created")
    ticket_id, message_id = ticket.id, first.id
    outbox.add("responso_chat.orders.sync.sync_ticket_orders", ticket_id)
    events.ticket_created(ticket_id, message_id)
    events.message_created(ticket_id, message_id, "customer")
    commit_keeping(state.db.session, ticket)
    # announcements() puts the message's own event first
    ticket.opening_events = ([wire.message(opener)] if opener else []) + [published[0][1]]
    publish(published)
    signals.send(signals.ticket_created, ticket_id=ticket_id, message_id=message_id)
    signals.send(
        signals.message_created, ticket_id=ticket_id, message_id=message_id, author_kind="customer"
    )
    return ticket


def joined_line(ticket, agent_id: str, agent_name: str):
    """Add (without committing) the public line "<agent> joined the chat", in the ticket's
    language."""
    text = JOINED_TEXT.get(ticket.language or "en", JOINED_TEXT["en"]).format(name=agent_name)
    return add_system_line(ticket, text, author_id=agent_id, internal=False)


def _has_joined(ticket, agent_id: str) -> bool:
    state = plugin_state()
    return state.db.session.execute(
        sa.select(
            sa.exists().where(
                Message.ticket_id == ticket.id,
                Message.author_kind == "system",
                Message.author_id == agent_id,
                Message.internal.is_(False),
            )
        )
    ).scalar()


def join_events(ticket, agent_name: str, lines) -> list[tuple[str, dict]]:
    """What tells listeners an agent joined: built before the commit (see :func:`publish`)."""
    return [
        *announcements(lines),
        (ticket_channel(ticket.id), wire.agent_joined(ticket.id, agent_name)),
        (INBOX_CHANNEL, wire.inbox("changed", ticket)),
    ]


def join_by_agent(ticket, agent_id, agent_name: str) -> bool:
    """An agent opens the ticket: it becomes theirs if unassigned and the customer is told.

    Adds the public line "<agent> joined the chat" once per agent, commits and publishes
    ``agent_joined``. Returns False, doing nothing, when another agent has the ticket.
    """
    agent_id = str(agent_id)
    if ticket.assignee_id not in (None, agent_id):
        return False
    if ticket.assignee_id == agent_id and _has_joined(ticket, agent_id):
        return True
    previous = ticket.assignee_id
    ticket.assignee_id = agent_id
    published = join_events(ticket, agent_name, [joined_line(ticket, agent_id, agent_name)])
    ticket_id = ticket.id
    if previous != agent_id:
        events.assigned(ticket_id, agent_id, agent_by_id(agent_id))
    plugin_state().db.session.commit()
    publish(published)
    if previous != agent_id:
        _send_assigned(ticket_id, agent_id)
    return True


def take_over(ticket, agent_id, agent_name: str, previous_name: str = "") -> None:
    """Assign the ticket to this agent even if someone else has it, and tell the customer.

    Records an internal line naming the previous assignee when there was one.
    """
    agent_id = str(agent_id)
    previous = ticket.assignee_id
    if previous == agent_id and _has_joined(ticket, agent_id):
        return
    ticket.assignee_id = agent_id
    lines = []
    if previous not in (None, agent_id):
        text = TOOK_OVER_TEXT.format(name=agent_name, previous=previous_name or previous)
        lines.append(add_system_line(ticket, text, author_id=agent_id))
    lines.append(joined_line(ticket, agent_id, agent_name))
    published, ticket_id = join_events(ticket, agent_name, lines), ticket.id
    if previous != agent_id:
        events.assigned(ticket_id, agent_id, agent_by_id(agent_id))
    plugin_state().db.session.commit()
    publish(published)
    if previous != agent_id:
        _send_assigned(ticket_id, agent_id)


def _send_assigned(ticket_id: int, agent_id: str) -> None:
    """The ``ticket_assigned`` signal of an agent taking the ticket themselves."""
    signals.send(
        signals.ticket_assigned,
        ticket_id=ticket_id,
        assignee_id=agent_id,
        by=agent_by_id(agent_id),
    )


def record_page(ticket, url: str, title: str) -> None:
    """Store the page the customer is on and show it to the agents (``page`` event)."""
    if (ticket.page_url, ticket.page_title) == (url, title):
        return
    ticket.page_url, ticket.page_title = url, title
    ticket_id = ticket.id
    plugin_state().db.session.commit()
    plugin_state().broker.publish(agent_ticket_channel(ticket_id), wire.page(ticket_id, url, title))


def assignee_name(ticket) -> str | None:
    """The display name of the ticket's agent (one look-up, see :func:`agent_by_id`), or None
    while nobody has it."""
    if ticket.assignee_id is None:
        return None
    agent = agent_by_id(ticket.assignee_id)
    return agent.name if agent else None


def visitor_summary(ticket) -> dict:
    """What the customer's widget knows about its ticket (no internal fields)."""
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "ended": ticket.status in ENDED_STATUSES,
        # a message from the customer reopens the ticket (else the widget offers a new chat)
        "reopenable": ticket.status in ENDED_STATUSES
        and customer_may_reopen(ticket.status, ticket.ended_at),
        "customer_name": ticket.customer_name,
        "customer_email": ticket.customer_email,
        "out_of_hours": ticket.out_of_hours,
        "agent_name": assignee_name(ticket),
        "created_at": ticket.created_at.isoformat(),
        # the customer's rating once the chat ended (None before); a new ticket has none
        "rating": ratings.visitor_rating(ticket.__dict__.get("rating")),
    }
