"""The customer's rating of an ended conversation: given once, changeable for a while.

A customer rates a solved or closed ticket 1 to 5 with an optional comment from the widget.
One rating per ticket: rating again changes it, until ``RESPONSO_CHAT_RATING_CHANGE_WINDOW``
after it was first given; then it is read-only. The rating is committed with the outbox row
of its ``ticket.rated`` event, then the agents' pages get a ``rating`` event.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from responso_chat.conversation import events, wire
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.conversation.messages import commit_keeping
from responso_chat.infra.broker import agent_ticket_channel
from responso_chat.models import Ticket, TicketRating, utcnow
from responso_chat.state import plugin_state
from responso_chat.vocab import FINISHED_STATUSES

NOT_ENDED = "You can rate the conversation once it has ended."
READ_ONLY = (
    "This rating can no longer be changed: a rating may be changed for {window} after it is "
    "given."
)


def change_window() -> timedelta:
    """How long after it is first given a rating may still be changed."""
    return timedelta(seconds=plugin_state().setting("RATING_CHANGE_WINDOW"))


def changeable_until(rating):
    """When ``rating`` becomes read-only."""
    return rating.created_at + change_window()


def may_change(rating, now=None) -> bool:
    """Whether the customer may still change ``rating``."""
    return (now or utcnow()) < changeable_until(rating)


def _window_text() -> str:
    seconds = int(change_window().total_seconds())
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "24 hours" if hours == 24 else f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{seconds} seconds"


def visitor_rating(rating, now=None) -> dict | None:
    """The rating as the customer's widget shows it (None while there is none)."""
    if rating is None:
        return None
    return {
        "score": rating.score,
        "comment": rating.comment,
        "created_at": rating.created_at.isoformat(),
        "changeable": may_change(rating, now),
        "changeable_until": changeable_until(rating).isoformat(),
    }


def rate(ticket, score: int, comment: str, now=None):
    """Rate ``ticket`` (its ``rating`` loaded) or change its rating; commit, publish.

    Returns ``(rating, created)``. Raises :class:`ChangeRefused` before writing anything when
    the ticket has not ended as solved or closed, or when its rating is read-only by now.
    """
    now = now or utcnow()
    if ticket.status not in FINISHED_STATUSES:
        raise ChangeRefused("_request", NOT_ENDED)
    session = plugin_state().db.session
    rating, ticket_id = ticket.rating, ticket.id
    created = rating is None
    if not created and not may_change(rating, now):
        raise ChangeRefused("_request", READ_ONLY.format(window=_window_text()))
    if created:
        rating = TicketRating(ticket_id=ticket_id, created_at=now)
        session.add(rating)
    rating.score, rating.comment, rating.updated_at = score, comment, now
    events.rated(ticket_id, not created)
    try:
        session.flush()
    except IntegrityError:  # rated at the same moment from another tab: change that one
        session.rollback()
        session.expire_all()
        ticket = session.get(Ticket, ticket_id, options=[selectinload(Ticket.rating)])
        if ticket.rating is None:
            raise
        return rate(ticket, score, comment, now)
    event = wire.rating(rating)
    commit_keeping(session, rating)
    plugin_state().broker.publish(agent_ticket_channel(ticket_id), event)
    return rating, created
