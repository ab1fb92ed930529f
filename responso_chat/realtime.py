"""Realtime fan-out: a broker that delivers events to every websocket that listens.

Messages are committed to the database *before* they are published, so the broker only has to
be best-effort: a client that missed an event catches up by sequence number over HTTP.

- :class:`InProcessBroker` serves one server process (the embedded default).
- :class:`RedisBroker` uses Redis pub/sub so every process and machine receives every event.

Channels are strings such as ``ticket:42`` (one conversation), ``ticket:42:agents`` (what only
agents see of it) or ``inbox`` (list updates).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable

log = logging.getLogger(__name__)

Listener = Callable[[dict], None]


def ticket_channel(ticket_id: int) -> str:
    """The channel of one conversation's events."""
    return f"ticket:{ticket_id}"


def agent_ticket_channel(ticket_id: int) -> str:
    """The agents-only channel of one conversation (internal notes, internal system lines)."""
    return f"ticket:{ticket_id}:agents"


INBOX_CHANNEL = "inbox"


class InProcessBroker:
    """Delivers published events to the listeners of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._listeners: dict[str, set[Listener]] = defaultdict(set)

    def subscribe(self, channel: str, listener: Listener) -> None:
        """Call ``listener(event)`` for every event published on ``channel`` from now on."""
        with self._lock:
            self._listeners[channel].add(listener)

    def unsubscribe(self, channel: str, listener: Listener) -> None:
        """Stop calling ``listener`` for ``channel``."""
        with self._lock:
            listeners = self._listeners.get(channel)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[channel]

    def publish(self, channel: str, event: dict) -> None:
        """Send ``event`` to every listener of ``channel``; never raises."""
        self._deliver(channel, event)

    def _deliver(self, channel: str, event: dict) -> None:
        with self._lock:
            listeners = list(self._listeners.get(channel, ()))
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one broken socket must not stop the others
                log.exception("realtime listener failed on %s", channel)

    def close(self) -> None:
        """Release the broker's resources."""


class RedisBroker(InProcessBroker):
    """Publishes through Redis pub/sub; a listener thread delivers to this process's sockets.

    Publishing never raises: with Redis down the event is dropped (the message is already
    committed) and clients catch up by sequence number.
    """

    PREFIX = "responso_chat:"

    def __init__(self, url: str):
        super().__init__()
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5, health_check_interval=15)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, channel: str, listener: Listener) -> None:
        """Listen on ``channel``; the first subscription starts the Redis listener thread."""
        super().subscribe(channel, listener)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._listen, name="responso-chat-broker", daemon=True
                )
                self._thread.start()

    def publish(self, channel: str, event: dict) -> None:
        """Publish ``event`` to every process; logged and dropped if Redis is unreachable."""
        try:
            self._redis.publish(self.PREFIX + channel, json.dumps(event))
        except Exception as exc:
            log.warning("realtime publish on %s failed: %s", channel, type(exc).__name__)

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(self.PREFIX + "*")
                while not self._stop.is_set():
                    item = pubsub.get_message(timeout=1.0)
                    if item and item["type"] == "pmessage":
                        channel = item["channel"].decode()[len(self.PREFIX):]
                        self._deliver(channel, json.loads(item["data"]))
            except Exception as exc:
                log.warning("realtime subscription lost (%s); retrying", type(exc).__name__)
                self._stop.wait(1.0)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    pass

    def close(self) -> None:
        """Stop the listener thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)


def create_broker(redis_url: str):
    """The broker for a configuration: Redis pub/sub when a URL is set, else in-process."""
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
