"""Erase a contact: everything the shop holds about a person, anonymised in one transaction.

What goes (found by the contact's e-mail in any case, see :mod:`.scope`):

- every message of their tickets reads ``[erased]`` (agents' replies and system lines quote
  the person too); customer messages lose their author name and client message ids; the
  classifier corrections of those messages are dropped (they would score ``[erased]``);
- their tickets lose subject, customer name and e-mail, page address and title, and their
  visitor tokens (the token version moves on); automation runs keep what acted, not the text;
- the descriptions of tasks linked to those tickets (they retell the person's case), and the
  name and address in their titles;
- the Base orders cached for the address and when they were fetched;
- the mails of those tickets or to and from the address: address, subject, body, error and
  ``Message-ID`` (a queued one is not sent);
- webhook deliveries about those tickets and jobs not run yet for them; their attachments;
- the comments of their ratings (the score stays: it is the shop's figure, not the person),
  and the one-time codes sent to the address;
- the shop's context of their tickets (cart, visited pages, tracked events);
- the contact's name, phone and notes (its address becomes :func:`.scope.erased_email`).

Each ticket gets an internal system line saying who erased it and when (never what), and the
privacy log a record with the counts. Erasing again changes nothing: :class:`AlreadyErased`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from responso_chat.conversation import messages, wire
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.infra.broker import ticket_channel
from responso_chat.models import (
    AutomationRun,
    MailRecord,
    Message,
    Order,
    OrderCode,
    OrderSync,
    PrivacyRecord,
    Task,
    Ticket,
    TicketContext,
    TicketRating,
    WebhookDelivery,
    utcnow,
)
from responso_chat.privacy import attachments, records, scope
from responso_chat.privacy.scope import ERASED_TEXT
from responso_chat.state import plugin_state


class AlreadyErased(Exception):
    """The contact's data was erased before; ``record`` is that erasure (None if the log has
    none)."""

    def __init__(self, record: PrivacyRecord | None):
        self.record = record
        when = f" on {record.created_at:%Y-%m-%d %H:%M} UTC" if record is not None else ""
        who = f" by {record.actor_name}" if record is not None and record.actor_name else ""
        super().__init__(f"This contact's data was already erased{when}{who}: nothing is left "
                         "to erase.")


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: its log record and the rows it changed, by kind."""

    record: PrivacyRecord
    counts: dict


def confirmation_matches(contact, typed: str) -> bool:
    """Whether ``typed`` is the contact's e-mail address (any case, spaces around ignored)."""
    return bool(typed) and scope.normal_email(typed) == scope.normal_email(contact.email)


def erasure_preview(contact) -> dict:
    """What erasing ``contact`` would change, by kind, for the confirmation step."""
    session = plugin_state().db.session
    email = scope.normal_email(contact.email)
    ticket_ids = scope.ticket_ids_of_email(session, email)
    count = sa.func.count()
    return {
        "tickets": len(ticket_ids),
        "messages": session.scalar(
            sa.select(count).select_from(Message).where(Message.ticket_id.in_(ticket_ids))
        ) if ticket_ids else 0,
        "orders": session.scalar(
            sa.select(count).select_from(Order).where(sa.func.lower(Order.email) == email)
        ) if email else 0,
    }


def erase_contact(contact, actor, confirmation: str) -> Erasure:
    """Erase ``contact``'s data (see the module's docstring), as ``actor`` (an Agent) who
    typed ``confirmation`` (the contact's e-mail). One commit; nothing is changed when any
    step fails. Raises :class:`AlreadyErased`, or ChangeRefused on ``confirm``."""
    if scope.is_erased(contact):
        raise AlreadyErased(records.last_erasure(contact.id))
    if not confirmation_matches(contact, confirmation):
        raise ChangeRefused(
            "confirm", "Type the contact's e-mail address exactly to confirm the erasure."
        )
    session = plugin_state().db.session
    email, name = scope.normal_email(contact.email), contact.name.strip()
    try:
        ticket_ids = scope.ticket_ids_of_email(session, email)
        counts = {"tickets": len(ticket_ids)}
        counts["messages"] = _anonymise_messages(session, ticket_ids)
        _clear_tickets(session, ticket_ids)
        counts["tasks"] = _scrub_tasks(session, ticket_ids, [email, name])
        counts["orders"] = session.execute(
            sa.delete(Order).where(sa.func.lower(Order.email) == email)
        ).rowcount
        session.execute(sa.delete(OrderSync).where(sa.func.lower(OrderSync.email) == email))
        session.execute(sa.delete(OrderCode).where(OrderCode.email == email))
        if ticket_ids:
            session.execute(sa.delete(TicketContext).where(TicketContext.ticket_id.in_(ticket_ids)))
            session.execute(
                sa.update(TicketRating)
                .where(TicketRating.ticket_id.in_(ticket_ids))
                .values(comment="")
                .execution_options(synchronize_session=False)
            )
        mail_ids = _clear_mails(session, ticket_ids, email)
        counts["mails"] = len(mail_ids)
        deliveries = scope.webhook_deliveries_of(session, ticket_ids)
        counts["jobs"] = scope.forget_jobs(session, ticket_ids, mail_ids, deliveries)
        if deliveries:
            session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.id.in_(deliveries)))
        counts["webhook_deliveries"] = len(deliveries)
        contact.name, contact.phone, contact.notes = "", "", ""
        contact.email = scope.erased_email(contact.id)
        lines = _record_on_tickets(session, ticket_ids, actor)
        counts["files"] = attachments.delete_ticket_files(session, ticket_ids)
        record = records.add("erase", contact.id, actor, counts)
        session.commit()
    except Exception:
        session.rollback()
        raise
    messages.publish_messages(lines)
    broker = plugin_state().broker
    for ticket_id in ticket_ids:  # an open widget of these tickets closes at once
        broker.publish(ticket_channel(ticket_id), wire.tokens_revoked())
    return Erasure(record, counts)


