"""The realtime protocol of the websockets: the loop every socket shares. The customer's side is
:mod:`.visitor_socket`, the agents' desk :mod:`.agent_socket`; events are built in :mod:`.wire`.

Each connection subscribes one listener to broker channels; the listener only queues events
and wakes the connection's loop. The loop, in the request's own thread, reads client frames
with ``ws.receive(timeout=...)``, sends queued events and does every database read and write.
Messages go out by sequence number: a pushed message (published after its commit) is sent as
it came only when it is the next one the client expects; otherwise the client catches up from
the database. So nothing is lost, nothing is sent twice, and order holds even when pushes
cross. When the broker says it may have dropped events (``resync``: Redis was away), every
socket catches up the same way.

Presence (:mod:`.presence`): the customer's sockets and the agents following a ticket are
members of presence keys shared by every process, refreshed by the socket's heartbeat.

What a client can make a socket hold is bounded by settings: the size of a frame, the frames a
second, the sockets of one conversation and of one address (counted across processes), the
time without a frame. Rights are checked again while the socket is open: every
``WS_ACCESS_CHECK_INTERVAL`` seconds, and at once when an ``access`` event says they changed.
Every end the server chooses is a close frame with a code the client can act on
(:data:`CLOSE_CODES`); an error in a handler closes with 1011, never with an HTTP answer
written into the socket.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import secrets
import time
import traceback
from collections import deque

from limits import parse_many
from simple_websocket import ConnectionClosed

from responso_chat.conversation import messages, wire
from responso_chat.models import Ticket
from responso_chat.schemas.common import unstorable
from responso_chat.state import plugin_state

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 25  # a ping keeps proxies from closing an idle socket; presence refreshes
MAX_FRAME_DEPTH = 4  # frames are flat objects; deeper JSON is refused before anything walks it

CLOSE_TOO_BIG = 1009  # a frame over WS_MAX_FRAME_SIZE (simple_websocket sends it while reading)
CLOSE_INTERNAL_ERROR = 1011  # the server failed; reconnect and catch up
CLOSE_FORBIDDEN = 4403  # rights gone: signed out, no longer an agent, conversation unavailable
CLOSE_IDLE = 4408  # no frame from the client for WS_IDLE_TIMEOUT seconds
CLOSE_TOO_MANY = 4429  # too many sockets (per conversation, per address) or too many frames

#: Every close code the server sends, for clients and documentation.
CLOSE_CODES = {
    CLOSE_TOO_BIG: "frame too big", CLOSE_INTERNAL_ERROR: "server error",
    CLOSE_FORBIDDEN: "no longer allowed", CLOSE_IDLE: "idle", CLOSE_TOO_MANY: "too many",
}

#: The subprotocol the widget asks for, followed by its visitor token, so the token travels in
#: the ``Sec-WebSocket-Protocol`` header and never in a URL (URLs end up in access logs).
VISITOR_PROTOCOL = "responso-chat"


def _wake(ws) -> None:
    """Make the loop's pending ``ws.receive()`` return ``None`` at once (it returns the first
    item of simple_websocket's input buffer when its event is set), so queued events go out
    without polling."""
    ws.input_buffer.append(None)
    ws.event.set()


class Refused(Exception):
    """Ends the socket with ``code`` and a short ``reason`` the client can read."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


class FrameBudget:
    """The frames one socket may still send: a moving window per limit of a ``limits``
    string (``"60 per second; 600 per minute"``), kept in the socket itself."""

    def __init__(self, limit_string: str):
        self._windows = [
            (item.amount, item.get_expiry(), deque()) for item in parse_many(limit_string)
        ]

    def take(self, now: float) -> bool:
        """Count one frame at ``now`` (monotonic seconds); False when over a limit."""
        for amount, seconds, times in self._windows:
            while times and times[0] <= now - seconds:
                times.popleft()
            if len(times) >= amount:
                return False
        for _amount, _seconds, times in self._windows:
            times.append(now)
        return True


