"""Received e-mail: put on its ticket, or opening a ticket in the e-mail channel.

:func:`receive` takes one raw mail, from the IMAP poll (:func:`poll_mailbox`) or from the
demo's "reply as the customer" form: the same path. A mail is matched to its ticket by the
signed reply address it was sent to, else by the ``Message-ID`` values it answers
(``In-Reply-To`` / ``References``) among the mails the plugin sent or received; a forged
address matches nothing. A mail that matches no ticket opens one in the e-mail channel. Its
``Message-ID`` is stored in the same transaction as its message, unique, so a mail fetched
twice is put on its ticket once. Mail sent by machines is never answered nor posted; a mail
over ``RESPONSO_CHAT_MAIL_MAX_SIZE`` is not read (a system line on its ticket says so).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from responso_chat import signals
from responso_chat.conversation import events
from responso_chat.conversation import messages as conversation
from responso_chat.conversation.analysis import publish_analysis
from responso_chat.infra import outbox
from responso_chat.mail import parsing, signing
from responso_chat.models import MailRecord, Ticket, utcnow
from responso_chat.state import plugin_state
from responso_chat.vocab import TICKET_CHANNEL_LABELS

log = logging.getLogger(__name__)

#: What :func:`receive` did with a mail.
POSTED, OPENED, DUPLICATE, AUTOMATED, TOO_LARGE, UNREADABLE = (
    "posted", "opened", "duplicate", "automated", "too_large", "unreadable")
EMAIL_CHAT_NAME = TICKET_CHANNEL_LABELS["email"]


@dataclass(frozen=True)
class Received:
    """The outcome of one received mail, and the ticket it went to (if any)."""

    outcome: str
    ticket_id: int | None = None


def _session():
    return plugin_state().db.session


def find_ticket(mail) -> Ticket | None:
    """The ticket a mail answers: by its signed reply address, else by the mails it names."""
    session = _session()
    for address in parsing.recipients(mail):
        ticket_id = signing.ticket_of_address(address)
        if ticket_id is not None:
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None:
                return ticket
    ids = parsing.referenced_ids(mail)
    if not ids:
        return None
    ticket_id = session.scalar(
        sa.select(MailRecord.ticket_id)
        .where(MailRecord.message_id.in_(ids), MailRecord.ticket_id.is_not(None))
        .order_by(MailRecord.id.desc())
        .limit(1)
    )
    return session.get(Ticket, ticket_id) if ticket_id is not None else None


def _known(message_id: str) -> bool:
    return bool(_session().scalar(
        sa.select(sa.exists().where(MailRecord.message_id == message_id))))


def _record(mail, message_id: str, address: str, state: str, ticket_id=None) -> MailRecord:
    record = MailRecord(
        ticket_id=ticket_id, kind="reply", state=state, message_id=message_id,
        address=address[:254], subject=parsing.header(mail, "Subject")[:300], raw="",
        attempts=0, error="", created_at=utcnow(), done_at=utcnow(),
    )
    _session().add(record)
    return record


def _body(mail) -> str:
    limit = int(plugin_state().setting("MAX_MESSAGE_LENGTH"))
    text = parsing.strip_reply(parsing.body_text(mail)) or "(empty e-mail)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def receive(raw: bytes) -> Received:
    """Put one received mail on its ticket (or open one); commits, then publishes."""
    state = plugin_state()
    limit = int(state.setting("MAIL_MAX_SIZE"))
    too_large = len(raw) > limit
    mail = parsing.parse(raw if not too_large else raw[:65536].split(b"\r\n\r\n", 1)[0])
    message_id = parsing.message_id(mail, raw[:65536] if too_large else raw)
    if _known(message_id):
        return Received(DUPLICATE)
    name, address = parsing.sender(mail)
    if not address:
        _record(mail, message_id, "", "ignored")
        return _commit_ignored(UNREADABLE)
    if parsing.is_automated(mail):
        _record(mail, message_id, address, "ignored")
        return _commit_ignored(AUTOMATED)
    ticket = find_ticket(mail)
    if too_large:
        return _refuse_large(mail, message_id, address, ticket, len(raw))
    if ticket is None:
        return _open_ticket(mail, message_id, name, address)
    return _post(ticket, mail, message_id, address)


def _commit_ignored(outcome: str, ticket_id=None) -> Received:
    try:
        _session().commit()
    except IntegrityError:  # fetched twice at once: the other one stored it
        _session().rollback()
        return Received(DUPLICATE)
    return Received(outcome, ticket_id)


def _refuse_large(mail, message_id, address, ticket, size: int) -> Received:
    _record(mail, message_id, address, "ignored", ticket.id if ticket else None)
    line = None
    if ticket is not None:
        line = conversation.add_system_line(
            ticket, f"An e-mail from {address} was not read: it is {size // (1024 * 1024)} MB, "
            f"more than the limit of {plugin_state().setting('MAIL_MAX_SIZE') // (1024 * 1024)}"
            " MB.")
    result = _commit_ignored(TOO_LARGE, ticket.id if ticket else None)
    if line is not None and result.outcome == TOO_LARGE:
        conversation.publish_messages([line])
    return result


def _post(ticket, mail, message_id: str, address: str) -> Received:
    """The customer's answer on its ticket (a pending or ended ticket opens again)."""
    session, ticket_id, old = _session(), ticket.id, ticket.status
    body = _body(mail)
    message = conversation.add_message(
        ticket, author_kind="customer", body=body, author_name=ticket.customer_name,
        analysis=conversation.classify(ticket, body), reopen=old != "open", source="email",
    )
    lines = [message]
    if address != ticket.customer_email.strip().lower():
        lines.append(conversation.add_system_line(
            ticket, f"This e-mail came from {address}, not from the ticket's address "
            f"{ticket.customer_email}: its sender is unverified."))
    _record(mail, message_id, address, "received", ticket_id)
    events.message_created(ticket_id, message.id, "customer")
    if old != "open":
        events.status_changed(ticket_id, old, "open", None, message.id)
    published = conversation.announcements(lines)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return Received(DUPLICATE)
    conversation.publish(published)
    publish_analysis(message)
    conversation.signal_message(ticket_id, message.id, "customer", old, old != "open", None)
    return Received(POSTED, ticket_id)


def _open_ticket(mail, message_id: str, name: str, address: str) -> Received:
    """A ticket of the e-mail channel for a mail that answers nothing we know."""
    session = _session()
    subject = " ".join(parsing.header(mail, "Subject").split())[:200] or "(no subject)"
    ticket = Ticket(
        channel="email", chat_id=None, chat_name=EMAIL_CHAT_NAME, subject=subject,
        customer_name=name or address.partition("@")[0][:100], customer_email=address,
        customer_email_verified=False, assignee_id=None,
    )
    session.add(ticket)
    session.flush()
    body = _body(mail)
    first = conversation.add_message(
        ticket, author_kind="customer", body=body, author_name=ticket.customer_name,
        analysis=conversation.classify(ticket, body), source="email",
    )
    _record(mail, message_id, address, "received", ticket.id)
    ticket_id, first_id = ticket.id, first.id
    outbox.add("responso_chat.orders.sync.sync_ticket_orders", ticket_id)
    events.ticket_created(ticket_id, first_id)
    events.message_created(ticket_id, first_id, "customer")
    published = conversation.announcements([first], inbox="created")
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return Received(DUPLICATE)
    conversation.publish(published)
    signals.send(signals.ticket_created, ticket_id=ticket_id, message_id=first_id)
    signals.send(signals.message_created, ticket_id=ticket_id, message_id=first_id,
                 author_kind="customer")
    return Received(OPENED, ticket_id)
