"""The classifier's verdict on customer messages, as agents see and correct it.

Each customer message carries the sentiment and context the classifier gave it (the ticket
keeps those of its latest one). An agent may correct them on the ticket's page; a corrected
message remembers who did and when, and the corrections become the classifier's evaluation
set from real use: :func:`corrections` gives them in the test dataset's shape and
:func:`evaluate` scores a classifier on them (``flask responso-chat classifier evaluate``).
"""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.conversation import wire
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.infra.broker import agent_ticket_channel
from responso_chat.models import Message, Ticket, utcnow
from responso_chat.state import plugin_state
from responso_chat.vocab import CONTEXT_LABELS, CONTEXTS, SENTIMENTS


def publish_analysis(message) -> None:
    """Tell the ticket's agents how a new customer message was classified."""
    if message.sentiment is not None:
        plugin_state().broker.publish(
            agent_ticket_channel(message.ticket_id), wire.analysis(message)
        )


def correct(ticket, seq: int, sentiment: str, context: str, actor):
    """Set the sentiment and context of the customer message ``seq`` of ``ticket`` as the
    agent ``actor`` says; the ticket's own follow when it is its latest customer message.
    Commits, tells the ticket's agents, returns the message; :class:`ChangeRefused` for a
    value outside the lists or a message that is not the customer's."""
    if sentiment not in SENTIMENTS:
        raise ChangeRefused("sentiment", "Choose a sentiment from the list.")
    if context not in CONTEXTS:
        raise ChangeRefused("context", "Choose a context from the list.")
    session = plugin_state().db.session
    message = session.execute(
        sa.select(Message).where(Message.ticket_id == ticket.id, Message.seq == seq)
    ).scalar_one_or_none()
    if message is None or message.author_kind != "customer":
        raise ChangeRefused("seq", "Only a customer's message has a sentiment to correct.")
    latest = session.execute(
        sa.select(sa.func.max(Message.seq)).where(
            Message.ticket_id == ticket.id, Message.author_kind == "customer"
        )
    ).scalar_one()
    message.sentiment, message.context = sentiment, context
    message.analysis_corrected_by, message.analysis_corrected_at = str(actor.id), utcnow()
    if latest == seq:
        ticket.sentiment, ticket.context = sentiment, context
    event = wire.analysis(message)
    session.commit()
    plugin_state().broker.publish(agent_ticket_channel(event["ticket_id"]), event)
    return message


def corrections(limit: int = 10000) -> list[tuple[str, str, str, str]]:
    """The messages agents corrected, newest first, as evaluation rows ``(language, message,
    sentiment, context)`` (the shape of the classifier's test dataset)."""
    rows = plugin_state().db.session.execute(
        sa.select(Ticket.language, Message.body, Message.sentiment, Message.context)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.analysis_corrected_at.is_not(None))
        .order_by(Message.analysis_corrected_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    return [(language or "", body, sentiment, context) for language, body, sentiment, context
            in rows]


def evaluate(classifier, rows) -> dict:
    """How often ``classifier`` agrees with the labels of ``rows`` (see :func:`corrections`):
    ``{"messages": n, "sentiment": share, "context": share}`` (shares None without rows)."""
    rows = list(rows)
    right_sentiment = right_context = 0
    for _language, body, sentiment, context in rows:
        verdict = classifier.classify(body)
        right_sentiment += verdict.sentiment == sentiment
        right_context += verdict.context == context
    count = len(rows)
    return {
        "messages": count,
        "sentiment": right_sentiment / count if count else None,
        "context": right_context / count if count else None,
    }


def context_label(context: str | None) -> str:
    """A context as the pages show it ("Order status")."""
    return CONTEXT_LABELS.get(context or "", context or "")
