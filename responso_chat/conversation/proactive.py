"""Proactive greetings: the admin's list per chat, what the widget gets in the chat's config,
and the counts the widget's beacons and Start chat keep (shown, opened, chats started)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from responso_chat.models import ProactiveMessage
from responso_chat.state import plugin_state
from responso_chat.users import agent_by_id

#: The counts a beacon may add to, by the word in its URL.
BEACON_COUNTS = {"shown": "shown_count", "opened": "opened_count"}
#: Greetings one chat may have (the widget gets every enabled one with its config).
MAX_PER_CHAT = 20


def list_for_chat(chat_id: int) -> list[ProactiveMessage]:
    """The chat's greetings, oldest first."""
    return list(plugin_state().db.session.execute(
        sa.select(ProactiveMessage).where(ProactiveMessage.chat_id == chat_id)
        .order_by(ProactiveMessage.id)
    ).scalars())


def get(chat_id: int, proactive_id: int) -> ProactiveMessage | None:
    """The chat's greeting ``proactive_id``, or None (another chat's is None too)."""
    found = plugin_state().db.session.get(ProactiveMessage, proactive_id)
    return found if found is not None and found.chat_id == chat_id else None


@dataclass(frozen=True)
class Opening:
    """A greeting as the first message of the chat a customer started from it."""

    text: str
    sender_id: str
    sender_name: str


def opening(chat_id: int, proactive_id: int | None) -> Opening | None:
    """The chat's greeting ``proactive_id`` as the opening of the chat started from it, or
    None (none given, another chat's, or its sender is no longer an agent)."""
    greeting = get(chat_id, proactive_id) if proactive_id is not None else None
    name = sender_name(greeting) if greeting is not None else None
    return Opening(greeting.text, greeting.sender_id, name) if name else None


def sender_name(greeting) -> str | None:
    """The display name of the greeting's sender (never an e-mail), None if not an agent."""
    agent = agent_by_id(greeting.sender_id)
    return agent.name if agent else None


def for_widget(chat_id: int) -> list[dict] | None:
    """The enabled greetings as the widget's config carries them, or None when there is none
    or the shop shows none (``PROACTIVE_PER_DAY`` 0): the loader then never loads the lazy
    part for them."""
    if plugin_state().setting("PROACTIVE_PER_DAY") == 0:
        return None
    greetings = plugin_state().db.session.execute(
        sa.select(ProactiveMessage).where(
            ProactiveMessage.chat_id == chat_id, ProactiveMessage.enabled.is_(True)
        ).order_by(ProactiveMessage.id)
    ).scalars()
    items = []
    for greeting in greetings:
        sender = sender_name(greeting)
        if sender is None:
            continue
        items.append({
            "id": greeting.id,
            "path": greeting.path,
            "delay": greeting.delay_seconds,
            "min_cart": None if greeting.min_cart_value is None
            else f"{greeting.min_cart_value:.2f}",
            "event": greeting.event,
            "text": greeting.text,
            "sender": sender,
        })
    return items or None


def save(chat_id: int, values: dict, greeting=None) -> ProactiveMessage:
    """Create (``greeting`` None) or change a greeting from a validated form."""
    session = plugin_state().db.session
    if greeting is None:
        greeting = ProactiveMessage(chat_id=chat_id)
        session.add(greeting)
    for name in ("path", "delay_seconds", "min_cart_value", "event", "text", "sender_id",
                 "enabled"):
        setattr(greeting, name, values[name])
    session.commit()
    return greeting


def set_enabled(greeting, enabled: bool) -> None:
    """Turn the greeting on or off."""
    greeting.enabled = enabled
    plugin_state().db.session.commit()


def delete(greeting) -> None:
    """Delete the greeting and its counts."""
    session = plugin_state().db.session
    session.delete(greeting)
    session.commit()


def count(chat_id: int, proactive_id: int, what: str) -> bool:
    """Add one to the greeting's ``what`` count (a beacon of the widget); False when the chat
    has no such greeting. One UPDATE: concurrent beacons never lose a count."""
    column = BEACON_COUNTS[what]
    session = plugin_state().db.session
    done = session.execute(
        sa.update(ProactiveMessage)
        .where(ProactiveMessage.id == proactive_id, ProactiveMessage.chat_id == chat_id)
        .values({column: getattr(ProactiveMessage, column) + 1})
    ).rowcount
    session.commit()
    return bool(done)
