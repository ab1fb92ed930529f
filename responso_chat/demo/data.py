"""Demo data: the demo chat and sample conversations (``flask responso-chat seed-demo``)."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.conversation.tickets import open_chat_ticket
from responso_chat.models import Chat, ChatAgent, Ticket
from responso_chat.state import plugin_state
from responso_chat.users import list_agents

DEMO_CHAT = {
    "name": "Shop chat",
    "welcome_message": "Hi! How can we help you today?",
    "alignment": "right",
    "vertical_spacing": 25,
    "path_rule_type": "blacklist",
    "paths": ["/checkout"],
    "opening_hours": {
        "mon": [["08:00", "20:00"]],
        "tue": [["08:00", "20:00"]],
        "wed": [["08:00", "20:00"]],
        "thu": [["08:00", "20:00"]],
        "fri": [["08:00", "20:00"]],
        "sat": [["10:00", "14:00"]],
        "sun": [],
    },
    "timezone": "Europe/Warsaw",
    "out_of_hours_behaviour": "show_message",
    "out_of_hours_message": "We are offline right now. Leave a message and we will reply soon.",
    "language": "auto",
    "color": "#7c2d12",
}


def seed_demo_chat() -> str:
    """Create the demo chat (all agents have access) and two conversations; safe to rerun."""
    state = plugin_state()
    session = state.db.session
    chat = session.execute(
        sa.select(Chat).filter_by(name=DEMO_CHAT["name"])
    ).scalar_one_or_none()
    if chat is None:
        chat = Chat(**DEMO_CHAT)
        chat.agent_rows = [ChatAgent(user_id=agent.id) for agent in list_agents()]
        session.add(chat)
        session.commit()
    has_ticket = session.execute(
        sa.select(sa.func.count()).select_from(Ticket).where(
            Ticket.chat_id == chat.id
        )
    ).scalar_one()
    if not has_ticket:
        open_chat_ticket(
            chat,
            name="Anna Kowalska",
            email="anna.kowalska@example.com",
            subject="Where is my order?",
            message="Hello, I ordered the linen shirt last week and it has not arrived yet. "
            "Could you check the delivery status?",
            page_url="/products/linen-shirt",
            page_title="Linen shirt",
        )
        # Maria's orders go by every carrier the tracking links know; the shop vouched for
        # her address (a signed setCustomer), so rules may act on them.
        open_chat_ticket(
            chat,
            name="Maria Nowak",
            email="maria.nowak@example.com",
            subject="Which parcels are still on the way?",
            message="Hi! I have several parcels coming. Which of them are still on the way?",
            email_verified=True,
            page_url="/account",
            page_title="My account",
        )
    return f"Demo chat {chat.name!r} ready (public key {chat.public_key})."
