"""Agents' API tokens: created with a name, shown once, stored as a SHA-256 hash, revocable.

A token is ``rc_`` followed by 43 random URL-safe characters. Only its hash and its last four
characters (to tell tokens apart in the list) are kept, so a leaked database reveals no token.
The JSON API finds a token by its hash and acts as the token's user, with that user's rights.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from responso_chat.models import ApiToken, utcnow
from responso_chat.state import plugin_state
from responso_chat.users import load_user

TOKEN_PREFIX = "rc_"
#: ``last_used_at`` is written at most this often per token (not on every request).
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user_id: str, name: str):
    """Create a token for ``user_id``; returns ``(row, token)`` — the token is shown once."""
    state = plugin_state()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=str(user_id), name=name, token_hash=hash_token(token), last_four=token[-4:]
    )
    state.db.session.add(row)
    state.db.session.commit()
    return row, token


def list_tokens(user_id: str) -> list:
    """Every token of ``user_id``, revoked ones included, newest first."""
    state = plugin_state()
    query = (
        sa.select(ApiToken)
        .where(ApiToken.user_id == str(user_id))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(state.db.session.scalars(query))


def get_token(user_id: str, token_id: int):
    """The token ``token_id`` if it belongs to ``user_id``, else None."""
    state = plugin_state()
    return state.db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == str(user_id))
    )


def revoke_token(row) -> bool:
    """Revoke a token for good; False if it already was."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    plugin_state().db.session.commit()
    return True


def authenticate(token: str):
    """``(row, user)`` of a valid, unrevoked token whose user still exists, else None.

    Records when the token was last used (to the minute).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    state = plugin_state()
    row = state.db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    user = load_user(row.user_id)
    if user is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        row.last_used_at = now
        state.db.session.commit()
    return row, user
