"""A verified customer's own orders in the widget ("My orders") and what they ask about one.

Only ever called with an e-mail the customer proved (:mod:`.customer_access`): every order
is looked up by that e-mail, so another customer's order number finds nothing.

- :func:`my_orders`: the cached orders of the last 3 months, newest first, fetched from Base
  on the first visit and refreshed through the order sync job when older than
  ``RESPONSO_CHAT_ORDER_SYNC_INTERVAL``. Works out of hours: no agent is needed.
- :func:`ask_about_order`: "Ask about this order", "Cancel", "Return": a ticket (new, or the
  customer's conversation going on) with the order attached (:class:`TicketOrder`) and a
  first message saying what they asked for. Whether a cancel changes the order's status in
  Base is for the automation rules to decide (conditions "Customer requested" and "Status of
  the order asked about").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from responso_chat.conversation import messages, tickets
from responso_chat.infra import outbox
from responso_chat.models import Order, OrderStatus, OrderSync, TicketOrder, utcnow
from responso_chat.orders import sync
from responso_chat.orders.tracking import order_tracking
from responso_chat.state import plugin_state
from responso_chat.vocab import LANGUAGES

#: Most orders "My orders" lists.
MY_ORDERS_LIMIT = 20
SYNC_JOB = "responso_chat.orders.sync.sync_customer_orders"

#: (subject, first message) of each request, by language; ``{number}`` is the order's number.
REQUEST_TEXT = {
    "en": {
        "ask": ("Question about order {number}", "I have a question about my order {number}."),
        "cancel": ("Cancel order {number}", "I would like to cancel my order {number}."),
        "return": ("Return of order {number}", "I would like to return my order {number}."),
    },
    "fr": {
        "ask": ("Question sur la commande {number}",
                "J’ai une question sur ma commande {number}."),
        "cancel": ("Annulation de la commande {number}",
                   "Je voudrais annuler ma commande {number}."),
        "return": ("Retour de la commande {number}",
                   "Je voudrais retourner ma commande {number}."),
    },
    "pl": {
        "ask": ("Pytanie o zamówienie {number}", "Mam pytanie o moje zamówienie {number}."),
        "cancel": ("Anulowanie zamówienia {number}",
                   "Chcę anulować moje zamówienie {number}."),
        "return": ("Zwrot zamówienia {number}", "Chcę zwrócić moje zamówienie {number}."),
    },
}


@dataclass
class MyOrders:
    """What "My orders" shows: the orders, and whether they could be refreshed now."""

    orders: list
    statuses: dict  # status id -> OrderStatus
    refresh_failed: bool


def _session():
    return plugin_state().db.session


def my_orders(email: str) -> MyOrders:
    """The verified ``email``'s orders of the last 3 months, newest first (at most 20)."""
    state, session = plugin_state(), _session()
    email = sync.normalize_email(email)
    failed = False
    if sync.is_connected():
        synced = session.get(OrderSync, email)
        fresh_after = utcnow() - timedelta(seconds=state.setting("ORDER_SYNC_INTERVAL"))
        if synced is None or synced.synced_at is None:
            try:  # never fetched: the customer waits for their orders once
                if not session.scalar(sa.select(sa.exists().select_from(OrderStatus))):
                    sync.sync_status_list(sync.base_client(retries=sync.INTERACTIVE_RETRIES))
                sync.sync_customer_orders(
                    email, sync.base_client(retries=sync.INTERACTIVE_RETRIES)
                )
            except sync.OrdersError:
                session.rollback()
                failed = True
        elif synced.synced_at < fresh_after:
            outbox.add(SYNC_JOB, email)
            session.commit()
    placed = sa.func.coalesce(Order.date_confirmed, Order.date_add)
    rows = list(session.scalars(
        sa.select(Order)
        .where(Order.email == email, placed >= sync.window_start(utcnow()))
        .order_by(placed.desc(), Order.base_order_id.desc())
        .limit(MY_ORDERS_LIMIT)
    ))
    statuses = {s.id: s for s in session.scalars(sa.select(OrderStatus))}
    return MyOrders(rows, statuses, failed)


