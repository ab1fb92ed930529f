"""The "Base orders" panel of a ticket: the customer's cached orders and their sync state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from responso_chat.models import Order, OrderSync, TicketOrder, utcnow
from responso_chat.orders import sync
from responso_chat.orders.tracking import order_tracking
from responso_chat.state import plugin_state


@dataclass
class OrdersPanel:
    """What the "Base orders" panel of a ticket shows."""

    connected: bool
    email: str
    verified: bool
    orders: list
    statuses: dict  # status id -> OrderStatus
    sync: object | None  # OrderSync of the e-mail, None before the first attempt
    stale: bool  # no fresh sync yet: the page asks for one
    links: dict = field(default_factory=dict)  # base order id -> TicketOrder of this ticket

    tracking = staticmethod(order_tracking)

    @property
    def choices(self) -> list:
        """The statuses an order can be moved to."""
        return sorted(self.statuses.values(), key=lambda status: status.id)

    def status(self, order):
        """The cached status of ``order`` (name and colour), or None when unknown."""
        return self.statuses.get(order.status_id)

    @staticmethod
    def order_link(order) -> str | None:
        """The order's page, when it is a web address (never a ``javascript:`` one)."""
        return order.order_page if re.match(r"https?://", order.order_page or "") else None

    @staticmethod
    def payment(order) -> str:
        """``paid``, ``partial`` or ``unpaid``."""
        done, total = Decimal(order.payment_done or 0), Decimal(order.total or 0)
        if done > 0 and done >= total:
            return "paid"
        return "partial" if done > 0 else "unpaid"


def orders_panel(ticket) -> OrdersPanel:
    """The cached orders of the ticket's customer from the last 3 months and the orders
    attached to the ticket (whoever's they are), newest first."""
    state = plugin_state()
    session = state.db.session
    email = sync.normalize_email(ticket.customer_email)
    connected = sync.is_connected()
    now = utcnow()
    start = sync.window_start(now)
    placed = sa.func.coalesce(Order.date_confirmed, Order.date_add)
    links = {link.base_order_id: link for link in session.scalars(
        sa.select(TicketOrder).where(TicketOrder.ticket_id == ticket.id))}
    attached = Order.base_order_id.in_(list(links)) if links else sa.false()
    cached = list(
        session.execute(
            sa.select(Order)
            .where(sa.or_(sa.and_(Order.email == email, placed >= start), attached))
            .order_by(placed.desc().nulls_last(), Order.base_order_id.desc())
        ).scalars()
    )
    synced = session.get(OrderSync, email) if email else None
    fresh_after = now - timedelta(seconds=state.setting("ORDER_SYNC_INTERVAL"))
    stale = (
        connected
        and bool(email)
        and (synced is None or (not synced.error and (synced.synced_at or start) < fresh_after))
    )
    return OrdersPanel(
        connected=connected,
        email=email,
        verified=bool(ticket.customer_email_verified),
        orders=cached,
        statuses={status.id: status for status in sync.status_choices()},
        sync=synced,
        stale=stale,
        links=links,
    )


def ticket_order(ticket, base_order_id: int):
    """The cached order ``base_order_id`` if it belongs to the ticket's customer or is
    attached to the ticket, else None."""
    state = plugin_state()
    attached = sa.exists().where(
        TicketOrder.ticket_id == ticket.id, TicketOrder.base_order_id == base_order_id)
    return state.db.session.execute(
        sa.select(Order).where(
            Order.base_order_id == base_order_id,
            sa.or_(Order.email == sync.normalize_email(ticket.customer_email), attached),
        )
    ).scalar_one_or_none()
