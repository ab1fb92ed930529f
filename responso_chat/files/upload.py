"""Messages sent with files, by a customer or an agent: one request, one message.

The files are examined and stored first, then the message and its attachment rows commit
together (:mod:`responso_chat.conversation.messages`); if the message is not written (an
error, or a resend of a message already stored) the bytes stored for it are removed again,
so nothing is ever half-written. An error after the commit (a listener of the new message
failing) keeps them: the message that names them is written.
"""

from __future__ import annotations

from responso_chat.conversation import messages
from responso_chat.files import attachments
from responso_chat.state import plugin_state


def _send(ticket, uploads, post):
    """Examine and store ``uploads``, then ``post(new_files)``; returns what it returns with
    whether the message was created (``post`` returns ``(message, created)``)."""
    stored = attachments.store(ticket.id, attachments.examine_uploads(uploads))
    try:
        message, created = post(stored)
    except BaseException:
        plugin_state().db.session.rollback()
        attachments.discard(stored)
        raise
    if not created:
        attachments.discard(stored)
        attachments.describe_messages([message])
    return message, created


def post_customer_files(ticket, uploads, body: str = "", client_msg_id: str | None = None):
    """The customer's message carrying ``uploads``; ``(message, created)`` as
    :func:`~responso_chat.conversation.messages.post_customer_message`. Raises
    :class:`~responso_chat.files.images.FileRefused` (nothing stored) and what that raises."""

    def post(stored):
        return messages.post_customer_message(
            ticket, body, client_msg_id,
            files=attachments.NewFiles(stored, "customer", None),
        )

    return _send(ticket, uploads, post)


def post_agent_files(ticket, agent, uploads, body: str = "", *, client_msg_id=None,
                     internal: bool = False, reopen: bool = False):
    """An agent's reply (or note) carrying ``uploads``; ``(message, created)``. Raises
    :class:`~responso_chat.files.images.FileRefused` and what ``post_agent_message`` raises
    (``ReopenRequired``), the stored bytes removed again."""

    def post(stored):
        message = messages.post_agent_message(
            ticket, agent.id, agent.name, body, client_msg_id=client_msg_id,
            internal=internal, reopen=reopen,
            files=attachments.NewFiles(stored, "agent", agent.id),
        )
        return message, message.created

    return _send(ticket, uploads, post)
