"""Contacts: the people the shop talks to, found by name, e-mail or phone, with their tickets.

E-mail addresses are stored lower-case and are unique, so a contact matches the tickets its
customer opened whatever the case they typed.
"""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.conversation.access import ticket_visibility_clause
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.models import Contact, Ticket
from responso_chat.state import plugin_state

PAGE_SIZE = 50


def search_clause(q: str):
    """Contacts whose name, e-mail or phone contains ``q`` (any case; all when ``q`` is blank)."""
    text = q.strip()
    if not text:
        return sa.true()
    return sa.or_(
        Contact.name.icontains(text, autoescape=True),
        Contact.email.icontains(text, autoescape=True),
        Contact.phone.icontains(text, autoescape=True),
    )


def search_contacts(q: str = "", page: int = 1) -> tuple[list, bool]:
    """A page of contacts by name whose name, e-mail or phone contains ``q``; ``(rows, more)``."""
    state = plugin_state()
    query = sa.select(Contact).where(search_clause(q))
    query = (
        query.order_by(sa.func.lower(Contact.name), Contact.id)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    rows = list(state.db.session.execute(query).scalars())
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def get_contact(contact_id: int):
    """The contact with ``contact_id``, or None."""
    state = plugin_state()
    return state.db.session.get(Contact, contact_id)


def _check_email_free(email: str, contact_id: int | None = None) -> None:
    query = sa.select(Contact.id).where(Contact.email == email)
    if contact_id is not None:
        query = query.where(Contact.id != contact_id)
    if plugin_state().db.session.execute(query).first():
        raise ChangeRefused("email", "Another contact has this e-mail address.")


def create_contact(*, name: str, email: str, phone: str = "", notes: str = ""):
    """Create a contact; the e-mail must not belong to another contact."""
    state = plugin_state()
    email = email.strip().lower()
    _check_email_free(email)
    contact = Contact(name=name, email=email, phone=phone, notes=notes)
    state.db.session.add(contact)
    state.db.session.commit()
    return contact


def update_contact(contact, *, name: str, email: str, phone: str = "", notes: str = ""):
    """Change a contact's details; the e-mail must not belong to another contact."""
    email = email.strip().lower()
    _check_email_free(email, contact.id)
    contact.name, contact.email, contact.phone, contact.notes = name, email, phone, notes
    plugin_state().db.session.commit()
    return contact


def contact_tickets(contact, user, limit: int = 100) -> list:
    """The tickets of ``contact``'s e-mail that ``user`` may see, newest activity first."""
    state = plugin_state()
    query = (
        sa.select(Ticket)
        .where(
            sa.func.lower(Ticket.customer_email) == contact.email.lower(),
            ticket_visibility_clause(user),
        )
        .order_by(Ticket.last_message_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(state.db.session.execute(query).unique().scalars())


def contact_for_email(email: str):
    """The contact with this e-mail (any case), or None."""
    return plugin_state().db.session.execute(
        sa.select(Contact).where(Contact.email == email.strip().lower())
    ).scalar_one_or_none()
