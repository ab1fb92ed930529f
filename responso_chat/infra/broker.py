"""Realtime fan-out: a broker that delivers events to every websocket that listens.

Messages are committed to the database *before* they are published, so the broker only has to
be best-effort: a client that missed an event catches up by sequence number over HTTP.

- :class:`InProcessBroker` serves one server process (the embedded default).
- :class:`RedisBroker` uses Redis pub/sub so every process and machine receives every event.

Channels are strings such as ``ticket:42`` (one conversation), ``ticket:42:agents`` (what only
agents see of it) or ``inbox`` (list updates).

When a broker may have dropped events (the Redis subscription was lost and is back), it hands
every listener one :data:`RESYNC` event: the listener catches up from the database.

Brokers also keep *presence*: who is connected right now, across every process. A key (say,
the customers of ticket 42) holds members (one per open socket), each alive until its expiry;
sockets refresh their membership with a heartbeat, so the members of a process that died
vanish by themselves.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from responso_chat.conversation import wire

log = logging.getLogger(__name__)

Listener = Callable[[dict], None]


def ticket_channel(ticket_id: int) -> str:
    """The channel of one conversation's events."""
    return f"ticket:{ticket_id}"


def agent_ticket_channel(ticket_id: int) -> str:
    """The agents-only channel of one conversation (internal notes, internal system lines)."""
    return f"ticket:{ticket_id}:agents"


def agent_channel(user_id: str) -> str:
    """The channel of one agent's own events (a ticket transferred to them), on every socket
    of theirs."""
    return f"agent:{user_id}"


INBOX_CHANNEL = "inbox"

#: Announces that who may see what changed (a chat's agents were edited, a user signed out):
#: :func:`responso_chat.conversation.wire.access` events. Agent sockets check at once.
ACCESS_CHANNEL = "access"

#: Handed to every listener once the broker is back after it may have dropped events.
RESYNC = wire.resync()


class InProcessBroker:
    """Delivers published events to the listeners of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._listeners: dict[str, set[Listener]] = defaultdict(set)
        self._presence: dict[str, dict[str, float]] = {}
        self._marks: dict[str, tuple[float, float]] = {}  # key -> (expiry, value)

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
        self._call(listeners, event, channel)

    def _resync(self) -> None:
        """Hand :data:`RESYNC` to every listener once, whatever its number of channels."""
        with self._lock:
            listeners = set().union(*self._listeners.values())
        self._call(listeners, wire.resync(), "*")

    @staticmethod
    def _call(listeners, event: dict, channel: str) -> None:
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one broken socket must not stop the others
                log.exception("realtime listener failed on %s", channel)

    def join(self, key: str, member: str, ttl: float) -> tuple[bool, int] | None:
        """Add ``member`` to presence ``key`` (or refresh it) until ``ttl`` seconds from now.

        Returns ``(added, count)``: whether the member was new, and how many live members the
        key has now; ``None`` when presence is unknown (its store is unreachable).
        """
        now = time.time()
        with self._lock:
            members = self._live(key, now)
            added = member not in members
            members[member] = now + ttl
            return added, len(members)

    def leave(self, key: str, member: str) -> tuple[bool, int] | None:
        """Remove ``member`` from presence ``key``; returns ``(removed, count)`` or ``None``."""
        with self._lock:
            members = self._live(key, time.time())
            removed = members.pop(member, None) is not None
            if not members:
                self._presence.pop(key, None)
            return removed, len(members)

    def members(self, key: str) -> list[str] | None:
        """The live members of presence ``key``, sorted (``None`` when unknown)."""
        with self._lock:
            members = self._live(key, time.time())
            if not members:
                self._presence.pop(key, None)
            return sorted(members)

    def mark(self, key: str, value: float, ttl: float) -> None:
        """Remember ``value`` under ``key`` for every process until ``ttl`` seconds from now."""
        now = time.time()
        with self._lock:
            for old in [k for k, (expiry, _value) in self._marks.items() if expiry <= now]:
                del self._marks[old]
            self._marks[key] = (now + ttl, value)

    def marked(self, key: str) -> float | None:
        """The value remembered under ``key``, or None (never marked, or expired)."""
        with self._lock:
            expiry, value = self._marks.get(key, (0.0, None))
        return value if expiry > time.time() else None

    def _live(self, key: str, now: float) -> dict[str, float]:
        members = self._presence.setdefault(key, {})
        for member in [m for m, expiry in members.items() if expiry <= now]:
            del members[member]
        return members

    def close(self) -> None:
        """Release the broker's resources."""


