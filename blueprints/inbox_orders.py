"""The ticket page's "Base orders" panel: the cached orders, a refresh, a status change.

Routes of the inbox blueprint (:mod:`.inbox`); the package imports this module beside it.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user

from responso_chat.orders import sync as orders
from responso_chat.schemas import inbox as schemas
from responso_chat.users import as_agent

from .inbox import _load, _ticket_or_404, _ticket_url, bp

# --- Base orders ---

ORDERS_PANEL = "responso_chat/inbox/_orders_panel.html"


@bp.context_processor
def _orders_panel_context():
    """``orders_panel(ticket)`` for the "Base orders" side panel of the ticket page."""
    return {"orders_panel": orders.orders_panel}


def _orders_reply(ticket, status: int = 200, **context):
    """The panel alone for the page's script (``X-Requested-With: fetch``); without the
    script, back to the ticket page with the outcome flashed."""
    if request.headers.get("X-Requested-With") == "fetch":
        return render_template(ORDERS_PANEL, ticket=ticket, **context), status
    if context.get("orders_error"):
        flash(context["orders_error"], "error")
    elif context.get("orders_notice"):
        flash(context["orders_notice"], "success")
    return redirect(_ticket_url(ticket, _anchor="rc-orders"), 303)


@bp.get("/tickets/<int:ticket_id>/orders")
def orders_panel(ticket_id: int):
    """The ticket's "Base orders" panel, from the local cache."""
    return render_template(ORDERS_PANEL, ticket=_ticket_or_404(ticket_id))


@bp.post("/tickets/<int:ticket_id>/orders/refresh")
def orders_refresh(ticket_id: int):
    """Fetch the customer's orders from Base now, then show the panel again."""
    ticket = _ticket_or_404(ticket_id)
    try:
        orders.refresh_ticket_orders(ticket)
    except orders.OrdersError as exc:  # the panel shows the failure, recorded with its time
        return _orders_reply(ticket, 503, orders_error=str(exc))
    return _orders_reply(ticket, orders_notice="Orders refreshed.")


@bp.post("/tickets/<int:ticket_id>/orders/<int:order_id>/status")
def order_status(ticket_id: int, order_id: int):
    """Move one of the customer's orders to another status in Base (a line records it)."""
    ticket = _ticket_or_404(ticket_id)
    order = orders.ticket_order(ticket, order_id)
    if order is None:
        abort(404)
    values, errors = _load(schemas.OrderStatusChangeSchema, request.form.to_dict())
    error = " ".join(errors.get("status_id", ()))
    if not errors:
        agent = as_agent(current_user)
        try:
            orders.change_order_status(ticket, order, values["status_id"], agent.id, agent.name)
        except orders.OrdersError as exc:
            error = str(exc)
    if error:
        return _orders_reply(ticket, 422, orders_error=error, orders_error_order=order_id)
    notice = f"Order {order_id} is now {orders.status_label(order.status_id)}."
    return _orders_reply(ticket, orders_notice=notice)
