"""The widget's "My orders": verify the customer, list their orders, ask about one.

Its views join the widget blueprint (:data:`.widget.bp`): same CORS, errors and limits. A
customer first gets an access token for a verified e-mail (the shop's signature or login:
``/orders/access``; a one-time code: ``/orders/code`` then ``/orders/verify``); ``/orders``
and ``/orders/<id>/request`` take it as ``Authorization: Bearer <access token>``.
"""

from __future__ import annotations

from flask import abort, jsonify, make_response, request
from flask_login import current_user

from responso_chat.conversation import chats
from responso_chat.conversation.tickets import visitor_summary
from responso_chat.conversation.visitor import issue_token, ticket_for_token
from responso_chat.models import utcnow
from responso_chat.orders import customer_access, customer_orders
from responso_chat.schemas.orders import (
    OrderAccessSchema,
    OrderCodeCheckSchema,
    OrderCodeRequestSchema,
    OrderRequestSchema,
)
from responso_chat.state import plugin_state

from .widget import _allow_origin, _chat, _fail, _limit, _load, _own_origin, bp

NOT_VERIFIED = "Verify your e-mail address to see your orders."
NO_SUCH_ORDER = "You have no order with this number."


def _access():
    """``(chat, email)`` of the access token in the Authorization header, or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    access = customer_access.access_of(token.strip()) if scheme.lower() == "bearer" else None
    if access is None:
        response = make_response(jsonify(errors={"_request": [NOT_VERIFIED]}), 401)
        response.headers["WWW-Authenticate"] = "Bearer"
        abort(response)
    _allow_origin(access[0])
    return access


def _granted(chat, email: str):
    return jsonify(access=customer_access.issue_access(chat, email), email=email.lower())


@bp.post("/<public_key>/orders/access")
def order_access(public_key):
    """Access to "My orders" for an e-mail the shop vouches for: signed by the shop
    (``setCustomer``), or the host's logged-in user on the host's own pages."""
    chat = _chat(public_key)
    _allow_origin(chat)
    _limit("PUBLIC_RATE_LIMIT", "public")
    values = _load(OrderAccessSchema())
    origin = request.headers.get("Origin")
    same_site_user = current_user if origin in (None, _own_origin()) else None
    if not customer_access.shop_vouches(chat, values["email"], values["signature"],
                                        same_site_user):
        _fail(403, "email", "The shop has not confirmed this address: ask for a code.")
    return _granted(chat, values["email"])


@bp.post("/<public_key>/orders/code")
def order_code(public_key):
    """E-mail a one-time code to the address typed (rate limited per address and client)."""
    chat = _chat(public_key)
    _allow_origin(chat)
    _limit("ORDER_CODE_IP_RATE_LIMIT", "order_code_ip")
    values = _load(OrderCodeRequestSchema())
    state = plugin_state()
    state.rate_limits.enforce(state.setting("ORDER_CODE_RATE_LIMIT"), "order_code_email",
                              key=values["email"].lower())
    try:
        customer_access.send_code(chat, values["email"], values["language"])
    except customer_access.CodesUnavailable:
        _fail(503, "_request", "Codes cannot be sent by e-mail right now.")
    return jsonify(sent=True, email=values["email"].lower()), 202


@bp.post("/<public_key>/orders/verify")
def order_verify(public_key):
    """The code the customer typed: access to their orders when it is right."""
    chat = _chat(public_key)
    _allow_origin(chat)
    _limit("ORDER_CODE_IP_RATE_LIMIT", "order_code_ip")
    values = _load(OrderCodeCheckSchema())
    if not customer_access.check_code(chat, values["email"], values["code"]):
        _fail(422, "code", "This code is not right or has expired. Ask for a new code.")
    return _granted(chat, values["email"])


@bp.get("/orders")
def my_orders():
    """The verified customer's recent orders, with status, products and tracking."""
    _chat_, email = _access()
    _limit("PUBLIC_RATE_LIMIT", "public")
    found = customer_orders.my_orders(email)
    return jsonify(
        email=email,
        refresh_failed=found.refresh_failed,
        orders=[customer_orders.order_view(order, found.statuses) for order in found.orders],
    )


@bp.post("/orders/<int:order_id>/request")
def order_request(order_id: int):
    """"Ask about this order", "Cancel" or "Return": a ticket with the order attached."""
    chat, email = _access()
    _limit("START_CHAT_RATE_LIMIT", "start_chat")
    values = _load(OrderRequestSchema())
    order = customer_orders.customer_order(email, order_id)
    if order is None:
        _fail(404, "order", NO_SUCH_ORDER)
    ticket = ticket_for_token(values["ticket_token"]) if values["ticket_token"] else None
    if ticket is not None and ticket.chat_id != chat.id:
        ticket = None
    open_now, _next = chats.open_state(chat, utcnow())
    ticket, event, created = customer_orders.ask_about_order(
        chat, email, order, values["request"], name=values["name"], note=values["note"],
        ticket=ticket, language=values["language"], out_of_hours=not open_now,
        client_msg_id=values["client_msg_id"], page_url=values["page_url"],
        page_title=values["page_title"],
    )
    return jsonify(
        token=issue_token(ticket), ticket=visitor_summary(ticket), messages=[event],
        continued=not created,
    ), 201 if created else 200
