"""Chat channels: listing, creating, changing and deleting them, and what the widget may know.

``create_chat`` and ``update_chat`` take :class:`responso_chat.schemas.chat_form.ChatSchema`
input (the chat form's shape, see :func:`~responso_chat.schemas.chat_form.chat_form_input`),
validate it and raise
``marshmallow.ValidationError`` with every field's messages; nothing is saved then.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from types import SimpleNamespace

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from responso_chat.conversation import availability, proactive, wire
from responso_chat.conversation.visibility import WEEKDAYS, hours_today, opening_state
from responso_chat.infra.broker import ACCESS_CHANNEL
from responso_chat.models import Chat, ChatAgent, RefusedOrigin, Ticket, utcnow
from responso_chat.schemas.chat_form import ChatSchema, chat_form_values
from responso_chat.schemas.widget import start_chat_limits
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id, list_agents
from responso_chat.vocab import UNFINISHED_STATUSES

NAME_TAKEN = "Another chat already has this name."

#: Opening hours a new chat starts with: weekdays 9 to 17, closed at the weekend.
DEFAULT_OPENING_HOURS = {
    day: ([["09:00", "17:00"]] if day not in ("sat", "sun") else []) for day in WEEKDAYS
}


def chat_list_rows(now=None) -> list[dict]:
    """Every chat with what the chat list shows: agents, today's hours, open tickets."""
    state = plugin_state()
    now = now or utcnow()
    open_counts = dict(
        state.db.session.execute(
            sa.select(Ticket.chat_id, sa.func.count())
            .where(Ticket.status.in_(UNFINISHED_STATUSES))
            .group_by(Ticket.chat_id)
        ).all()
    )
    agents = agents_by_id()
    chats = state.db.session.execute(
        sa.select(Chat).order_by(Chat.name).options(selectinload(Chat.agent_rows))
    ).scalars()
    return [
        {
            "chat": chat,
            "open_tickets": open_counts.get(chat.id, 0),
            "agents": [agents[i].name if i in agents else f"User {i}" for i in chat.agent_ids],
            "hours_today": hours_today(chat, now),
            "open_now": opening_state(chat, now)[0],
        }
        for chat in chats
    ]


def get_chat(chat_id: int):
    """The chat with this id and its agents, or None."""
    state = plugin_state()
    return state.db.session.get(Chat, chat_id, options=[selectinload(Chat.agent_rows)])


def get_by_public_key(key: str):
    """The enabled chat whose embed code carries ``key``, or None."""
    state = plugin_state()
    return state.db.session.execute(
        sa.select(Chat).where(Chat.public_key == key, Chat.enabled.is_(True))
    ).scalar_one_or_none()


def new_chat_values() -> dict:
    """What the Create form shows first: a new chat's default settings, in the form's shape."""
    state = plugin_state()
    return chat_form_values(
        SimpleNamespace(
            name="",
            welcome_message="Hi! How can we help you today?",
            alignment="right",
            vertical_spacing=25,
            path_rule_type="blacklist",
            paths=[],
            agent_ids=[],
            opening_hours=DEFAULT_OPENING_HOURS,
            timezone=state.setting("DEFAULT_TIMEZONE"),
            out_of_hours_behaviour="show_message",
            out_of_hours_message="We are offline right now. Leave a message and we will "
            "reply as soon as we are back.",
            enabled=True,
            closed_without_agents=False,
            color="#2563eb",
            language=state.setting("DEFAULT_LANGUAGE"),
            allowed_origins=[],
        )
    )


def _validated(data: dict, chat=None) -> dict:
    """Chat settings from ``data`` once valid (ValidationError with every field's messages)."""
    errors: dict = {}
    try:
        values = ChatSchema(agent_ids=[agent.id for agent in list_agents()]).load(data)
    except ValidationError as exc:
        errors, values = exc.messages, None
    name = values["name"] if values else str(data.get("name") or "").strip()
    if "name" not in errors and _name_taken(name, chat):
        errors["name"] = [NAME_TAKEN]
    if errors:
        raise ValidationError(errors)
    return values


def _name_taken(name: str, chat=None) -> bool:
    state = plugin_state()
    query = sa.select(Chat.id).where(sa.func.lower(Chat.name) == name.lower())
    if chat is not None:
        query = query.where(Chat.id != chat.id)
    return state.db.session.execute(query.limit(1)).first() is not None


