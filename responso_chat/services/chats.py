"""Chat channels: listing, creating, changing and deleting them."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat import current_chat


def chat_list_rows() -> list[dict]:
    """Every chat with the figures the chat list shows: agents and open tickets."""
    state = current_chat()
    Chat, Ticket = state.models.Chat, state.models.Ticket
    open_counts = dict(
        state.db.session.execute(
            sa.select(Ticket.chat_id, sa.func.count())
            .where(Ticket.status.in_(("open", "pending")))
            .group_by(Ticket.chat_id)
        ).all()
    )
    chats = state.db.session.execute(sa.select(Chat).order_by(Chat.name)).scalars()
    return [{"chat": chat, "open_tickets": open_counts.get(chat.id, 0)} for chat in chats]


def delete_chat(chat) -> None:
    """Delete a chat; its tickets stay, keeping the chat's name (``chat_name``), unlinked."""
    state = current_chat()
    Ticket = state.models.Ticket
    state.db.session.execute(
        sa.update(Ticket)
        .where(Ticket.chat_id == chat.id)
        .values(chat_id=None)
        .execution_options(synchronize_session="fetch")
    )
    state.db.session.delete(chat)
    state.db.session.commit()
