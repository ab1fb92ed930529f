"""The customer's websocket: one conversation, opened with a visitor token (see
:mod:`responso_chat.conversation.websocket` for the loop every socket shares)."""

from __future__ import annotations

from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from responso_chat.conversation import messages, presence, tickets, wire
from responso_chat.conversation.visitor import ticket_for_token
from responso_chat.conversation.websocket import (
    CLOSE_FORBIDDEN,
    CLOSE_TOO_MANY,
    Connection,
    Refused,
)
from responso_chat.infra.broker import ticket_channel
from responso_chat.schemas.common import parse_count
from responso_chat.schemas.widget import PageSchema, VisitorMessageSchema


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
        self.send(wire.status(self.ticket_id, status,
                              reopenable=messages.customer_may_reopen(status, ended_at)))

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
            details = {} if client_msg_id is None else {"client_msg_id": client_msg_id}
            self.send(wire.error("unavailable", **details))
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
        elif kind == "tokens_revoked":
            self.check_access()

    def on_send(self, data: dict) -> None:
        """The customer sends a message (idempotent by ``client_msg_id``); acknowledged with
        the values in hand (its echo), never read again after the commit."""
        payload = {k: data[k] for k in ("body", "client_msg_id") if k in data}
        client_msg_id = data.get("client_msg_id")
        try:
            values = VisitorMessageSchema().load(payload)
        except ValidationError as exc:
            self.send(wire.error("invalid", errors=exc.messages, client_msg_id=client_msg_id))
            return
        try:
            self.state.rate_limits.enforce(self.state.setting("SEND_RATE_LIMIT"), "send")
        except HTTPException as exc:
            retry_after = int(exc.response.headers.get("Retry-After", "1"))
            self.send(wire.error("rate_limited", client_msg_id=client_msg_id,
                                 retry_after=retry_after))
            return
        ticket = self.writable_ticket(client_msg_id)
        before = ticket.status
        try:
            message, created = messages.post_customer_message(
                ticket, values["body"], values["client_msg_id"]
            )
        except messages.ConversationEnded:
            self.send(wire.error("ended", client_msg_id=client_msg_id))
            self.send_status(ticket.status, ticket.ended_at)
            return
        # A new message opens a pending or ended ticket: say so before the echo, from the
        # values in hand (the ticket is not read again after the commit).
        status = "open" if created else before
        if status != self.status:
            self.send_status(status)
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
            self.send(wire.error("invalid", errors=exc.messages))
            return
        tickets.record_page(self.ticket(self.ticket_id), values["url"], values["title"])
