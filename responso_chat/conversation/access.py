"""Who may see what: the one place that decides an agent's access to chats and tickets."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.models import ChatAgent, Ticket
from responso_chat.state import plugin_state
from responso_chat.users import is_admin


def visible_chat_ids(user) -> set[int] | None:
    """Ids of the chats whose tickets ``user`` may see, or None when they may see every chat."""
    if is_admin(user):
        return None
    state = plugin_state()
    user_id = str(user.get_id())

    def read() -> frozenset[int]:
        rows = state.db.session.execute(
            sa.select(ChatAgent.chat_id).where(ChatAgent.user_id == user_id)
        )
        return frozenset(chat_id for (chat_id,) in rows)

    return set(state.per_transaction(("visible_chats", user_id), read))


def ticket_visibility_clause(user):
    """A WHERE clause limiting tickets to those ``user`` may see (``true()`` for admins).

    Tickets of a deleted chat (``chat_id`` NULL) stay visible to admins only; tickets of the
    e-mail channel (the shop's one mailbox, no chat) to every agent.
    """
    chat_ids = visible_chat_ids(user)
    if chat_ids is None:
        return sa.true()
    by_chat = Ticket.chat_id.in_(chat_ids) if chat_ids else sa.false()
    return sa.or_(by_chat, Ticket.channel == "email")


def can_see_ticket(user, ticket) -> bool:
    """Whether ``user`` may open ``ticket``."""
    chat_ids = visible_chat_ids(user)
    return chat_ids is None or ticket.chat_id in chat_ids or ticket.channel == "email"