class RedisBroker(InProcessBroker):
    """Publishes through Redis pub/sub; a listener thread delivers to this process's sockets.

    One pattern subscription per process receives every event of every process. The first
    :meth:`subscribe` waits (briefly) until that subscription is active, so nothing published
    after it returns is missed. Publishing never raises: with Redis down the event is dropped
    (the message is already committed); when the subscription comes back every listener gets
    :data:`RESYNC` and catches up by sequence number. Presence lives in sorted sets (member ->
    expiry time), shared by every process.
    """

    PREFIX = "responso_chat:"
    PRESENCE_PREFIX = "responso_chat:presence:"
    READY_TIMEOUT = 2.0  # longest wait of a first subscription for Redis to confirm it
    RETRY_SECONDS = 0.5  # pause between two attempts to subscribe again

    def __init__(self, url: str):
        super().__init__()
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=15
        )
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lost = False  # the subscription failed since it was last active
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
        if not self._lost:
            self._ready.wait(self.READY_TIMEOUT)

    def publish(self, channel: str, event: dict) -> None:
        """Publish ``event`` to every process; logged and dropped if Redis is unreachable."""
        try:
            self._redis.publish(self.PREFIX + channel, json.dumps(event))
        except Exception as exc:
            log.warning("realtime publish on %s failed: %s", channel, type(exc).__name__)

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = self._redis.pubsub()
            try:
                pubsub.psubscribe(self.PREFIX + "*")
                while not self._stop.is_set():
                    item = pubsub.get_message(timeout=1.0)
                    if item is None:
                        continue
                    if item["type"] == "psubscribe":
                        self._subscribed()
                    elif item["type"] == "pmessage":
                        channel = item["channel"].decode()[len(self.PREFIX):]
                        self._deliver(channel, json.loads(item["data"]))
            except Exception as exc:
                if not self._lost and not self._stop.is_set():  # once per outage
                    log.warning("realtime subscription lost (%s); retrying", type(exc).__name__)
                self._ready.clear()
                self._lost = True
                self._stop.wait(self.RETRY_SECONDS)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    pass

    def _subscribed(self) -> None:
        self._ready.set()
        if self._lost:
            self._lost = False
            log.info("realtime subscription back; listeners catch up")
            self._resync()

    def join(self, key: str, member: str, ttl: float) -> tuple[bool, int] | None:
        """Add or refresh ``member`` of presence ``key`` for every process (see the base)."""
        now = time.time()
        try:
            with self._redis.pipeline() as pipe:
                name = self.PRESENCE_PREFIX + key
                pipe.zremrangebyscore(name, "-inf", now)
                pipe.zadd(name, {member: now + ttl})
                pipe.zcard(name)
                pipe.expire(name, int(ttl) + 1)
                _, added, count, _ = pipe.execute()
        except Exception as exc:
            log.warning("presence join on %s failed: %s", key, type(exc).__name__)
            return None
        return bool(added), count

    def leave(self, key: str, member: str) -> tuple[bool, int] | None:
        """Remove ``member`` from presence ``key`` for every process (see the base)."""
        try:
            with self._redis.pipeline() as pipe:
                name = self.PRESENCE_PREFIX + key
                pipe.zrem(name, member)
                pipe.zremrangebyscore(name, "-inf", time.time())
                pipe.zcard(name)
                removed, _, count = pipe.execute()
        except Exception as exc:
            log.warning("presence leave on %s failed: %s", key, type(exc).__name__)
            return None
        return bool(removed), count

    def members(self, key: str) -> list[str] | None:
        """The live members of presence ``key`` across every process, sorted."""
        try:
            members = self._redis.zrangebyscore(self.PRESENCE_PREFIX + key, time.time(), "+inf")
        except Exception as exc:
            log.warning("presence read of %s failed: %s", key, type(exc).__name__)
            return None
        return sorted(member.decode() for member in members)

    def mark(self, key: str, value: float, ttl: float) -> None:
        """Remember ``value`` under ``key`` for every process (see the base); logged and
        dropped if Redis is unreachable."""
        try:
            self._redis.set(self.PREFIX + "mark:" + key, repr(value), ex=max(1, int(ttl)))
        except Exception as exc:
            log.warning("mark of %s failed: %s", key, type(exc).__name__)

    def marked(self, key: str) -> float | None:
        """The value remembered under ``key`` by any process, or None (also when unknown)."""
        try:
            value = self._redis.get(self.PREFIX + "mark:" + key)
        except Exception as exc:
            log.warning("mark read of %s failed: %s", key, type(exc).__name__)
            return None
        return None if value is None else float(value)

    def close(self) -> None:
        """Stop the listener thread and close the connections."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        self._redis.close()


def create_broker(redis_url: str):
    """The broker for a configuration: Redis pub/sub when a URL is set, else in-process."""
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
