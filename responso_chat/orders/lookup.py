"""Finding orders by number or phone, and the orders agents link to a ticket.

- :func:`find_orders`: by Base's order id (asked of Base through the client and its rate
  limit, then read from the cache), the shop's own number (cache) or a phone number (cache,
  normalised by :mod:`.phones`).
- :func:`link_order` / :func:`unlink_order`: an agent attaches a found order to a ticket
  (:class:`TicketOrder`), or detaches it; an internal line records each.
- :func:`matching_orders_clause`: the orders a search text names, for the inbox search.

Callers check that the agent may see the ticket (the inbox's per-chat access).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from responso_chat.conversation import messages
from responso_chat.models import Order, TicketOrder, utcnow
from responso_chat.orders import sync
from responso_chat.orders.phones import looks_like_phone, normalize_phone
from responso_chat.state import plugin_state

#: Most orders a lookup shows.
LOOKUP_LIMIT = 20
#: The largest Base order id a number can be (a BIGINT).
MAX_BASE_ID = 2**63 - 1


@dataclass
class OrderLookup:
    """What the panel shows of a lookup: the text, the orders found and what went wrong."""

    query: str
    orders: list = field(default_factory=list)
    error: str = ""  # the text is not a number or a phone (shown next to the field)
    base_error: str = ""  # Base could not be asked (the cache was searched)


def _base_id(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_BASE_ID else None


def matching_orders_clause(text: str):
    """The WHERE clause of the cached orders ``text`` names (Base id, shop number, phone),
    or None when it can name none."""
    text = (text or "").strip()
    clauses = []
    if text and len(text) <= 50 and " " not in text:
        clauses.append(Order.shop_order_id == text)
        base_id = _base_id(text)
        if base_id is not None:
            clauses.append(Order.base_order_id == base_id)
    if looks_like_phone(text):
        clauses.append(Order.phone_digits == normalize_phone(text))
    return sa.or_(*clauses) if clauses else None


def find_orders(text: str) -> OrderLookup:
    """The orders ``text`` names, newest first: a Base order id missing from the cache is
    fetched from Base first."""
    text = text.strip()
    lookup = OrderLookup(query=text)
    base_id = _base_id(text)
    session = plugin_state().db.session
    if base_id is not None and sync.is_connected():
        cached = session.scalar(sa.select(sa.exists().where(Order.base_order_id == base_id)))
        if not cached:
            try:
                sync.fetch_order(base_id)
            except sync.OrdersError as exc:
                session.rollback()
                lookup.base_error = str(exc)
    clause = matching_orders_clause(text)
    if clause is not None:
        placed = sa.func.coalesce(Order.date_confirmed, Order.date_add)
        lookup.orders = list(session.scalars(
            sa.select(Order).where(clause)
            .order_by(placed.desc().nulls_last(), Order.base_order_id.desc())
            .limit(LOOKUP_LIMIT)
        ))
    return lookup


def linked_orders(ticket) -> dict:
    """The ticket's attached orders: ``{base order id: TicketOrder}``."""
    session = plugin_state().db.session
    return {link.base_order_id: link for link in session.scalars(
        sa.select(TicketOrder).where(TicketOrder.ticket_id == ticket.id)
        .order_by(TicketOrder.id))}


def link_order(ticket, order, agent) -> bool:
    """Attach the cached ``order`` to the ticket for ``agent`` (an internal line says so);
    False when it was attached already."""
    session = plugin_state().db.session
    if session.scalar(sa.select(sa.exists().where(
            TicketOrder.ticket_id == ticket.id,
            TicketOrder.base_order_id == order.base_order_id))):
        return False
    session.add(TicketOrder(ticket_id=ticket.id, base_order_id=order.base_order_id,
                            linked_by=str(agent.id), created_at=utcnow()))
    messages.post_system_line(
        ticket, f"{agent.name} linked Base order {order.base_order_id} to this ticket",
        author_id=agent.id)
    return True


def unlink_order(ticket, base_order_id: int, agent) -> bool:
    """Detach the order from the ticket (an internal line says so); False when it was not
    attached."""
    session = plugin_state().db.session
    done = session.execute(
        sa.delete(TicketOrder).where(TicketOrder.ticket_id == ticket.id,
                                     TicketOrder.base_order_id == base_order_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        session.rollback()
        return False
    messages.post_system_line(
        ticket, f"{agent.name} unlinked Base order {base_order_id} from this ticket",
        author_id=agent.id)
    return True


def cached_order(base_order_id: int):
    """The cached order with this Base id, or None."""
    return plugin_state().db.session.scalars(
        sa.select(Order).where(Order.base_order_id == base_order_id)).first()
