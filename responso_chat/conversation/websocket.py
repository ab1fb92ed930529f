"""The realtime protocol of the websockets: the customer's conversation and the agents' desk.

Each connection subscribes one listener to broker channels; the listener only queues events
and wakes the connection's loop. The loop, in the request's own thread, reads client frames
with ``ws.receive(timeout=...)``, sends queued events and does every database read and write.
Messages go out by sequence number: a pushed message (published after its commit) is sent as
it came only when it is the next one the client expects; otherwise the client catches up from
the database. So nothing is lost, nothing is sent twice, and order holds even when pushes
cross. When the broker says it may have dropped events (``resync``: Redis was away), every
socket catches up the same way.

Presence (``services.presence``): the customer's sockets and the agents following a ticket are
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
from marshmallow import ValidationError
from simple_websocket import ConnectionClosed
from werkzeug.exceptions import HTTPException

from responso_chat.conversation import access, availability, messages, presence, sessions, tickets
from responso_chat.conversation.visitor import ticket_for_token
from responso_chat.infra.broker import (
    ACCESS_CHANNEL,
    INBOX_CHANNEL,
    agent_ticket_channel,
    ticket_channel,
)
from responso_chat.models import Ticket
from responso_chat.schemas.common import parse_count, unstorable
from responso_chat.schemas.widget import PageSchema, VisitorMessageSchema
from responso_chat.state import plugin_state
from responso_chat.users import agent_by_id, as_agent, is_agent, load_user

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 25  # a ping keeps proxies from closing an idle socket; presence refreshes
VISIBILITY_SECONDS = 30  # how long an agent's list of visible chats is trusted
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
            self.send(messages.message_event(message))
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
                self.send({"type": "ping"})
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
            self.send({"type": "error", "error": "bad_request"})
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


class VisitorConnection(Connection):
    """The customer's side of one conversation, opened with the visitor ``token`` from
    ``address`` (see :func:`responso_chat.infra.ratelimit.client_address`)."""

    def __init__(self, ws, ticket_id: int, after: int, token: str, address: str):
        super().__init__(ws)
        self.ticket_id = ticket_id
        self.sent_seq[ticket_id] = after
        self.status: str | None = None
        self.token = token
        self.slots = (
            (f"visitor:{ticket_id}", self.state.setting("WS_MAX_SOCKETS_PER_VISITOR")),
            (f"address:{address}", self.state.setting("WS_MAX_SOCKETS_PER_ADDRESS")),
        )

    def send_status(self, status: str, ended_at=None) -> None:
        """Tell the client the ticket's status, and whether a message reopens it (ended at
        ``ended_at``; None: just now)."""
        self.status = status
        self.send({**messages.status_event(self.ticket_id, status),
                   "reopenable": messages.customer_may_reopen(status, ended_at)})

    def opened(self) -> None:
        for key, cap in self.slots:  # counted by every process; released in closed()
            if not presence.take_socket_slot(key, self.origin, cap):
                raise Refused(CLOSE_TOO_MANY, "too many sockets")
        ticket = self.ticket(self.ticket_id)
        if ticket is None:  # deleted since the handshake
            raise Refused(CLOSE_FORBIDDEN, "conversation not available")
        self.listen(ticket_channel(ticket.id))
        self.send_status(ticket.status, ticket.ended_at)
        self.flush(ticket.id)
        presence.customer_here(ticket.id, self.origin)

    def closed(self) -> None:
        for key, _cap in self.slots:
            presence.release_socket_slot(key, self.origin)
        presence.customer_gone(self.ticket_id, self.origin)

    def heartbeat(self) -> None:
        for key, _cap in self.slots:
            presence.refresh_socket_slot(key, self.origin)
        presence.customer_here(self.ticket_id, self.origin)

    def writable_ticket(self, client_msg_id=None):
        """The ticket, while the visitor token still reaches it (not expired, the chat still
        enabled and still its chat); else the client is told and the socket closes."""
        ticket = ticket_for_token(self.token)
        if ticket is None:
            event = {"type": "error", "error": "unavailable"}
            if client_msg_id is not None:
                event["client_msg_id"] = client_msg_id
            self.send(event)
            raise Refused(CLOSE_FORBIDDEN, "conversation not available")
        return ticket

    def check_access(self) -> None:
        self.writable_ticket()

    def resync(self) -> None:
        """Events may have been dropped: catch up on messages and status, rejoin presence."""
        ticket = self.ticket(self.ticket_id)
        if ticket is None:
            return
        self.flush(ticket.id)
        if ticket.status != self.status:
            self.send_status(ticket.status, ticket.ended_at)
        presence.customer_here(ticket.id, self.origin)

    def deliver(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "message":
            self.pushed_message(event)
        elif kind == "resync":
            self.resync()
        elif kind == "status":
            self.send_status(event["status"])
        elif kind == "typing" and event.get("author_kind") != "customer":
            self.send(event)
        elif kind == "seen" and event.get("by") == "agent":
            self.send(event)
        elif kind == "agent_joined":
            self.send(event)

    def on_send(self, data: dict) -> None:
        """The customer sends a message (idempotent by ``client_msg_id``); acknowledged with
        the values in hand (its echo), never read again after the commit."""
        payload = {k: data[k] for k in ("body", "client_msg_id") if k in data}
        client_msg_id = data.get("client_msg_id")
        try:
            values = VisitorMessageSchema().load(payload)
        except ValidationError as exc:
            self.send({"type": "error", "error": "invalid", "errors": exc.messages,
                       "client_msg_id": client_msg_id})
            return
        try:
            self.state.rate_limits.enforce(self.state.setting("SEND_RATE_LIMIT"), "send")
        except HTTPException as exc:
            self.send({"type": "error", "error": "rate_limited", "client_msg_id": client_msg_id,
                       "retry_after": int(exc.response.headers.get("Retry-After", "1"))})
            return
        ticket = self.writable_ticket(client_msg_id)
        status = ticket.status  # the commit expires the ticket: nothing is read after it
        try:
            message, created = messages.post_customer_message(
                ticket, values["body"], values["client_msg_id"]
            )
        except messages.ConversationEnded:
            self.send({"type": "error", "error": "ended", "client_msg_id": client_msg_id})
            self.send_status(ticket.status, ticket.ended_at)
            return
        if created and status != "open" and self.status != "open":
            self.send_status("open")  # it reopened the ticket: say so before the echo
        self.pushed_message(message.committed_event)  # the echo (or a catch-up), as stored

    def on_typing(self, data: dict) -> None:
        """The customer started or stopped typing."""
        ticket = self.ticket(self.ticket_id)
        messages.publish_typing(
            ticket, "customer", ticket.customer_name, bool(data.get("typing")), self.origin
        )

    def on_seen(self, data: dict) -> None:
        """The customer has read up to ``seq``."""
        seq = parse_count(data.get("seq"))
        if seq is not None:
            messages.mark_seen(self.ticket(self.ticket_id), "customer", seq)

    def on_page(self, data: dict) -> None:
        """The customer is now on another page."""
        try:
            values = PageSchema().load({k: data[k] for k in ("url", "title") if k in data})
        except ValidationError as exc:
            self.send({"type": "error", "error": "invalid", "errors": exc.messages})
            return
        tickets.record_page(self.ticket(self.ticket_id), values["url"], values["title"])


class AgentConnection(Connection):
    """An agent's socket: the tickets they have open, and the inbox if they ask for it.

    ``signin`` is the id of the sign-in the socket opened with (see
    :mod:`responso_chat.conversation.sessions`): the socket closes once it is over.
    """

    include_internal = True

    def __init__(self, ws, user, signin: str | None):
        super().__init__(ws)
        self.user = user
        self.user_id = str(user.get_id())
        self.signin = signin
        self.opened_at = time.time()
        self.agent = agent_by_id(self.user_id) or as_agent(user)
        self.tickets: set[int] = set()
        self._visible: set[int] | None = None
        self._visible_at = 0.0
        self._presence_sent: dict[int, tuple] = {}  # ticket -> (customer online, viewers)

    def opened(self) -> None:
        self.listen(ACCESS_CHANNEL)
        availability.agent_connected(self.origin, self.user_id)

    def check_access(self) -> None:
        """The user, loaded again through the host, must still be an agent and signed in
        (else the socket closes with 4403); tickets they may no longer see are dropped."""
        user = load_user(self.user_id)
        if user is None or not is_agent(user):
            raise Refused(CLOSE_FORBIDDEN, "no longer an agent")
        if sessions.signed_out(self.user_id, self.signin, self.opened_at):
            raise Refused(CLOSE_FORBIDDEN, "signed out")
        self.user = user
        self._visible_at = 0.0  # the inbox's list of visible chats is read again
        for ticket_id in sorted(self.tickets):
            ticket = self.ticket(ticket_id)
            if ticket is None or not access.can_see_ticket(user, ticket):
                self.drop_ticket(ticket_id)

    def drop_ticket(self, ticket_id: int) -> None:
        """Stop following a ticket the agent may no longer see, and tell the client."""
        self.unsubscribe(ticket_id)
        self.send({"type": "unsubscribed", "ticket_id": ticket_id, "reason": "no_access"})

    def _subscribed_ticket(self, data: dict):
        ticket_id = parse_count(data.get("ticket_id"))
        if ticket_id in self.tickets:
            ticket = self.ticket(ticket_id)
            if ticket is not None and access.can_see_ticket(self.user, ticket):
                return ticket
            self.drop_ticket(ticket_id)
            return None
        self.send({"type": "error", "error": "not_subscribed", "ticket_id": data.get("ticket_id")})
        return None

    def on_subscribe(self, data: dict) -> None:
        """Follow a ticket the agent may see, caught up from ``after``."""
        ticket_id, after = parse_count(data.get("ticket_id")), parse_count(data.get("after", 0))
        ticket = self.ticket(ticket_id) if ticket_id is not None else None
        if ticket is None or after is None or not access.can_see_ticket(self.user, ticket):
            self.send({"type": "error", "error": "not_found", "ticket_id": data.get("ticket_id")})
            return
        self.tickets.add(ticket_id)
        self.listen(ticket_channel(ticket_id))
        self.listen(agent_ticket_channel(ticket_id))
        self.sent_seq[ticket_id] = after
        self.send({"type": "subscribed", "ticket_id": ticket_id, "status": ticket.status})
        self.flush(ticket_id)
        self._presence_sent[ticket_id] = (None, [])  # the page shows nobody else at first
        self._here(ticket_id)
        self.send_presence(ticket_id)

    def on_unsubscribe(self, data: dict) -> None:
        """Stop following a ticket."""
        self.unsubscribe(parse_count(data.get("ticket_id")))

    def unsubscribe(self, ticket_id: int | None) -> None:
        """Stop following ``ticket_id`` (if followed)."""
        if ticket_id in self.tickets:
            self.tickets.discard(ticket_id)
            self.stop_listening(ticket_channel(ticket_id))
            self.stop_listening(agent_ticket_channel(ticket_id))
            self.sent_seq.pop(ticket_id, None)
            self._presence_sent.pop(ticket_id, None)
            self._gone(ticket_id)

    def _here(self, ticket_id: int) -> None:
        presence.agent_here(ticket_id, self.origin, self.agent.id, self.agent.name)

    def _gone(self, ticket_id: int) -> None:
        presence.agent_gone(ticket_id, self.origin, self.agent.id, self.agent.name)

    def send_presence(self, ticket_id: int) -> None:
        """Tell the client whether the customer is online and which other agents have the
        ticket open, when that differs from what it was last told."""
        online = presence.customer_online(ticket_id)
        agents = presence.viewers(ticket_id)
        last_online, last_agents = self._presence_sent.get(ticket_id, (None, None))
        if agents is not None:
            agents = [agent for agent in agents if agent["id"] != str(self.agent.id)]
        if online is not None and online != last_online:
            self.send(presence.customer_event(ticket_id, online))
            last_online = online
        if agents is not None and agents != last_agents:
            self.send(presence.viewers_event(ticket_id, agents))
            last_agents = agents
        self._presence_sent[ticket_id] = (last_online, last_agents)

    def closed(self) -> None:
        availability.agent_disconnected(self.origin, self.user_id)
        for ticket_id in self.tickets:
            self._gone(ticket_id)

    def heartbeat(self) -> None:
        availability.agent_connected(self.origin, self.user_id)
        for ticket_id in self.tickets:
            self._here(ticket_id)
            self.send_presence(ticket_id)

    def resync(self) -> None:
        """Events may have been dropped (an ``access`` one too): check the rights, catch up
        every ticket, its presence, and the list."""
        self.check_access()
        for ticket_id in sorted(self.tickets):
            self.flush(ticket_id)
            self._here(ticket_id)
            self.send_presence(ticket_id)
        if INBOX_CHANNEL in self.channels:
            self.send({"type": "inbox", "event": "resync"})

    def on_typing(self, data: dict) -> None:
        """The agent started or stopped typing in a ticket they follow."""
        ticket = self._subscribed_ticket(data)
        if ticket is not None:
            messages.publish_typing(
                ticket, "agent", self.agent.name, bool(data.get("typing")), self.origin
            )

    def on_seen(self, data: dict) -> None:
        """The agent has read a ticket up to ``seq``."""
        ticket, seq = self._subscribed_ticket(data), parse_count(data.get("seq"))
        if ticket is not None and seq is not None:
            messages.mark_seen(ticket, "agent", seq)

    def on_inbox(self, data: dict) -> None:
        """Receive inbox events of the tickets this agent may see."""
        self.listen(INBOX_CHANNEL)

    def _may_see_chat(self, chat_id) -> bool:
        if time.monotonic() - self._visible_at > VISIBILITY_SECONDS:
            self._visible = access.visible_chat_ids(self.user)
            self._visible_at = time.monotonic()
        return self._visible is None or chat_id in self._visible

    def deliver(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "inbox":
            if self._may_see_chat(event.get("chat_id")):
                self.send(event)
            return
        if kind == "resync":
            self.resync()
            return
        if kind == "access":
            if event.get("user_id") in (None, self.user_id):
                self.check_access()
            return
        ticket_id = event.get("ticket_id")
        if ticket_id not in self.tickets:
            return
        if kind == "message":
            self.pushed_message(event)
        elif kind in ("presence", "viewers"):
            self.send_presence(ticket_id)
        elif kind != "typing" or event.get("_origin") != self.origin:
            self.send(event)
