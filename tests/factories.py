"""Small builders for test data, reading like a person's steps."""

from __future__ import annotations

from responso_chat.conversation.tickets import open_chat_ticket
from responso_chat.models import Chat, ChatAgent
from responso_chat.state import plugin_state

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in WEEKDAYS}


def make_chat(name: str = "Store chat", agent_ids=("2",), **fields):
    """A saved chat, open all week, with access for the given agent ids (default: Alice)."""
    state = plugin_state()
    values = {
        "name": name,
        "welcome_message": "Hello! How can we help?",
        "opening_hours": ALWAYS_OPEN,
        "out_of_hours_message": "We are closed.",
    }
    values.update(fields)
    chat = Chat(**values)
    chat.agent_rows = [ChatAgent(user_id=str(agent_id)) for agent_id in agent_ids]
    state.db.session.add(chat)
    state.db.session.commit()
    return chat


def make_ticket(chat, subject: str = "Where is my order?", **fields):
    """A chat ticket opened by a customer, with its first message."""
    values = {
        "name": "Zoe Customer",
        "email": "zoe@example.com",
        "subject": subject,
        "message": "Hello, my parcel has not arrived.",
    }
    values.update(fields)
    return open_chat_ticket(chat, **values)
