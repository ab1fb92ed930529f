"""Inbox queries: which tickets an agent sees, in which order."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat import current_chat
from responso_chat.services.access import ticket_visibility_clause


def list_tickets(user, limit: int = 50) -> list:
    """The newest-activity-first tickets ``user`` may see."""
    state = current_chat()
    Ticket = state.models.Ticket
    query = (
        sa.select(Ticket)
        .where(ticket_visibility_clause(user))
        .order_by(Ticket.last_message_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(state.db.session.execute(query).scalars())