def customer_order(email: str, base_order_id: int):
    """The cached order ``base_order_id`` when it is ``email``'s, else None."""
    return _session().scalars(
        sa.select(Order).where(
            Order.base_order_id == base_order_id, Order.email == sync.normalize_email(email)
        )
    ).first()


def order_number(order) -> str:
    """The number a customer knows the order by: the shop's, else Base's."""
    return order.shop_order_id or str(order.base_order_id)


def order_view(order, statuses: dict) -> dict:
    """One order as the widget shows it (no address, no internal status name)."""
    status = statuses.get(order.status_id)
    placed = order.date_confirmed or order.date_add
    parcel = order_tracking(order)
    return {
        "id": order.base_order_id,
        "number": order_number(order),
        "date": placed.date().isoformat() if placed else None,
        "status": (status.name_for_customer or status.name) if status else "",
        "total": f"{order.total:.2f}",
        "currency": order.currency,
        "products": [
            {"name": str(p.get("name", "")), "quantity": p.get("quantity", 1)}
            for p in order.products or []
        ],
        "tracking": None if parcel is None else {
            "carrier": parcel.carrier, "number": parcel.number, "url": parcel.url,
        },
    }


def request_text(request: str, order, language: str | None, note: str = "") -> tuple[str, str]:
    """The subject and first message of a customer's request about ``order``."""
    words = REQUEST_TEXT[language if language in LANGUAGES else "en"][request]
    number = order_number(order)
    subject, body = (text.format(number=number) for text in words)
    return subject, f"{body}\n\n{note}" if note else body


def _link(ticket_id: int, order, request: str, message_id: int) -> None:
    """Attach ``order`` to the ticket with the request (or renew the request of a link)."""
    session = _session()
    link = session.scalars(sa.select(TicketOrder).where(
        TicketOrder.ticket_id == ticket_id, TicketOrder.base_order_id == order.base_order_id
    )).first()
    if link is None:
        session.add(TicketOrder(
            ticket_id=ticket_id, base_order_id=order.base_order_id, request=request,
            message_id=message_id, created_at=utcnow(),
        ))
    else:
        link.request, link.message_id = request, message_id
    session.flush()


def may_continue(ticket, email: str) -> bool:
    """Whether a request may go into the customer's conversation ``ticket``: theirs, with the
    e-mail verified, and not ended for good."""
    return (
        ticket is not None
        and bool(ticket.customer_email_verified)
        and sync.normalize_email(ticket.customer_email) == sync.normalize_email(email)
        and (ticket.status not in messages.ENDED_STATUSES
             or messages.customer_may_reopen(ticket.status, ticket.ended_at))
    )


def ask_about_order(chat, email: str, order, request: str, *, name: str = "", note: str = "",
                    ticket=None, language=None, out_of_hours=False, client_msg_id=None,
                    page_url=None, page_title=None):
    """The customer's request about their ``order``: into ``ticket`` when
    :func:`may_continue`, else a new ticket of ``chat`` with the verified e-mail. Returns
    ``(ticket, message event, created)``; the order is attached in the same transaction."""
    subject, body = request_text(request, order, language or (ticket and ticket.language), note)
    if ticket is not None and may_continue(ticket, email):
        ticket_id = ticket.id
        message, _created = messages.post_customer_message(
            ticket, body, client_msg_id,
            attach=lambda message: _link(ticket_id, order, request, message.id),
        )
        return ticket, message.committed_event, False
    ticket = tickets.open_chat_ticket(
        chat,
        name=name or email.partition("@")[0][:100] or email,
        email=email,
        subject=subject,
        message=body,
        email_verified=True,
        out_of_hours=out_of_hours,
        page_url=page_url,
        page_title=page_title,
        language=language,
        client_msg_id=client_msg_id,
        attach=lambda ticket, message: _link(ticket.id, order, request, message.id),
    )
    return ticket, ticket.opening_events[-1], True
