"""The side panel's order lookup (by number or phone) and the orders agents link to a
ticket. Its views join the inbox blueprint (:data:`.inbox.bp`): only agents who may see the
ticket (per-chat access) look up or link on it."""

from __future__ import annotations

from flask import abort, g, render_template, request
from flask_login import current_user

from responso_chat.inbox import queries
from responso_chat.orders import lookup
from responso_chat.schemas.orders import OrderLookupSchema
from responso_chat.users import as_agent

from .inbox import _load, _render_ticket, _ticket_or_404, bp
from .inbox_desk import ORDERS_PANEL, _orders_reply


@bp.context_processor
def _order_lookup_context():
    """``order_lookup``: the panel's lookup of this request (None when none was made);
    ``rc_order_matches(q)``: the orders an inbox search names, shown above its results."""
    return {
        "order_lookup": g.get("rc_order_lookup"),
        "rc_order_matches": lambda text: queries.order_matches(current_user, text),
    }


@bp.get("/tickets/<int:ticket_id>/orders/lookup")
def order_lookup(ticket_id: int):
    """Find orders by Base order id, the shop's number or a phone number (the side panel)."""
    ticket = _ticket_or_404(ticket_id)
    values, errors = _load(OrderLookupSchema, request.args.to_dict())
    if errors:
        typed = request.args.get("q", "")[:50]
        g.rc_order_lookup = lookup.OrderLookup(query=typed, error=" ".join(errors["q"]))
    else:
        g.rc_order_lookup = lookup.find_orders(values["q"])
    status = 422 if errors else 200
    if request.headers.get("X-Requested-With") == "fetch":
        return render_template(ORDERS_PANEL, ticket=ticket), status
    return _render_ticket(ticket, status=status)


@bp.post("/tickets/<int:ticket_id>/orders/<int:order_id>/link")
def order_link(ticket_id: int, order_id: int):
    """Link a found order to the ticket: it shows in the panel whoever's it is."""
    ticket = _ticket_or_404(ticket_id)
    order = lookup.cached_order(order_id)
    if order is None:
        abort(404)
    lookup.link_order(ticket, order, as_agent(current_user))
    return _orders_reply(ticket, orders_notice=f"Order {order_id} is linked to this ticket.")


@bp.post("/tickets/<int:ticket_id>/orders/<int:order_id>/unlink")
def order_unlink(ticket_id: int, order_id: int):
    """Unlink an order from the ticket."""
    ticket = _ticket_or_404(ticket_id)
    if not lookup.unlink_order(ticket, order_id, as_agent(current_user)):
        return _orders_reply(ticket, orders_notice=f"Order {order_id} was not linked.")
    return _orders_reply(ticket, orders_notice=f"Order {order_id} is no longer linked.")
