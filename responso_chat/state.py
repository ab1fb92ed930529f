"""The plugin's per-app state, kept in ``app.extensions["responso_chat"]``, and its accessor.

A leaf module: every part of the plugin may import it, it imports no other part but the
settings' prefix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from responso_chat.config import PREFIX

EXTENSION_KEY = "responso_chat"


class ExpiringValue:
    """A value computed at most once every ``seconds``, shared by the threads of one app.

    Two threads finding it stale at once may both compute it; the later one's value stays.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._held: tuple[float, Any] | None = None  # (expires at, value)

    def fresh(self):
        """The value while it is fresh, else None."""
        held = self._held
        return held[1] if held is not None and time.monotonic() < held[0] else None

    def get(self, compute):
        """The fresh value, or ``compute()`` kept for the next ``seconds``."""
        value = self.fresh()
        if value is None:
            value = compute()
            self._held = (time.monotonic() + self.seconds, value)
        return value

    def forget(self) -> None:
        """Drop the value: the next :meth:`get` computes it."""
        self._held = None


@dataclass
class PluginState:
    """Everything the plugin keeps for one app: the host's ``db``, the broker, the job runner,
    the rate limits and the host callables named by the settings."""

    extension: Any  # the ResponsoChat object that registered the plugin
    app: Flask
    db: Any
    broker: Any
    jobs: Any
    rate_limits: Any
    is_admin: Any
    is_agent: Any
    list_agents: Any
    load_user: Any  # user id -> host user, for API tokens
    classifier: Any
    user_model: Any
    base_rate_limiter: Any  # keeps Base API calls of every token under 100 a minute
    agents: ExpiringValue  # the list of agents (users.list_agents), kept a few seconds
    #: chat id -> its usual reply time, kept a few minutes (availability.usual_reply_minutes)
    reply_times: dict = field(default_factory=dict)

    def setting(self, name: str):
        """The value of ``RESPONSO_CHAT_<name>`` for this app."""
        return self.app.config[PREFIX + name]

    def per_transaction(self, key, compute):
        """``compute()``, read once per database transaction of the current session.

        What one page asks for several times (an agent's chats) costs one query;
        the next transaction (the next request, or a websocket's next loop) reads it afresh.
        """
        session = self.db.session()  # this thread's session, behind the scoped proxy
        transaction = session.get_transaction()
        cached = session.info.get((EXTENSION_KEY, key))
        if transaction is not None and cached is not None and cached[0] is transaction:
            return cached[1]
        value = compute()
        session.info[(EXTENSION_KEY, key)] = (session.get_transaction(), value)
        return value


def plugin_state() -> PluginState:
    """The plugin's state for the current app (raises outside an app that registered it)."""
    try:
        return current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("Responso Chat is not registered on the current app.") from None
