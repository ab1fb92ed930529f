"""Canned responses: who uses and manages which, and filling one in for a ticket.

An agent uses the shared responses (``owner_id`` NULL) and their own; they manage their own,
and admins manage the shared ones too. A response another agent owns is, to everyone else,
as if it did not exist (not listed, not found by id). Filling one in renders its template in
the automations' sandbox (:mod:`responso_chat.automations.templating`); a variable with no
value is never left blank: it stays in the text as ``{{name}}``, which a reply cannot carry.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from jinja2 import TemplateError
from sqlalchemy.exc import IntegrityError

from responso_chat.automations.facts import Facts
from responso_chat.automations.templating import render_text, used_variables
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.inbox.paging import Page, keyset_page
from responso_chat.models import CannedResponse, utcnow
from responso_chat.orders.tracking import order_tracking
from responso_chat.schemas.common import unfilled_marker
from responso_chat.state import plugin_state
from responso_chat.users import is_admin
from responso_chat.vocab import CANNED_VARIABLES

FIELDS = ("title", "shortcut", "body")


@dataclass(frozen=True)
class Filled:
    """A canned response filled in for a ticket: the text and the variables left unfilled."""

    id: int
    text: str
    missing: list[str]


def _session():
    return plugin_state().db.session


def _usable_clause(user):
    return sa.or_(
        CannedResponse.owner_id.is_(None), CannedResponse.owner_id == str(user.get_id())
    )


def usable(user) -> list:
    """The responses ``user`` may insert: their own first, then the shared ones, by shortcut."""
    query = (
        sa.select(CannedResponse)
        .where(_usable_clause(user))
        .order_by(CannedResponse.owner_id.is_(None), CannedResponse.shortcut)
    )
    return list(_session().scalars(query))


def page(user, *, cursor: str | None, limit: int) -> Page:
    """The responses ``user`` may use, by id, a page at a time (the API's list)."""
    query = sa.select(CannedResponse).where(_usable_clause(user))
    return keyset_page(query, [CannedResponse.id], cursor, limit)


def get_usable(user, canned_id: int):
    """The response ``canned_id`` if ``user`` may use it (shared, or their own), else None."""
    canned = _session().get(CannedResponse, canned_id)
    if canned is None or not (canned.shared or canned.owner_id == str(user.get_id())):
        return None
    return canned


def may_manage(user, canned) -> bool:
    """Whether ``user`` may change or delete ``canned``: their own, or a shared one as admin."""
    return canned.owner_id == str(user.get_id()) or (canned.shared and is_admin(user))


def _owner(user, shared: bool) -> str | None:
    if shared and not is_admin(user):
        raise ChangeRefused("shared", "Only admins share canned responses with the team.")
    return None if shared else str(user.get_id())


def _check_shortcut_free(shortcut: str, owner_id: str | None, canned_id=None) -> None:
    query = sa.select(CannedResponse.id).where(
        CannedResponse.shortcut == shortcut,
        CannedResponse.owner_id.is_(None) if owner_id is None
        else CannedResponse.owner_id == owner_id,
    )
    if canned_id is not None:
        query = query.where(CannedResponse.id != canned_id)
    if _session().execute(query).first() is not None:
        raise ChangeRefused("shortcut", _taken(shortcut, owner_id))


def _taken(shortcut: str, owner_id: str | None) -> str:
    whose = "A shared canned response" if owner_id is None else "One of your canned responses"
    return f"{whose} already uses /{shortcut}. Choose another shortcut."


def _save(canned) -> None:
    """Commit; a twin shortcut saved meanwhile by another request is refused the same way."""
    session = _session()
    refusal = _taken(canned.shortcut, canned.owner_id)  # before a rollback expires them
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ChangeRefused("shortcut", refusal) from None


def create(user, values: dict):
    """Create a response (values of :class:`~responso_chat.schemas.canned.CannedResponseSchema`);
    ``shared`` ones need an admin. ChangeRefused when refused."""
    owner_id = _owner(user, values["shared"])
    _check_shortcut_free(values["shortcut"], owner_id)
    canned = CannedResponse(owner_id=owner_id, **{k: values[k] for k in FIELDS})
    _session().add(canned)
    _save(canned)
    return canned


def update(user, canned, values: dict) -> None:
    """Change a response ``user`` may manage; ``shared`` moves it between the team and the
    user (admins only)."""
    owner_id = _owner(user, values["shared"]) if values["shared"] != canned.shared else (
        canned.owner_id
    )
    _check_shortcut_free(values["shortcut"], owner_id, canned.id)
    for key in FIELDS:
        setattr(canned, key, values[key])
    canned.owner_id = owner_id
    canned.updated_at = utcnow()
    _save(canned)


def delete(canned) -> None:
    """Delete a response."""
    session = _session()
    session.delete(canned)
    session.commit()


def form_values(canned) -> dict:
    """A response's values as its form shows them."""
    return {**{key: getattr(canned, key) for key in FIELDS}, "shared": canned.shared}


# --- filling one in ---------------------------------------------------------------------------


def variables(ticket, agent) -> dict:
    """The values of the canned variables for ``ticket`` used by ``agent`` ("" when none).

    The orders are the Base orders cached for the customer's e-mail, and only when that
    address was proved (as for automations: a typed address never learns of orders).
    """
    facts = Facts(ticket)
    order = facts.orders[0] if facts.orders else None
    tracking = order_tracking(order) if order is not None else None
    return {
        "customer_name": ticket.customer_name or "",
        "agent_name": agent.name or "",
        "order_number": (order.shop_order_id or str(order.base_order_id)) if order else "",
        "order_status": facts.status_name(order.status_id) if order else "",
        "tracking_link": (tracking.url or "") if tracking else "",
        "chat_name": ticket.chat_name or "",
    }


def fill(canned, ticket, agent) -> Filled:
    """``canned`` rendered for ``ticket`` by ``agent``; a variable without a value stays in
    the text as ``{{name}}`` and is listed in ``missing``."""
    values = variables(ticket, agent)
    try:
        used = used_variables(canned.body)
        missing = [name for name in CANNED_VARIABLES if name in used and not values[name]]
        for name in missing:
            values[name] = unfilled_marker(name)
        text = render_text(canned.body, values)
    except TemplateError as exc:  # saved before a check got stricter: say so, send nothing
        raise ChangeRefused("body", f"This canned response cannot be used: {exc}") from None
    return Filled(canned.id, text, missing)
