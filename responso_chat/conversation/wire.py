"""The realtime wire format: every event the server sends to browsers (the widget, the inbox)
or publishes on the broker, one builder per event type.

Events are JSON objects with a ``type``. Keys that start with ``_`` stay on the server: the
broker carries them, the sockets drop them before sending (see
:meth:`responso_chat.conversation.websocket.Connection.send`). The widget's and the inbox's
JavaScript read these formats, so they change only together with them.

A leaf module: it imports nothing of the plugin's, so the broker, the services and the
sockets all build their events here.
"""

from __future__ import annotations

#: Authors whose client message ids go back to browsers: the clients that sent them match
#: their pending messages by it. Automations' ids are their own business.
CLIENT_AUTHORS = ("customer", "agent")


def message(message) -> dict:
    """A stored message (any object with a message's attributes)::

        {"type": "message", "ticket_id": int, "seq": int, "author_kind": str,
         "author_name": str, "body": str, "internal": bool, "client_msg_id": str | None,
         "created_at": ISO 8601 str, "seen": bool, "source": str | None,
         "attachments": [attachment, ...]}

    ``source`` is ``"email"`` for a customer's e-mail answer, ``"greeting"`` for the proactive
    greeting a chat began with, else null. ``client_msg_id`` is null for authors outside
    :data:`CLIENT_AUTHORS`. Each attachment is
    ``{"id": int, "name": str, "content_type": str, "size": int, "image": bool,
    "width": int | None, "height": int | None, "url": str, "thumbnail_url": str | None}``
    (signed, expiring paths such as ``/chat/widget/files/<token>``, resolved against the
    plugin's address), as the files package describes it on the message
    (``attachment_views``); a message without files has ``[]``.
    """
    return {
        "type": "message",
        "ticket_id": message.ticket_id,
        "seq": message.seq,
        "author_kind": message.author_kind,
        "author_name": message.author_name,
        "body": message.body,
        "internal": message.internal,
        "client_msg_id": (
            message.client_msg_id if message.author_kind in CLIENT_AUTHORS else None
        ),
        "created_at": message.created_at.isoformat(),
        "seen": message.seen_at is not None,
        "source": message.source,
        "attachments": list(getattr(message, "attachment_views", None) or ()),
    }


def inbox(event: str, ticket=None) -> dict:
    """A nudge to the inbox's list: ``created``, ``activity`` or ``changed`` for ``ticket``::

        {"type": "inbox", "ticket_id": int, "chat_id": int | None, "event": str}

    Without a ticket, ``{"type": "inbox", "event": "resync"}``: read the whole list again.
    """
    if ticket is None:
        return {"type": "inbox", "event": event}
    return {"type": "inbox", "ticket_id": ticket.id, "chat_id": ticket.chat_id, "event": event}


def status(ticket_id: int, status: str, *, reopenable: bool | None = None) -> dict:
    """The ticket's status: ``{"type": "status", "ticket_id": int, "status": str}``.

    The customer's socket adds ``"reopenable": bool``: whether a message from the customer
    reopens the ticket (a solved or closed one within ``RESPONSO_CHAT_REOPEN_WINDOW``); else
    the widget offers a new chat once the ticket has ended.
    """
    event = {"type": "status", "ticket_id": ticket_id, "status": status}
    if reopenable is not None:
        event["reopenable"] = reopenable
    return event


def analysis(message) -> dict:
    """How the classifier (or an agent's correction) sees a customer message, for the agents'
    pages only (the customer never sees how a message was classified)::

        {"type": "analysis", "ticket_id": int, "seq": int, "sentiment": str | None,
         "context": str | None, "corrected": bool}
    """
    return {
        "type": "analysis",
        "ticket_id": message.ticket_id,
        "seq": message.seq,
        "sentiment": message.sentiment,
        "context": message.context,
        "corrected": message.analysis_corrected_at is not None,
    }


def seen(ticket_id: int, by: str, seq: int) -> dict:
    """``by`` (``customer`` or ``agent``) read the other side's messages up to ``seq``::

        {"type": "seen", "ticket_id": int, "by": str, "seq": int}
    """
    return {"type": "seen", "ticket_id": ticket_id, "by": by, "seq": seq}


def typing(ticket_id: int, author_kind: str, name: str, is_typing: bool, origin: str) -> dict:
    """Someone started or stopped typing::

        {"type": "typing", "ticket_id": int, "author_kind": str, "name": str, "typing": bool}

    ``_origin`` (server only) names the sending socket, which skips its own event.
    """
    return {
        "type": "typing",
        "ticket_id": ticket_id,
        "author_kind": author_kind,
        "name": name,
        "typing": bool(is_typing),
        "_origin": origin,
    }


def agent_joined(ticket_id: int, name: str) -> dict:
    """An agent took the conversation: ``{"type": "agent_joined", "ticket_id": int,
    "name": str}`` (the widget shows "<name> joined the chat")."""
    return {"type": "agent_joined", "ticket_id": ticket_id, "name": name}