def too_deep(data, limit: int = MAX_FRAME_DEPTH) -> bool:
    """Whether decoded JSON nests lists and objects more than ``limit`` levels (walked
    without recursion, so no depth can exhaust the stack)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return False


class Connection:
    """One open websocket: its subscriptions, its event queue and its loop."""

    include_internal = False

    def __init__(self, ws):
        self.ws = ws
        self.state = plugin_state()
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self._listener = self._queue
        self._wake_pending = False
        self.channels: set[str] = set()
        self.origin = secrets.token_hex(8)  # tells this socket's own typing events apart
        self.sent_seq: dict[int, int] = {}
        # The limit of our own routes, whatever the host's SOCK_SERVER_OPTIONS say: the
        # reading thread checks it as each piece of a frame arrives, so even a frame that
        # began before this line stops growing at the next piece.
        self.max_frame = self.state.setting("WS_MAX_FRAME_SIZE")
        ws.max_message_size = self.max_frame
        self.frames = FrameBudget(self.state.setting("WS_FRAME_RATE_LIMIT"))
        self.idle_timeout = float(self.state.setting("WS_IDLE_TIMEOUT"))
        self.beat_seconds = min(HEARTBEAT_SECONDS, self.idle_timeout / 3)
        self.check_seconds = float(self.state.setting("WS_ACCESS_CHECK_INTERVAL"))

    def _queue(self, event: dict) -> None:
        """The broker's listener (any thread): queue the event and wake the loop once."""
        self.events.put(event)
        if not self._wake_pending:
            self._wake_pending = True
            _wake(self.ws)

    def listen(self, channel: str) -> None:
        """Receive the events of ``channel`` from now on."""
        if channel not in self.channels:
            self.channels.add(channel)
            self.state.broker.subscribe(channel, self._listener)

    def stop_listening(self, channel: str) -> None:
        """Stop receiving the events of ``channel``."""
        if channel in self.channels:
            self.channels.discard(channel)
            self.state.broker.unsubscribe(channel, self._listener)

    def send(self, event: dict) -> None:
        """Send an event to the client, without the broker's private ``_`` keys."""
        self.ws.send(json.dumps({k: v for k, v in event.items() if not k.startswith("_")}))

    def flush(self, ticket_id: int) -> None:
        """Send the ticket's messages this client has not had yet, in order."""
        after = self.sent_seq.get(ticket_id, 0)
        for message in messages.messages_after(ticket_id, after, self.include_internal):
            self.send(wire.message(message))
            self.sent_seq[ticket_id] = message.seq

    def pushed_message(self, event: dict) -> None:
        """A message event from the broker: sent as it came when it is the very next one this
        client expects (it was published after its commit), else the client catches up from
        the database (a missed push, or an internal note the customer does not get)."""
        ticket_id, seq = event["ticket_id"], event["seq"]
        after = self.sent_seq.get(ticket_id, 0)
        if seq == after + 1 and (self.include_internal or not event["internal"]):
            self.send(event)
            self.sent_seq[ticket_id] = seq
        elif seq > after:
            self.flush(ticket_id)

    def ticket(self, ticket_id: int):
        """The ticket, read fresh from the database: its row alone (a message or a typing
        event needs nothing more)."""
        return self.state.db.session.get(Ticket, ticket_id)

    def run(self) -> None:
        """Serve the socket until the client goes away or the server ends it (a close frame
        with a code from :data:`CLOSE_CODES`; an unexpected error closes with 1011)."""
        session = self.state.db.session
        try:
            self.serve()
        except ConnectionClosed:
            pass  # the client left (or the reading thread closed it: a frame too big)
        except Refused as exc:
            self.close(exc.code, exc.reason)
        except Exception as exc:  # noqa: BLE001 - whatever it is, the client gets a close frame
            # The type and the place, not the message: a database error's message holds values.
            log.error("websocket handler failed (%s):\n%s", type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
            self.close(CLOSE_INTERNAL_ERROR, "server error")
        finally:
            for channel in list(self.channels):
                self.stop_listening(channel)
            try:
                self.closed()
            except Exception as exc:  # noqa: BLE001 - presence expires by itself
                log.warning("websocket tidy-up failed: %s", type(exc).__name__)
            try:
                session.remove()
            except Exception as exc:  # noqa: BLE001 - a connection that died mid-transaction
                log.warning("websocket session not closed cleanly: %s", type(exc).__name__)

    def close(self, code: int, reason: str) -> None:
        """Send the close frame (if the socket is still open)."""
        try:
            self.ws.close(reason=code, message=reason)
        except Exception:  # noqa: BLE001 - closed already, or the peer is gone
            pass

    def serve(self) -> None:
        """The loop: client frames, broker events, rights checks, heartbeats, idle time."""
        session = self.state.db.session
        self.opened()
        session.rollback()
        now = time.monotonic()
        last_frame = now
        next_check = now + self.check_seconds
        # The first beat at a random moment: sockets opened together (a deploy, a Redis
        # outage) must not all beat together ever after.
        next_beat = now + self.beat_seconds * random.uniform(0.2, 1.0)
        while True:
            deadline = min(next_beat, next_check, last_frame + self.idle_timeout)
            frame = self.ws.receive(timeout=max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            if frame is not None:
                last_frame = now
                if not self.frames.take(now):
                    raise Refused(CLOSE_TOO_MANY, "too many frames")
                self.handle_frame(frame)
            elif now >= last_frame + self.idle_timeout:
                raise Refused(CLOSE_IDLE, "idle")
            self._wake_pending = False  # before draining: a later event wakes us again
            while True:
                try:
                    event = self.events.get_nowait()
                except queue.Empty:
                    break
                self.deliver(event)
            if time.monotonic() >= next_check:
                self.check_access()
                next_check = time.monotonic() + self.check_seconds
            if time.monotonic() >= next_beat:
                self.send(wire.ping())
                self.heartbeat()
                next_beat = time.monotonic() + self.beat_seconds
            session.rollback()  # end the read transaction: the next loop sees new rows

    def handle_frame(self, frame) -> None:
        """Decode a client frame and call ``on_<type>``; answer ``bad_request`` otherwise."""
        if len(frame) > self.max_frame:  # the reading thread stops most before they end
            raise Refused(CLOSE_TOO_BIG, "frame too big")
        try:
            data = json.loads(frame)
        except (TypeError, ValueError, RecursionError):  # not JSON, or nested too deeply
            data = None
        if too_deep(data) or unstorable(data):  # NUL or lone surrogates: no database stores them
            data = None
        handler = None
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            handler = getattr(self, "on_" + data["type"], None)
        if handler is None:
            self.send(wire.error("bad_request"))
            return
        handler(data)

    def on_pong(self, data: dict) -> None:
        """The client answers a ping: it is still there (the frame itself keeps it open)."""

    def check_access(self) -> None:
        """Check again that the client still has its rights; raise :class:`Refused` if not."""

    def opened(self) -> None:
        """Subscribe and catch the client up."""

    def closed(self) -> None:
        """Tidy up after the client left."""

    def heartbeat(self) -> None:
        """Every ``HEARTBEAT_SECONDS``: refresh presence."""

    def deliver(self, event: dict) -> None:
        """Forward a broker event to the client (or act on it)."""