def _save(chat, values: dict):
    """Set ``values`` on ``chat``, its agents included, and commit."""
    state = plugin_state()
    agent_ids = values.pop("agent_ids")
    for field, value in values.items():
        setattr(chat, field, value)
    kept = [row for row in chat.agent_rows if row.user_id in agent_ids]
    known = {row.user_id for row in kept}
    chat.agent_rows = kept + [
        ChatAgent(user_id=agent_id) for agent_id in agent_ids if agent_id not in known
    ]
    state.db.session.add(chat)
    try:
        state.db.session.commit()
    except sa.exc.IntegrityError:  # another admin saved the same name meanwhile
        state.db.session.rollback()
        raise ValidationError({"name": [NAME_TAKEN]}) from None
    _announce_access_change()
    return chat


def _announce_access_change() -> None:
    """Tell open agent sockets that who may see a chat may have changed: they check now."""
    plugin_state().broker.publish(ACCESS_CHANNEL, wire.access(None))


def create_chat(data: dict):
    """Validate ``data`` (ChatSchema input) and create the chat; returns it."""
    values = _validated(data)
    return _save(Chat(), values)


def update_chat(chat, data: dict):
    """Validate ``data`` (ChatSchema input) and change ``chat``'s settings; returns it."""
    values = _validated(data, chat)
    return _save(chat, values)


def ticket_count(chat) -> int:
    """How many tickets came from ``chat`` (they stay when it is deleted)."""
    state = plugin_state()
    return state.db.session.execute(
        sa.select(sa.func.count()).select_from(Ticket).where(Ticket.chat_id == chat.id)
    ).scalar_one()


def delete_chat(chat) -> None:
    """Delete a chat; its tickets stay, keeping the chat's name (``chat_name``), unlinked."""
    state = plugin_state()
    state.db.session.execute(
        sa.update(Ticket)
        .where(Ticket.chat_id == chat.id)
        .values(chat_id=None)
        .execution_options(synchronize_session="fetch")
    )
    # its refused websites too (a SQLite without foreign keys would keep them)
    state.db.session.execute(sa.delete(RefusedOrigin).where(RefusedOrigin.chat_id == chat.id))
    state.db.session.delete(chat)
    state.db.session.commit()
    _announce_access_change()


def open_state(chat, now, online=None) -> tuple[bool, datetime | None]:
    """``(open_now, next_change_at)`` as the widget sees it: the opening hours (see
    :func:`.visibility.opening_state`), and closed while no agent is online when the chat
    says so (``online``: its online agents, when the caller has them)."""
    open_now, next_change_at = opening_state(chat, now)
    if open_now and chat.closed_without_agents:
        if online is None:
            online = availability.online_agents(chat.id)
        open_now = bool(online)
    return open_now, next_change_at


def public_config(chat, now) -> dict:
    """What the widget loader may know of ``chat`` at ``now``: its public settings only, plus
    whether it is open and when that next changes (ISO 8601, or None), the longest text
    each field of the pre-chat form and the composer takes (``limits``), who is there
    (first names and initials of the online agents) and the usual reply time in minutes."""
    online = availability.online_agents(chat.id)
    open_now, next_change_at = open_state(chat, now, online)
    return {
        "agents_online": [availability.public_name(agent.name) for agent in online],
        "reply_minutes": availability.usual_reply_minutes(chat.id),
        "name": chat.name,
        "welcome_message": chat.welcome_message,
        "alignment": chat.alignment,
        "vertical_spacing": chat.vertical_spacing,
        "path_rule_type": chat.path_rule_type,
        "paths": list(chat.paths),
        "out_of_hours_behaviour": chat.out_of_hours_behaviour,
        "out_of_hours_message": chat.out_of_hours_message,
        "language": chat.language,
        "color": chat.color,
        "open_now": open_now,
        "next_change_at": next_change_at.isoformat() if next_change_at else None,
        "limits": start_chat_limits(),
        "proactive": proactive.for_widget(chat.id),
        "proactive_per_day": plugin_state().setting("PROACTIVE_PER_DAY"),
    }


def embed_snippet(chat, base_url: str) -> str:
    """The one-tag embed code a shop pastes before ``</body>``; ``base_url`` is the site's
    root URL (e.g. ``request.url_root``)."""
    prefix = plugin_state().setting("URL_PREFIX")
    src = f"{base_url.rstrip('/')}{prefix}/widget/{chat.public_key}/loader.js"
    return f'<script src="{escape(src)}" async></script>'