def _anonymise_messages(session, ticket_ids) -> int:
    if not ticket_ids:
        return 0
    in_tickets = Message.ticket_id.in_(ticket_ids)
    number = session.execute(
        sa.update(Message)
        .where(in_tickets)
        .values(body=ERASED_TEXT, analysis_corrected_by=None, analysis_corrected_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        sa.update(Message)
        .where(in_tickets, Message.author_kind == "customer")
        .values(author_name="", client_msg_id=None, client_key=None)
        .execution_options(synchronize_session=False)
    )
    runs = session.execute(
        sa.select(AutomationRun).where(AutomationRun.ticket_id.in_(ticket_ids))
    ).scalars()
    for run in runs:  # what acted stays, the text (an address, a name) goes
        run.outcome = [
            {"action": step.get("action"), "result": step.get("result"), "text": ERASED_TEXT}
            for step in (run.outcome or []) if isinstance(step, dict)
        ]
    return number


def _clear_tickets(session, ticket_ids) -> None:
    if not ticket_ids:
        return
    session.execute(
        sa.update(Ticket)
        .where(Ticket.id.in_(ticket_ids))
        .values(
            subject=ERASED_TEXT,
            customer_name="",
            customer_email="",
            customer_email_verified=False,
            page_url=None,
            page_title=None,
            token_version=Ticket.token_version + 1,  # every visitor token stops working
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def _scrub_tasks(session, ticket_ids, words) -> int:
    """Erase the descriptions of the tasks linked to the person's tickets, and their name and
    address in the tasks' titles (the task itself, the agents' work, stays)."""
    words = [word for word in words if len(word) >= 2]
    if not ticket_ids or not words:
        return 0
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)", re.IGNORECASE
    )
    changed = 0
    for task in session.scalars(sa.select(Task).where(Task.ticket_id.in_(ticket_ids))):
        title = pattern.sub(ERASED_TEXT, task.title)
        description = ERASED_TEXT if task.description else ""
        if (title, description) != (task.title, task.description):
            task.title, task.description = title[:200], description
            changed += 1
    return changed


def _clear_mails(session, ticket_ids, email: str) -> list[int]:
    """Clear the mails of the tickets and to or from the address; a queued one is not sent.
    Returns their ids."""
    mails = session.scalars(
        sa.select(MailRecord).where(
            sa.or_(
                MailRecord.ticket_id.in_(ticket_ids),
                sa.func.lower(MailRecord.address) == email,
            )
        )
    ).all()
    for mail in mails:
        mail.address, mail.subject, mail.raw, mail.error = "", "", "", ""
        mail.message_id = f"<erased-{mail.id}@erased.invalid>"
        if mail.state == "queued":
            mail.state, mail.error = "failed", "Not sent: the contact's data was erased."
    return [mail.id for mail in mails]


def _record_on_tickets(session, ticket_ids, actor) -> list:
    """An internal system line on each ticket: who erased the contact's data, and when."""
    if not ticket_ids:
        return []
    text = f"{actor.name} erased the contact's data on {utcnow():%Y-%m-%d %H:%M} UTC."
    tickets = session.scalars(sa.select(Ticket).where(Ticket.id.in_(ticket_ids))).all()
    return [messages.add_system_line(ticket, text, author_id=actor.id) for ticket in tickets]