def transferred(ticket_id: int, subject: str, by: str, note: str, team: str | None) -> dict:
    """A ticket was transferred to this agent (or to a ``team`` of theirs), for the inbox's
    notification (sent on the agent's own channel, never to a customer)::

        {"type": "transferred", "ticket_id": int, "subject": str, "by": str, "note": str,
         "team": str | None}
    """
    return {
        "type": "transferred",
        "ticket_id": ticket_id,
        "subject": subject,
        "by": by,
        "note": note,
        "team": team,
    }


def page(ticket_id: int, url: str, title: str) -> dict:
    """The page the customer is on (agents only)::

        {"type": "page", "ticket_id": int, "url": str, "title": str}
    """
    return {"type": "page", "ticket_id": ticket_id, "url": url, "title": title}


def context(ticket_id: int, cart: dict | None, trail: list, events: list) -> dict:
    """The shop's context of the ticket's customer changed (agents only)::

        {"type": "context", "ticket_id": int, "cart": {...} | None,
         "trail": [{"path", "title", "at"}], "events": [{"event", "data", "at"}]}
    """
    return {"type": "context", "ticket_id": ticket_id, "cart": cart, "trail": trail,
            "events": events}


def presence(ticket_id: int, online: bool) -> dict:
    """Whether the ticket's customer has the widget open (agents only)::

        {"type": "presence", "ticket_id": int, "who": "customer", "online": bool}
    """
    return {"type": "presence", "ticket_id": ticket_id, "who": "customer", "online": online}


def viewers(ticket_id: int, agents: list[dict]) -> dict:
    """The agents who have the ticket open (agents only)::

        {"type": "viewers", "ticket_id": int, "agents": [{"id": str, "name": str}, ...]}
    """
    return {"type": "viewers", "ticket_id": ticket_id, "agents": agents}


def access(user_id: str | None) -> dict:
    """Who may see what changed (broker only, never sent to a browser)::

        {"type": "access", "user_id": str | None}

    ``user_id`` None: anyone's rights may have changed. Agent sockets check theirs at once.
    """
    return {"type": "access", "user_id": user_id}


def tokens_revoked() -> dict:
    """The visitor tokens issued before now no longer reach the ticket (its e-mail was just
    proved): customer sockets check theirs again. ``{"type": "tokens_revoked"}``"""
    return {"type": "tokens_revoked"}


def resync() -> dict:
    """The broker may have dropped events: catch up from the database. ``{"type": "resync"}``"""
    return {"type": "resync"}


def error(error: str, **details) -> dict:
    """A frame the socket refused, or could not carry out::

        {"type": "error", "error": str, ...details}

    ``error`` is ``bad_request``, ``invalid`` (with ``errors``), ``rate_limited`` (with
    ``retry_after``), ``ended``, ``unavailable``, ``not_found`` or ``not_subscribed``;
    ``details`` may add ``client_msg_id`` (the send it answers) or ``ticket_id``.
    """
    return {"type": "error", "error": error, **details}


def subscribed(ticket_id: int, status: str) -> dict:
    """An agent's socket now follows the ticket::

        {"type": "subscribed", "ticket_id": int, "status": str}
    """
    return {"type": "subscribed", "ticket_id": ticket_id, "status": status}


def unsubscribed(ticket_id: int, reason: str) -> dict:
    """An agent's socket stopped following the ticket (``reason``: ``no_access``)::

        {"type": "unsubscribed", "ticket_id": int, "reason": str}
    """
    return {"type": "unsubscribed", "ticket_id": ticket_id, "reason": reason}


def mailed(ticket_id: int, seq: int) -> dict:
    """An e-mail carried the ticket's replies up to ``seq`` to the customer (agents only)::

        {"type": "mailed", "ticket_id": int, "seq": int}
    """
    return {"type": "mailed", "ticket_id": ticket_id, "seq": seq}


def rating(rating) -> dict:
    """The customer rated the conversation, or changed their rating (agents only)::

        {"type": "rating", "ticket_id": int, "score": int, "comment": str,
         "created_at": ISO 8601 str, "updated_at": ISO 8601 str}
    """
    return {
        "type": "rating",
        "ticket_id": rating.ticket_id,
        "score": rating.score,
        "comment": rating.comment,
        "created_at": rating.created_at.isoformat(),
        "updated_at": rating.updated_at.isoformat(),
    }


def ping() -> dict:
    """The heartbeat (the client answers ``{"type": "pong"}``): ``{"type": "ping"}``."""
    return {"type": "ping"}


#: Every event type the server builds, by builder.
EVENT_TYPES = (
    "message", "inbox", "status", "seen", "typing", "agent_joined", "page", "presence",
    "viewers", "access", "tokens_revoked", "resync", "error", "subscribed", "unsubscribed",
    "ping", "analysis", "rating", "transferred", "context", "mailed",
)
