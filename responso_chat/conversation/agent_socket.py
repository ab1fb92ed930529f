"""An agent's websocket: the tickets they have open, their presence, and the inbox's list
(see :mod:`responso_chat.conversation.websocket` for the loop every socket shares)."""

from __future__ import annotations

import time

from responso_chat.conversation import access, availability, messages, presence, sessions, wire
from responso_chat.conversation.websocket import CLOSE_FORBIDDEN, Connection, Refused
from responso_chat.infra.broker import (
    ACCESS_CHANNEL,
    INBOX_CHANNEL,
    agent_channel,
    agent_ticket_channel,
    ticket_channel,
)
from responso_chat.schemas.common import parse_count
from responso_chat.users import agent_by_id, as_agent, is_agent, load_user

VISIBILITY_SECONDS = 30  # how long an agent's list of visible chats is trusted


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
        self.listen(agent_channel(self.user_id))  # tickets transferred to this agent
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
        self.send(wire.unsubscribed(ticket_id, "no_access"))

    def _subscribed_ticket(self, data: dict):
        ticket_id = parse_count(data.get("ticket_id"))
        if ticket_id in self.tickets:
            ticket = self.ticket(ticket_id)
            if ticket is not None and access.can_see_ticket(self.user, ticket):
                return ticket
            self.drop_ticket(ticket_id)
            return None
        self.send(wire.error("not_subscribed", ticket_id=data.get("ticket_id")))
        return None

    def on_subscribe(self, data: dict) -> None:
        """Follow a ticket the agent may see, caught up from ``after``."""
        ticket_id, after = parse_count(data.get("ticket_id")), parse_count(data.get("after", 0))
        ticket = self.ticket(ticket_id) if ticket_id is not None else None
        if ticket is None or after is None or not access.can_see_ticket(self.user, ticket):
            self.send(wire.error("not_found", ticket_id=data.get("ticket_id")))
            return
        self.tickets.add(ticket_id)
        self.listen(ticket_channel(ticket_id))
        self.listen(agent_ticket_channel(ticket_id))
        self.sent_seq[ticket_id] = after
        self.send(wire.subscribed(ticket_id, ticket.status))
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
            self.send(wire.presence(ticket_id, online))
            last_online = online
        if agents is not None and agents != last_agents:
            self.send(wire.viewers(ticket_id, agents))
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
            self.send(wire.inbox("resync"))

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
        if kind == "transferred":  # published on this agent's own channel only
            self.send(event)
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
