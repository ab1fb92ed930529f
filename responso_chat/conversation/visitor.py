"""Visitors: the signed token a customer's widget holds, and the trust given to an e-mail.

A visitor token names one ticket, its chat and the ticket's token version, signed with the
host's ``SECRET_KEY``; it reaches only that ticket, and only while the ticket still belongs to
that chat, the chat is enabled and the version is still the ticket's (verifying the ticket's
e-mail moves it on: see :func:`verify_email`). Tokens expire after
``RESPONSO_CHAT_VISITOR_TOKEN_MAX_AGE`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import contains_eager

from responso_chat.models import Chat, Ticket
from responso_chat.state import plugin_state

SALT = "responso-chat-visitor"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(ticket) -> str:
    """A token giving the customer's widget access to ``ticket`` (at its token version)."""
    return _serializer().dumps({"t": ticket.id, "c": ticket.chat_id, "v": ticket.token_version})


def ticket_for_token(token: str | None):
    """The ticket a valid token names, with its chat and rating, or None when it is tampered,
    expired or out of date (the ticket moved to another chat, the chat disabled, its token
    version moved on): one statement."""
    if not token:
        return None
    try:
        data = _serializer().loads(
            token, max_age=plugin_state().setting("VISITOR_TOKEN_MAX_AGE")
        )
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict):
        return None
    ticket_id, chat_id = data.get("t"), data.get("c")
    version = data.get("v", 0)  # tokens issued before versions existed are of version 0
    if not all(isinstance(value, int) for value in (ticket_id, chat_id, version)):
        return None
    query = (
        sa.select(Ticket)
        .join(Ticket.chat)
        .outerjoin(Ticket.rating)
        .options(contains_eager(Ticket.chat), contains_eager(Ticket.rating))
        .where(
            Ticket.id == ticket_id,
            Ticket.chat_id == chat_id,
            Ticket.token_version == version,
            Chat.enabled.is_(True),
        )
        .execution_options(populate_existing=True)  # one statement, even for a known ticket
    )
    return plugin_state().db.session.execute(query).scalar_one_or_none()


def verify_email(ticket_id: int) -> bool:
    """Mark the ticket's e-mail verified and move its token version on, in the caller's
    transaction: every visitor token issued before stops working (whoever typed that address
    into the pre-chat form held one). False when it was verified already (nothing changes)."""
    result = plugin_state().db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.customer_email_verified.is_(False))
        .values(customer_email_verified=True, token_version=Ticket.token_version + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def email_signature(secret: str, email: str) -> str:
    """HMAC-SHA256 (hex) of ``email`` with a chat's secret: how a shop vouches for a customer."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def email_is_verified(chat, email: str, signature: str | None, user=None) -> bool:
    """Whether the shop vouches for ``email``: a valid signature, or the logged-in host user.

    ``user`` is the host's current user when the widget runs on the host's own pages (its
    session cookie came with the request); their account e-mail then counts as verified.
    """
    if signature and hmac.compare_digest(email_signature(chat.secret, email), signature.lower()):
        return True
    account_email = getattr(user, "email", None) if user is not None else None
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and account_email
        and str(account_email).strip().lower() == email.strip().lower()
    )


def _normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(chat, origin: str | None, own_origin: str) -> bool:
    """Whether a page at ``origin`` may use ``chat``'s widget.

    The host's own origin always may; otherwise the chat's allowed origins decide (empty =
    any site). An entry is a full origin (``https://shop.example``) or a bare host name
    (``shop.example``, any scheme and port). No ``Origin`` at all is not a browser on another
    site (browsers always send it across origins), so it passes.
    """
    allowed = [_normalize_origin(entry) for entry in chat.allowed_origins or () if entry]
    if not allowed or not origin:
        return True
    origin = _normalize_origin(origin)
    if origin == _normalize_origin(own_origin):
        return True
    host = urlsplit(origin).hostname or ""
    return any(origin == entry or ("://" not in entry and host == entry) for entry in allowed)
