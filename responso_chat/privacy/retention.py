"""Retention: closed and spam tickets are deleted ``RESPONSO_CHAT_RETENTION_DAYS`` days after
they ended, by a periodic job (every ``RESPONSO_CHAT_RETENTION_INTERVAL`` seconds, with RQ or
in-process, see :data:`responso_chat.infra.jobs.PERIODIC_JOBS`).

One run deletes at most ``RESPONSO_CHAT_RETENTION_BATCH`` tickets, oldest first, in one
transaction with their messages and everything else that goes with them
(:func:`.scope.delete_tickets`), and records how many in the privacy log; what is left goes
with the next runs. 0 days (the default) keeps tickets forever.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from responso_chat.models import Ticket, utcnow
from responso_chat.privacy import attachments, records, scope
from responso_chat.state import plugin_state

log = logging.getLogger(__name__)

#: The statuses whose tickets retention deletes (solved tickets may still be reopened).
RETAINED_STATUSES = ("closed", "spam")


def expired_ticket_ids(session, days: int, limit: int, now=None) -> list[int]:
    """Ids of up to ``limit`` closed or spam tickets that ended more than ``days`` days ago,
    the oldest first (locked on PostgreSQL, so a ticket reopened meanwhile waits)."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    return list(
        session.scalars(
            sa.select(Ticket.id)
            .where(
                Ticket.status.in_(RETAINED_STATUSES),
                Ticket.ended_at.is_not(None),
                Ticket.ended_at < cutoff,
            )
            .order_by(Ticket.ended_at, Ticket.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def delete_expired_tickets() -> int:
    """Periodic job: delete one batch of expired tickets; returns how many were deleted."""
    state = plugin_state()
    days = state.setting("RETENTION_DAYS")
    if days <= 0:
        return 0
    session = state.db.session
    try:
        ticket_ids = expired_ticket_ids(session, days, state.setting("RETENTION_BATCH"))
        if not ticket_ids:
            session.rollback()
            return 0
        files = attachments.delete_ticket_files(session, ticket_ids)
        counts = scope.delete_tickets(session, ticket_ids)
        first = {key: counts.pop(key, 0) for key in ("tickets", "messages", "mails")}
        counts = {**first, **counts, "files": files}
        records.add("retention", None, None, counts)
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info("retention deleted %d ticket(s) ended more than %d days ago", len(ticket_ids), days)
    return len(ticket_ids)
