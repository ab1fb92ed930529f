"""Job functions the job tests enqueue by dotted path (jobs take ids, never objects)."""

from __future__ import annotations

from responso_chat.models import Chat
from responso_chat.state import plugin_state


def rename_chat(chat_id: int, name: str) -> str:
    """Rename a chat inside the job's app context, proving the context and db work."""
    state = plugin_state()
    chat = state.db.session.get(Chat, chat_id)
    chat.name = name
    state.db.session.commit()
    return name
