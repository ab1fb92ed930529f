"""The shop's context of a chat: the signed-in customer's cart (from the host's callable,
bounded by a timeout), the visit's trail and the events the shop tracked. Stored per ticket
and shown to the agents live (the ``context`` event)."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from flask import copy_current_request_context, has_request_context
from marshmallow import ValidationError
from werkzeug.utils import import_string

from responso_chat.conversation import wire
from responso_chat.infra.broker import agent_ticket_channel
from responso_chat.models import ProactiveMessage, TicketContext
from responso_chat.schemas.context import CartSchema
from responso_chat.state import EXTENSION_KEY, plugin_state

log = logging.getLogger(__name__)

#: Host cart calls running at once per app; past it (a slow host) the cart is skipped.
CART_CALLS_AT_ONCE = 8


def _cart_slots():
    state = plugin_state()
    slots = state.app.extensions.get(EXTENSION_KEY + ".cart_calls")
    if slots is None:
        slots = state.app.extensions.setdefault(
            EXTENSION_KEY + ".cart_calls", threading.BoundedSemaphore(CART_CALLS_AT_ONCE)
        )
    return slots


def current_cart() -> dict | None:
    """The signed-in customer's cart from the ``CART`` callable, checked and JSON-ready; None
    when there is no callable, no cart, or the callable failed, was slow or returned garbage
    (logged): the chat never waits longer than ``CART_TIMEOUT`` nor fails for it."""
    state = plugin_state()
    name = state.setting("CART")
    if not name or not has_request_context():
        return None
    slots = _cart_slots()
    if not slots.acquire(blocking=False):
        log.warning("Cart callable skipped: %d calls still running.", CART_CALLS_AT_ONCE)
        return None
    result: dict = {}

    @copy_current_request_context
    def call():
        try:
            result["cart"] = import_string(name.replace(":", "."))()
        except Exception:  # the host's code: whatever it raises, the chat goes on
            log.exception("Cart callable %s failed.", name)
        finally:
            slots.release()

    worker = threading.Thread(target=call, name="responso-chat-cart", daemon=True)
    worker.start()
    worker.join(state.setting("CART_TIMEOUT"))
    if worker.is_alive():
        log.warning("Cart callable %s took over %ss: skipped.", name, state.setting("CART_TIMEOUT"))
        return None
    return checked_cart(result.get("cart"))


def checked_cart(raw) -> dict | None:
    """``raw`` as stored (amounts as text with 2 decimals) if it is a cart, else None."""
    if raw is None:
        return None
    try:
        cart = CartSchema().load(raw)
    except (ValidationError, TypeError, ValueError) as exc:
        log.warning("Cart callable returned no valid cart: %s", getattr(exc, "messages", exc))
        return None
    return {
        "items": [
            {"name": i["name"], "quantity": i["quantity"], "price": f"{i['price']:.2f}"}
            for i in cart["items"]
        ],
        "total": f"{cart['total']:.2f}",
        "currency": cart["currency"],
    }


def stored_visit(visit: dict | None) -> tuple[list, list]:
    """The trail and events of a validated visit, JSON-ready: times as ISO text, a page seen
    twice in a row (a reload) kept once, at its first time."""
    visit = visit or {}
    trail: list[dict] = []
    for page in visit.get("trail", []):
        entry = {"path": page["path"], "title": page["title"], "at": page["at"].isoformat()}
        if not trail or trail[-1]["path"] != entry["path"]:
            trail.append(entry)
    events = [
        {"event": e["event"], "data": e["data"], "at": e["at"].isoformat()}
        for e in visit.get("events", [])
    ]
    return trail, events


def at_start(visit: dict | None, cart: dict | None, proactive_id: int | None):
    """What Start chat adds to the new ticket in its own transaction (see
    ``tickets.open_chat_ticket(attach=...)``): the context row, and one more chat
    started for the greeting the customer answered, if it is the chat's."""

    def add(ticket, _first_message):
        session = plugin_state().db.session
        trail, events = stored_visit(visit)
        if cart is not None or trail or events:
            session.add(TicketContext(ticket_id=ticket.id, cart=cart, trail=trail, events=events))
        if proactive_id is not None:
            session.execute(
                sa.update(ProactiveMessage)
                .where(ProactiveMessage.id == proactive_id,
                       ProactiveMessage.chat_id == ticket.chat_id)
                .values(started_count=ProactiveMessage.started_count + 1)
            )

    return add


def record(ticket, visit: dict, cart: dict | None, cart_asked: bool) -> bool:
    """Store the latest trail, events (and cart, when it was asked for) of the ticket's
    customer; show them to the agents. Returns whether anything changed."""
    session = plugin_state().db.session
    ticket_id = ticket.id
    row = session.get(TicketContext, ticket_id)
    trail, events = stored_visit(visit)
    now = (row.cart, row.trail, row.events) if row is not None else (None, [], [])
    new_cart = cart if cart_asked else now[0]
    if now == (new_cart, trail, events):
        return False
    if row is None:
        row = TicketContext(ticket_id=ticket_id)
        session.add(row)
    row.cart, row.trail, row.events = new_cart, trail, events
    event = wire.context(ticket_id, new_cart, trail, events)
    session.commit()
    plugin_state().broker.publish(agent_ticket_channel(ticket_id), event)
    return True


def for_panel(ticket_id: int) -> dict | None:
    """The ticket's context for the side panel: ``{"cart", "trail", "events"}``, or None."""
    row = plugin_state().db.session.get(TicketContext, ticket_id)
    if row is None:
        return None
    return {"cart": row.cart, "trail": row.trail, "events": row.events}
