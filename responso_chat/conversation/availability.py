"""Agents' availability: online, away or offline, and what the widget says about it.

An agent sets their availability in the inbox (:func:`set_availability`; no choice yet means
online). Online counts only while one of their inbox pages is open: each agent socket is a
member of a presence key in the broker (:func:`agent_connected`), refreshed by its heartbeat
and gone with it, across every server process, as :mod:`.presence` does for tickets.

A chat may behave as out of hours while none of its agents is online
(``Chat.closed_without_agents``). Its widget shows who is there, by first name and initials,
never an e-mail address, and how soon the chat usually answers (:func:`usual_reply_minutes`,
the median first reply of its recent tickets, kept a few minutes per chat).
"""

from __future__ import annotations

import json
import statistics
from datetime import timedelta

import sqlalchemy as sa

from responso_chat.conversation.presence import TTL
from responso_chat.models import AgentAvailability, ChatAgent, Message, Ticket, utcnow
from responso_chat.state import ExpiringValue, plugin_state
from responso_chat.users import agents_by_id
from responso_chat.vocab import AGENT_AVAILABILITY

#: The broker's presence key of the open agent sockets.
CONNECTED_KEY = "agents:connected"
#: Recent tickets whose first reply makes a chat's usual reply time, and how long it is kept.
REPLY_TIME_WINDOW = timedelta(days=30)
REPLY_TIME_TICKETS = 200
REPLY_TIME_SECONDS = 600


def agent_connected(connection_id: str, agent_id: str) -> None:
    """An agent's inbox socket is open (or still open: its heartbeat)."""
    plugin_state().broker.join(CONNECTED_KEY, json.dumps([connection_id, str(agent_id)]), TTL)


def agent_disconnected(connection_id: str, agent_id: str) -> None:
    """An agent's inbox socket closed."""
    plugin_state().broker.leave(CONNECTED_KEY, json.dumps([connection_id, str(agent_id)]))


def connected_agent_ids() -> set[str]:
    """Ids of the agents with an inbox page open anywhere (none when the broker cannot say)."""
    members = plugin_state().broker.members(CONNECTED_KEY) or []
    return {json.loads(member)[1] for member in members}


def chosen(agent_id) -> str:
    """The availability the agent set (online when they never did)."""
    row = plugin_state().db.session.get(AgentAvailability, str(agent_id))
    return row.status if row is not None else "online"


def set_availability(agent_id, status: str) -> None:
    """Store the agent's availability (one of :data:`AGENT_AVAILABILITY`); commits."""
    if status not in AGENT_AVAILABILITY:
        raise ValueError(f"unknown availability {status!r}")
    session = plugin_state().db.session
    row = session.get(AgentAvailability, str(agent_id))
    if row is None:
        session.add(AgentAvailability(user_id=str(agent_id), status=status))
    else:
        row.status = status
    session.commit()


def online_agents(chat_id: int) -> list:
    """The agents with access to the chat who are online now: an inbox page open, and not
    set away or offline (:class:`responso_chat.users.Agent`, by name)."""
    here = connected_agent_ids()
    if not here:
        return []
    session = plugin_state().db.session
    ids = set(session.execute(
        sa.select(ChatAgent.user_id).where(ChatAgent.chat_id == chat_id,
                                           ChatAgent.user_id.in_(here))
    ).scalars())
    if ids:
        ids -= set(session.execute(
            sa.select(AgentAvailability.user_id).where(
                AgentAvailability.user_id.in_(ids), AgentAvailability.status != "online")
        ).scalars())
    known = agents_by_id()
    return sorted((known[i] for i in ids if i in known), key=lambda agent: agent.name)


def public_name(name: str) -> dict:
    """How the widget names an agent: the first name and the initials, never an e-mail (an
    agent known only by an e-mail address gets its initial alone)."""
    words = [word for word in (name or "").split() if word]
    if not words or "@" in name:
        initial = (name or "?").strip()[:1].upper() or "?"
        return {"name": "", "initials": initial}
    return {"name": words[0], "initials": "".join(word[0] for word in words[:2]).upper()}


def usual_reply_minutes(chat_id: int) -> int | None:
    """The chat's usual time to a first reply, in whole minutes (at least 1): the median over
    its recent tickets an agent answered; None without any. Kept a few minutes per chat."""
    state = plugin_state()
    held = state.reply_times.setdefault(chat_id, ExpiringValue(REPLY_TIME_SECONDS))
    return held.get(lambda: (_median_first_reply(chat_id),))[0]


def _median_first_reply(chat_id: int) -> int | None:
    first_reply = (
        sa.select(sa.func.min(Message.created_at))
        .where(Message.ticket_id == Ticket.id, Message.author_kind == "agent",
               Message.internal.is_(False))
        .scalar_subquery()
    )
    rows = plugin_state().db.session.execute(
        sa.select(Ticket.created_at, first_reply)
        .where(Ticket.chat_id == chat_id, Ticket.created_at >= utcnow() - REPLY_TIME_WINDOW)
        .order_by(Ticket.created_at.desc())
        .limit(REPLY_TIME_TICKETS)
    ).all()
    waits = [(reply - created).total_seconds() for created, reply in rows if reply is not None]
    if not waits:
        return None
    return max(1, round(statistics.median(waits) / 60))


def widget_presence(chat) -> dict:
    """What the widget's config says about the chat's agents: who is online (first names and
    initials) and the usual reply time in minutes (or None)."""
    return {
        "agents_online": [public_name(agent.name) for agent in online_agents(chat.id)],
        "reply_minutes": usual_reply_minutes(chat.id),
    }
