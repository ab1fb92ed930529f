"""Sign-ins the plugin can tell apart, so a long-lived socket notices its user signed out.

A host's session cookie stays valid after a sign-out (Flask's sessions live in the cookie), so
a socket cannot learn from the cookie it opened with whether that sign-in is over. Each
sign-in (Flask-Login's ``user_logged_in``, or a session restored from the remember cookie)
gets a random id in the session; signing out (``user_logged_out``) marks that id as over in
the broker (shared by every process, for as long as a session may live) and announces it on
:data:`~responso_chat.infra.broker.ACCESS_CHANNEL`, so the user's open agent sockets check at
once, and a copy of the old cookie opens no new one. A session from before this id existed
counts as over once its user signed out anywhere afterwards.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, session
from flask_login import user_loaded_from_cookie, user_logged_in, user_logged_out

from responso_chat.conversation import wire
from responso_chat.infra.broker import ACCESS_CHANNEL
from responso_chat.state import plugin_state

#: The session key holding the sign-in's id.
SESSION_KEY = "_responso_chat_signin"


def connect_signals(app) -> None:
    """Follow ``app``'s Flask-Login sign-ins and sign-outs."""
    user_logged_in.connect(_signed_in, app)
    user_loaded_from_cookie.connect(_signed_in, app)
    user_logged_out.connect(_signed_out, app)


def current_signin() -> str | None:
    """The id of the current request's sign-in (None for a session older than these ids)."""
    value = session.get(SESSION_KEY)
    return value if isinstance(value, str) else None


def signed_out(user_id: str, signin: str | None, since: float = 0.0) -> bool:
    """Whether the sign-in ``signin`` of ``user_id`` is over; for a session without an id,
    whether the user signed out anywhere after ``since`` (a ``time.time()``)."""
    broker = plugin_state().broker
    if signin is not None:
        return broker.marked(_signin_key(signin)) is not None
    at = broker.marked(_user_key(user_id))
    return at is not None and at >= since


def _signin_key(signin: str) -> str:
    return f"signed-out:{signin}"


def _user_key(user_id: str) -> str:
    return f"signed-out-user:{user_id}"


def _lifetime() -> float:
    return current_app.permanent_session_lifetime.total_seconds()


def _signed_in(sender, user=None, **_extra) -> None:
    session[SESSION_KEY] = secrets.token_urlsafe(16)


def _signed_out(sender, user=None, **_extra) -> None:
    user_id = user.get_id() if user is not None else None
    signin = session.pop(SESSION_KEY, None)
    if user_id is None:
        return
    broker = plugin_state().broker
    now = time.time()
    if isinstance(signin, str):
        broker.mark(_signin_key(signin), now, _lifetime())
    broker.mark(_user_key(str(user_id)), now, _lifetime())
    broker.publish(ACCESS_CHANNEL, wire.access(str(user_id)))
