"""The storefront widget's endpoints: config, loader, Start chat, and the conversation's HTTP
side (resume by sequence number, send). Called cross-origin from the shop's pages.

Routes under a public key answer CORS for the chat's allowed origins; ``/tickets/...`` routes
are authenticated by the visitor token in ``Authorization: Bearer <token>`` and answer CORS
for the origins of the token's chat. Every error is JSON ``{"errors": {field: [message]}}``.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    request,
    send_from_directory,
)
from flask_login import current_user
from marshmallow import ValidationError

from responso_chat.conversation import (
    chats,
    messages,
    origins,
    proactive,
    ratings,
    shop_context,
    tickets,
    wire,
)
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.conversation.visitor import (
    email_is_verified,
    issue_token,
    origin_allowed,
    ticket_for_token,
)
from responso_chat.mail import links
from responso_chat.models import utcnow
from responso_chat.orders import sync as orders_sync
from responso_chat.schemas.common import AfterQuerySchema
from responso_chat.schemas.context import VisitContextSchema
from responso_chat.schemas.widget import RatingSchema, StartChatSchema, VisitorMessageSchema
from responso_chat.state import plugin_state

bp = Blueprint("widget", __name__)

CONFIG_MAX_AGE = 30
LOADER_MAX_AGE = 300
#: A returning visitor's browser may run a loader older than LOADER_MAX_AGE while it fetches
#: the new one (the loader itself checks the config with the server): a repeat visit within
#: a week draws the launcher with no network at all (the config comes from localStorage).
LOADER_STALE_WHILE_REVALIDATE = 7 * 86400
PREFLIGHT_MAX_AGE = 600


def _fail(status: int, field: str, message: str):
    """Abort with a JSON error response."""
    abort(make_response(jsonify(errors={field: [message]}), status))


def _own_origin() -> str:
    return request.host_url.rstrip("/")


def _allow_origin(chat) -> None:
    """Refuse a page of a site the chat does not allow (remembered for the admin, within the
    public rate limit); answer CORS for an allowed one."""
    origin = request.headers.get("Origin")
    if not origin_allowed(chat, origin, _own_origin()):
        chat_id = chat.id
        _limit("PUBLIC_RATE_LIMIT", "public")
        origins.record_refused(chat_id, origin)
        _fail(403, "_request", "This website may not use this chat.")
    g.rc_cors_origin = origin


def _chat(public_key: str):
    chat = chats.get_by_public_key(public_key)
    if chat is None:
        _fail(404, "_request", "No chat has this key.")
    return chat


def _visitor_ticket():
    """The ticket of the visitor token in the Authorization header, or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    ticket = ticket_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if ticket is None:
        response = make_response(
            jsonify(errors={"_request": ["This conversation is not available."]}), 401
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        abort(response)
    return ticket


def _load(schema):
    """The request's JSON body validated by ``schema`` (400 if not a JSON object, else 422)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        _fail(400, "_request", "Send a JSON object.")
    try:
        return schema.load(data)
    except ValidationError as exc:
        abort(make_response(jsonify(errors=exc.messages), 422))


def _limit(name: str, scope: str) -> None:
    plugin_state().rate_limits.enforce(plugin_state().setting(name), scope)


@bp.before_request
def _preflight():
    """Answer CORS preflights: by the chat's origins under a key, to any page for tokens."""
    if request.method != "OPTIONS":
        return None
    response = current_app.make_default_options_response()
    origin = request.headers.get("Origin")
    key = (request.view_args or {}).get("public_key")
    if key is not None:
        chat = chats.get_by_public_key(key)
        if chat is None or not origin_allowed(chat, origin, _own_origin()):
            return response
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        response.vary.add("Origin")
    return response


@bp.after_request
def _cors(response):
    """Let the allowed page read the answer (errors included)."""
    origin = g.get("rc_cors_origin")
    if origin and request.method != "OPTIONS":
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
    response.vary.add("Origin")
    return response


@bp.get("/<public_key>/config")
def config(public_key):
    """The chat's public settings and whether it is open now (cached 30 s, with an ETag)."""
    chat = _chat(public_key)
    _allow_origin(chat)
    _limit("PUBLIC_RATE_LIMIT", "public")
    public = chats.public_config(chat, utcnow())
    public["my_orders"] = orders_sync.is_connected()  # the widget offers "My orders"
    body = json.dumps(public, sort_keys=True)
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = CONFIG_MAX_AGE
    return response.make_conditional(request)


@bp.get("/<public_key>/loader.js")
def loader(public_key):
    """The embed code's script: draws the launcher and loads the widget on the first click."""
    _chat(public_key)
    _limit("PUBLIC_RATE_LIMIT", "public")
    folder = files("responso_chat") / "static" / "responso_chat" / "widget"
    response = send_from_directory(str(folder), "loader.js", max_age=LOADER_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.stale_while_revalidate = LOADER_STALE_WHILE_REVALIDATE
    return response


@bp.post("/<public_key>/tickets")
def start_chat(public_key):
    """Start chat: the pre-chat form creates the ticket and its first message (after the
    greeting the customer answered, if any); the answer is built from the values written,
    none read again."""
    chat = _chat(public_key)
    _allow_origin(chat)
    _limit("START_CHAT_RATE_LIMIT", "start_chat")
    values = _load(StartChatSchema())
    open_now, _next_change = chats.open_state(chat, utcnow())
    if not open_now and chat.out_of_hours_behaviour == "hide_widget":
        _fail(409, "_request", "The chat is closed now.")
    same_site = request.headers.get("Origin") in (None, _own_origin())
    same_site_user = current_user if same_site else None
    cart = shop_context.current_cart() if same_site else None
    ticket = tickets.open_chat_ticket(
        chat,
        name=values["name"],
        email=values["email"],
        subject=values["subject"],
        message=values["message"],
        email_verified=email_is_verified(
            chat, values["email"], values["signature"], same_site_user
        ),
        out_of_hours=not open_now,
        page_url=values["page_url"],
        page_title=values["page_title"],
        language=values["language"],
        client_msg_id=values["client_msg_id"],
        attach=shop_context.at_start(values["context"], cart, values["proactive_id"]),
        greeting=proactive.opening(chat.id, values["proactive_id"]),
    )
    return jsonify(
        token=issue_token(ticket),
        ticket=tickets.visitor_summary(ticket),
        messages=ticket.opening_events,
    ), 201


@bp.get("/tickets/messages")
def resume():
    """The conversation after sequence number ``after``, and the ticket's state."""
    ticket = _visitor_ticket()
    _allow_origin(ticket.chat)
    _limit("PUBLIC_RATE_LIMIT", "public")
    try:
        after = AfterQuerySchema().load(request.args.to_dict())["after"]
    except ValidationError as exc:
        abort(make_response(jsonify(errors=exc.messages), 400))
    return jsonify(
        ticket=tickets.visitor_summary(ticket),
        messages=[wire.message(m) for m in messages.messages_after(ticket.id, after)],
    )


@bp.post("/tickets/messages")
def send():
    """The customer sends a message; sending the same ``client_msg_id`` again changes nothing."""
    ticket = _visitor_ticket()
    _allow_origin(ticket.chat)
    _limit("SEND_RATE_LIMIT", "send")
    values = _load(VisitorMessageSchema())
    try:
        message, created = messages.post_customer_message(
            ticket, values["body"], values["client_msg_id"]
        )
    except messages.ConversationEnded:
        _fail(409, "_request", "This conversation has ended; start a new chat.")
    return jsonify(message=message.committed_event), 201 if created else 200


@bp.post("/tickets/rating")
def rate():
    """The customer rates the ended conversation (1 to 5, optional comment), or changes the
    rating while it may still be changed (409 once it is read-only, or before the end)."""
    ticket = _visitor_ticket()
    _allow_origin(ticket.chat)
    _limit("SEND_RATE_LIMIT", "rating")
    values = _load(RatingSchema())
    try:
        rating, created = ratings.rate(ticket, values["score"], values["comment"])
    except ChangeRefused as exc:
        abort(make_response(jsonify(errors=exc.errors), 409))
    return jsonify(rating=ratings.visitor_rating(rating)), 201 if created else 200


@bp.get("/continue/<token>")
def continue_by_mail(token):
    """The link of an e-mail: verify the customer's address, reopen the chat on the shop."""
    _limit("PUBLIC_RATE_LIMIT", "public")
    landing = links.follow_link(token)
    if landing is None:
        abort(404, description="This link is not valid or has expired. Start a new chat.")
    response = redirect(landing.target, code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response



@bp.post("/tickets/context")
def context():
    """The visit's trail and tracked events of the ticket's customer (sent on page views,
    throttled by the widget); on the shop's own pages also the host's cart."""
    ticket = _visitor_ticket()
    _allow_origin(ticket.chat)
    _limit("PUBLIC_RATE_LIMIT", "context")
    values = _load(VisitContextSchema())
    same_site = request.headers.get("Origin") in (None, _own_origin())
    cart = shop_context.current_cart() if same_site else None
    changed = shop_context.record(ticket, values, cart, cart_asked=same_site)
    return jsonify(changed=changed)


@bp.get("/<public_key>/cart")
def cart_value(public_key):
    """The total of the signed-in customer's cart, for greetings with a minimum cart value:
    only on the shop's own pages (they carry the host's session), else ``null``."""
    chat = _chat(public_key)
    _allow_origin(chat)
    _limit("PUBLIC_RATE_LIMIT", "public")
    same_site = request.headers.get("Origin") in (None, _own_origin())
    cart = shop_context.current_cart() if same_site else None
    response = jsonify(total=cart and cart["total"], currency=cart and cart["currency"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<public_key>/proactive/<int:proactive_id>/<any(shown, opened):what>")
def proactive_beacon(public_key, proactive_id, what):
    """The widget showed a greeting, or the customer opened the chat from it: one more in
    its count (a greeting of this chat only; rate limited per client address)."""
    chat = _chat(public_key)
    _allow_origin(chat)
    _limit("PUBLIC_RATE_LIMIT", "proactive")
    if not proactive.count(chat.id, proactive_id, what):
        _fail(404, "_request", "This chat has no such greeting.")
    return jsonify(counted=what)
