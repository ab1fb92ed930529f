"""Who is connected to a conversation right now, across every server process.

Each open socket is one member of a presence key in the broker (Redis when configured):
the customer's widget tabs of a ticket, and the agents who have the ticket open. Sockets
refresh their membership with their heartbeat, so the members of a process that died expire
after :data:`TTL` seconds.

Presence events go to the ticket's agents-only channel. They are nudges, like pushed messages:
an agent's socket that receives one reads the current state from the broker and tells its
client only what changed (so events that cross, or a Redis that was away, cannot leave a
stale state behind).

Their formats are :func:`.wire.presence` and :func:`.wire.viewers`.

Socket slots count the customer sockets open at once per conversation and per client address
the same way (members that expire unless refreshed), so a cap holds across processes.
"""

from __future__ import annotations

import json

from responso_chat.conversation import wire
from responso_chat.infra.broker import agent_ticket_channel
from responso_chat.state import plugin_state

#: Seconds a member stays present without a heartbeat (sockets beat every 25 s).
TTL = 60


def _customer_key(ticket_id: int) -> str:
    return f"ticket:{ticket_id}:customer"


def _agents_key(ticket_id: int) -> str:
    return f"ticket:{ticket_id}:agents"


def _agent_member(connection_id: str, agent_id: str, name: str) -> str:
    return json.dumps([connection_id, str(agent_id), name])


def _publish(ticket_id: int, event: dict) -> None:
    plugin_state().broker.publish(agent_ticket_channel(ticket_id), event)


def customer_here(ticket_id: int, connection_id: str) -> None:
    """A customer's socket is open (or still open): the first one announces the customer."""
    result = plugin_state().broker.join(_customer_key(ticket_id), connection_id, TTL)
    if result is not None and result == (True, 1):
        _publish(ticket_id, wire.presence(ticket_id, True))


def customer_gone(ticket_id: int, connection_id: str) -> None:
    """A customer's socket closed: the last one announces the customer left."""
    result = plugin_state().broker.leave(_customer_key(ticket_id), connection_id)
    if result is not None and result == (True, 0):
        _publish(ticket_id, wire.presence(ticket_id, False))


def customer_online(ticket_id: int) -> bool | None:
    """Whether the customer has the conversation open anywhere (``None``: unknown now)."""
    members = plugin_state().broker.members(_customer_key(ticket_id))
    return None if members is None else bool(members)


def agent_here(ticket_id: int, connection_id: str, agent_id: str, name: str) -> None:
    """An agent's socket follows the ticket (or still does); a newcomer is announced."""
    member = _agent_member(connection_id, agent_id, name)
    result = plugin_state().broker.join(_agents_key(ticket_id), member, TTL)
    if result is not None and result[0]:
        _publish_viewers(ticket_id)


def agent_gone(ticket_id: int, connection_id: str, agent_id: str, name: str) -> None:
    """An agent's socket stopped following the ticket."""
    member = _agent_member(connection_id, agent_id, name)
    result = plugin_state().broker.leave(_agents_key(ticket_id), member)
    if result is not None and result[0]:
        _publish_viewers(ticket_id)


def _publish_viewers(ticket_id: int) -> None:
    agents = viewers(ticket_id)
    if agents is not None:
        _publish(ticket_id, wire.viewers(ticket_id, agents))


def viewers(ticket_id: int) -> list[dict] | None:
    """The agents who have the ticket open, each once, by name (``None``: unknown now)."""
    members = plugin_state().broker.members(_agents_key(ticket_id))
    if members is None:
        return None
    agents = {}
    for member in members:
        _connection, agent_id, name = json.loads(member)
        agents[agent_id] = name
    return [{"id": agent_id, "name": name} for agent_id, name in sorted(
        agents.items(), key=lambda item: item[1].lower())]


def _slot_key(key: str) -> str:
    return f"sockets:{key}"


def take_socket_slot(key: str, connection_id: str, cap: int) -> bool:
    """Count socket ``connection_id`` under ``key``; False when that makes more than ``cap``
    sockets (the caller closes it, and releases the slot). An unknown count (Redis away)
    passes: a broken Redis must not close every chat."""
    result = plugin_state().broker.join(_slot_key(key), connection_id, TTL)
    return result is None or result[1] <= cap


def refresh_socket_slot(key: str, connection_id: str) -> None:
    """Keep the slot of a socket still open (its heartbeat)."""
    plugin_state().broker.join(_slot_key(key), connection_id, TTL)


def release_socket_slot(key: str, connection_id: str) -> None:
    """Free the slot of a socket that closed."""
    plugin_state().broker.leave(_slot_key(key), connection_id)
