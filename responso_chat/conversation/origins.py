"""Websites a chat's widget refused: the latest few per chat, shown to the admin on the
chat's page with "Allow this website".

A page of a website missing from a chat's allowed websites gets a 403 from the widget's
endpoints, and only the browser's console says why. :func:`record_refused` remembers the
website for the admin. Anyone can send any ``Origin``, so what it may write is bounded: a
well-formed origin only, at most one write a minute per website, and at most
:data:`MAX_REFUSED_PER_CHAT` rows per chat (the oldest go).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from responso_chat.conversation.errors import ChangeRefused
from responso_chat.models import RefusedOrigin, utcnow
from responso_chat.schemas.chat_form import MAX_ORIGINS, web_origin
from responso_chat.state import plugin_state

log = logging.getLogger(__name__)

#: How many refused websites a chat keeps (the latest).
MAX_REFUSED_PER_CHAT = 10
#: A website refused again within this time is not written again.
RECORD_EVERY = timedelta(minutes=1)


def record_refused(chat_id: int, origin: str | None, now=None) -> None:
    """Remember that a page of ``origin`` was refused chat ``chat_id``'s widget; commits.

    Not an origin a browser sends for a web page (``null``, a path, junk): ignored. Never
    raises: the refusal is answered whatever happens here.
    """
    try:
        origin = web_origin(origin or "")
    except ValueError:
        return
    now = now or utcnow()
    session = plugin_state().db.session
    try:
        row = session.get(RefusedOrigin, (chat_id, origin))
        if row is not None:
            if now - row.last_seen_at < RECORD_EVERY:
                return
            row.last_seen_at, row.times = now, row.times + 1
        else:
            session.add(RefusedOrigin(chat_id=chat_id, origin=origin, first_seen_at=now,
                                      last_seen_at=now, times=1))
            session.flush()
            _keep_latest(session, chat_id)
        session.commit()
    except SQLAlchemyError:  # a twin request wrote it first, or the database is away
        session.rollback()
        log.warning("could not record a refused website for chat %s", chat_id)


def _keep_latest(session, chat_id: int) -> None:
    """Delete the chat's refused websites beyond the latest :data:`MAX_REFUSED_PER_CHAT`."""
    older = session.execute(
        sa.select(RefusedOrigin.origin)
        .where(RefusedOrigin.chat_id == chat_id)
        .order_by(RefusedOrigin.last_seen_at.desc(), RefusedOrigin.origin)
        .offset(MAX_REFUSED_PER_CHAT)
    ).scalars().all()
    if older:
        session.execute(
            sa.delete(RefusedOrigin).where(
                RefusedOrigin.chat_id == chat_id, RefusedOrigin.origin.in_(older)
            )
        )


def recent_refused(chat) -> list:
    """The websites refused ``chat``'s widget, the latest first."""
    return list(
        plugin_state().db.session.execute(
            sa.select(RefusedOrigin)
            .where(RefusedOrigin.chat_id == chat.id)
            .order_by(RefusedOrigin.last_seen_at.desc(), RefusedOrigin.origin)
        ).scalars()
    )


def allow_origin(chat, origin: str) -> str:
    """Add ``origin`` to ``chat``'s allowed websites and forget its refusals; commits and
    returns the origin as stored. :class:`ChangeRefused` when it is not a website origin or
    the list is full."""
    try:
        origin = web_origin(origin or "")
    except ValueError as exc:
        raise ChangeRefused("origin", str(exc)) from None
    allowed = list(chat.allowed_origins or ())
    if origin not in allowed:
        if len(allowed) >= MAX_ORIGINS:
            raise ChangeRefused(
                "origin", f"The chat already allows {MAX_ORIGINS} websites: remove one first."
            )
        chat.allowed_origins = [*allowed, origin]
    session = plugin_state().db.session
    session.execute(
        sa.delete(RefusedOrigin).where(
            RefusedOrigin.chat_id == chat.id, RefusedOrigin.origin == origin
        )
    )
    session.commit()
    return origin
