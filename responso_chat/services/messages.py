"""Messages of a conversation: numbering, idempotent posting, catch-up by sequence number.

A message is committed before it is published; clients that missed the push catch up with
:func:`messages_after`.
"""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat import current_chat
from responso_chat.models import utcnow
from responso_chat.realtime import INBOX_CHANNEL, ticket_channel


def message_event(message) -> dict:
    """The JSON-ready form of a message sent to browsers."""
    return {
        "type": "message",
        "ticket_id": message.ticket_id,
        "seq": message.seq,
        "author_kind": message.author_kind,
        "author_name": message.author_name,
        "body": message.body,
        "internal": message.internal,
        "client_msg_id": message.client_msg_id,
        "created_at": message.created_at.isoformat(),
    }


def add_message(
    ticket,
    *,
    author_kind: str,
    body: str,
    author_id: str | None = None,
    author_name: str = "",
    internal: bool = False,
    client_msg_id: str | None = None,
):
    """Add a message to ``ticket`` in the current transaction, numbered after the last one.

    The sequence number is taken with an ``UPDATE ... RETURNING`` on the ticket row, which
    also locks it on PostgreSQL until commit, so concurrent sends never share a number.
    """
    state = current_chat()
    Ticket, Message = state.models.Ticket, state.models.Message
    now = utcnow()
    values = {"last_seq": Ticket.last_seq + 1}
    if not internal:
        values.update(last_message_at=now, last_sender=author_kind)
    seq = state.db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(**values)
        .returning(Ticket.last_seq)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    message = Message(
        ticket_id=ticket.id,
        seq=seq,
        author_kind=author_kind,
        author_id=author_id,
        author_name=author_name,
        body=body,
        internal=internal,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    state.db.session.add(message)
    state.db.session.flush()
    state.db.session.refresh(ticket)
    return message


def find_by_client_id(ticket_id: int, client_msg_id: str | None):
    """The message already stored under this client message id, if any (idempotent sends)."""
    if not client_msg_id:
        return None
    state = current_chat()
    Message = state.models.Message
    return state.db.session.execute(
        sa.select(Message).where(
            Message.ticket_id == ticket_id, Message.client_msg_id == client_msg_id
        )
    ).scalar_one_or_none()


def messages_after(ticket_id: int, after_seq: int = 0, include_internal: bool = False) -> list:
    """Messages of a ticket with a sequence number above ``after_seq``, in order."""
    state = current_chat()
    Message = state.models.Message
    query = sa.select(Message).where(Message.ticket_id == ticket_id, Message.seq > after_seq)
    if not include_internal:
        query = query.where(Message.internal.is_(False))
    return list(state.db.session.execute(query.order_by(Message.seq)).scalars())


def publish_messages(messages) -> None:
    """Push committed messages to the conversation's listeners and the inbox."""
    broker = current_chat().broker
    for message in messages:
        event = message_event(message)
        broker.publish(ticket_channel(message.ticket_id), event)
        broker.publish(INBOX_CHANNEL, {"type": "ticket_activity", "ticket_id": message.ticket_id})
