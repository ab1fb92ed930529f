"""Chat tickets: opening one from the widget (ticket + first message)."""

from __future__ import annotations

from responso_chat import current_chat
from responso_chat.services.messages import add_message, publish_messages


def open_chat_ticket(
    chat,
    *,
    name: str,
    email: str,
    subject: str,
    message: str,
    email_verified: bool = False,
    out_of_hours: bool = False,
    page_url: str | None = None,
    page_title: str | None = None,
    language: str | None = None,
    client_msg_id: str | None = None,
):
    """Create a chat ticket and its first customer message, commit, then publish."""
    state = current_chat()
    ticket = state.models.Ticket(
        chat_id=chat.id,
        chat_name=chat.name,
        subject=subject,
        customer_name=name,
        customer_email=email,
        customer_email_verified=email_verified,
        out_of_hours=out_of_hours,
        page_url=page_url,
        page_title=page_title,
        language=language,
    )
    state.db.session.add(ticket)
    state.db.session.flush()
    first = add_message(
        ticket,
        author_kind="customer",
        body=message,
        author_name=name,
        client_msg_id=client_msg_id,
    )
    state.db.session.commit()
    publish_messages([first])
    return ticket
