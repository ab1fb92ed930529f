"""The JSON API: chats, tickets and their messages here; tags, contacts, tasks and automation
rules in :mod:`.api_records`, on the same blueprint.

Every route but ``/health``, ``/openapi.json`` and ``/docs`` needs an agent's API token in
``Authorization: Bearer <token>`` and acts with that agent's rights, through the same services
and access rules as the inbox; the host's session cookie is never looked at (so this blueprint
needs no CSRF token). Inputs pass the marshmallow schemas of ``responso_chat.schemas``, which
also make the OpenAPI document (:mod:`responso_chat.openapi`). Errors are
``{"errors": {field: [message]}}``: 400 malformed, 401 no valid token, 403 not allowed, 404
not found, 413 body too large, 422 refused values.
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from responso_chat.conversation import chats, messages
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.inbox import paging
from responso_chat.inbox import queries as inbox
from responso_chat.integrations import api_tokens
from responso_chat.integrations.api import (
    change_ticket,
    database_answers,
    get_message,
    list_chats,
    list_messages,
    list_tickets,
    open_ticket,
)
from responso_chat.openapi import build_document, operation
from responso_chat.schemas.api import (
    ApiChatInputSchema,
    ApiChatQuerySchema,
    ApiMessageQuerySchema,
    ApiTicketChangesSchema,
    ApiTicketInputSchema,
    ApiTicketQuerySchema,
    chat_api_input,
)
from responso_chat.schemas.api_output import (
    ApiChatSchema,
    ApiHealthSchema,
    ApiMessageSchema,
    ApiTicketSchema,
    api_page_schema,
)
from responso_chat.schemas.chat_form import chat_form_values
from responso_chat.schemas.common import UNSTORABLE_MESSAGE, parse_count, unstorable
from responso_chat.schemas.inbox import AgentMessageSchema
from responso_chat.users import as_agent, is_admin, is_agent
from responso_chat.version import __version__

bp = Blueprint("api", __name__)

#: Endpoints that need no token.
PUBLIC_ENDPOINTS = frozenset({"health", "openapi_document", "docs"})


# --- requests, answers and errors -----------------------------------------------------------


def _string_keys(messages):
    """Error messages with string keys only (marshmallow keys list items by their index)."""
    if isinstance(messages, dict):
        return {str(key): _string_keys(value) for key, value in messages.items()}
    return messages


def _fail(status: int, errors: dict, headers=None):
    """Stop with a JSON error answer."""
    response = make_response(jsonify(errors=_string_keys(errors)), status)
    response.headers.update(headers or {})
    abort(response)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    """Errors raised in the API (405, 413, 500, ...) answer JSON too."""
    return jsonify(errors={"_request": [error.description or error.name]}), error.code


@bp.before_request
def _authenticate():
    """Check the API token (public routes aside); the parent blueprint already refused text
    no database stores in the URL and the query."""
    if request.endpoint.rsplit(".", 1)[-1] in PUBLIC_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    found = api_tokens.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if found is None or not getattr(found[1], "is_active", True):
        _fail(
            401,
            {"_request": ["Send a valid API token: Authorization: Bearer <token>."]},
            {"WWW-Authenticate": 'Bearer realm="Responso Chat API"'},
        )
    _row, user = found
    if not is_agent(user):
        _fail(403, {"_request": ["This token's user is not an agent."]})
    g.rc_api_user = user


def _user():
    """The host user the request's token acts for."""
    return g.rc_api_user


def _admins_only() -> None:
    if not is_admin(_user()):
        _fail(403, {"_request": ["This needs an admin's API token."]})


def _id(value: str) -> int:
    """A path id, or a 404 (ids beyond :data:`MAX_ID` cannot exist)."""
    number = parse_count(value)
    if not number:
        _fail(404, {"_request": ["Not found."]})
    return number


def _found(record):
    if record is None:
        _fail(404, {"_request": ["Not found."]})
    return record


def _query(schema_class) -> dict:
    """The query string through ``schema_class`` (400 with the messages when wrong)."""
    try:
        return schema_class().load(request.args.to_dict())
    except ValidationError as exc:
        _fail(400, exc.messages)


def _json_body() -> dict:
    """The request's JSON object (400 when not; the parent blueprint limits its size, 413)."""
    if not request.is_json:
        _fail(400, {"_request": ["Send JSON with Content-Type: application/json."]})
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        _fail(400, {"_request": ["The body is not valid JSON."]})
    if not isinstance(data, dict):
        _fail(400, {"_request": ["Send a JSON object."]})
    if unstorable(data):
        _fail(400, {"_request": [UNSTORABLE_MESSAGE]})
    return data


def _load(schema, data: dict) -> dict:
    """``data`` through a schema instance (422 with the messages when refused)."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        _fail(422, exc.messages)


def _body(schema) -> dict:
    """The JSON body through a schema instance."""
    return _load(schema, _json_body())


def _patch(schema, current: dict) -> dict:
    """A PATCH body through a schema instance: the fields sent over the record's ``current``
    values, so the fields not sent stay as they are."""
    return _load(schema, {**current, **_json_body()})


@bp.errorhandler(ChangeRefused)
def _change_refused(exc: ChangeRefused):
    """A change a service refused (a rule of the data, not of the form) answers 422 with its
    messages by field, from any route of the API."""
    return jsonify(errors=_string_keys(exc.errors)), 422


def _one(schema_class, record, status: int = 200):
    return jsonify(schema_class().dump(record)), status


def _page(schema_class, make_page):
    """The page ``make_page()`` returns, dumped; a forged cursor is a 400."""
    try:
        result = make_page()
    except paging.InvalidCursor as exc:
        _fail(400, {"cursor": [str(exc)]})
    body = {"data": result.items, "next_cursor": result.next_cursor}
    return jsonify(api_page_schema(schema_class)().dump(body))


# --- the document and health -----------------------------------------------------------------


@bp.get("/health")
@operation("Health", "Meta", response=ApiHealthSchema, public=True)
def health():
    """Liveness for load balancers: the plugin's version and whether its database answers."""
    database = "ok" if database_answers() else "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(name="responso-chat", version=__version__, database=database), status


def _document() -> dict:
    return build_document(current_app, request.script_root or "/")


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of this API."""
    return jsonify(_document())


@bp.get("/docs")
def docs():
    """The API's reference, readable in a browser (drawn from the OpenAPI document)."""
    return render_template("responso_chat/api/docs.html", doc=_document())


# --- chats (admins) --------------------------------------------------------------------------


@bp.get("/chats")
@operation(
    "List chats",
    "Chats",
    query=ApiChatQuerySchema,
    response=api_page_schema(ApiChatSchema),
    admin=True,
)
def chat_list():
    """Chat channels by id."""
    _admins_only()
    q = _query(ApiChatQuerySchema)
    return _page(ApiChatSchema, lambda: list_chats(**q))


@bp.get("/chats/<chat_id>")
@operation("Get a chat", "Chats", response=ApiChatSchema, admin=True)
def chat_read(chat_id):
    """One chat channel and its settings."""
    _admins_only()
    return _one(ApiChatSchema, _found(chats.get_chat(_id(chat_id))))


@bp.post("/chats")
@operation(
    "Create a chat",
    "Chats",
    body=ApiChatInputSchema,
    response=ApiChatSchema,
    status=201,
    admin=True,
)
def chat_create():
    """Create a chat channel; settings left out take the chat form's defaults."""
    _admins_only()
    values = _body(ApiChatInputSchema())
    try:
        chat = chats.create_chat(chat_api_input(values, chats.new_chat_values()))
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(ApiChatSchema, chat, 201)


@bp.patch("/chats/<chat_id>")
@operation(
    "Change a chat",
    "Chats",
    body=ApiChatInputSchema(partial=True),
    response=ApiChatSchema,
    admin=True,
)
def chat_update(chat_id):
    """Change the settings given; the others stay."""
    _admins_only()
    chat = _found(chats.get_chat(_id(chat_id)))
    values = _body(ApiChatInputSchema(partial=True))
    try:
        chats.update_chat(chat, chat_api_input(values, chat_form_values(chat)))
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(ApiChatSchema, chat)


# --- tickets ---------------------------------------------------------------------------------


def _ticket(ticket_id: str):
    """The ticket if the token's user may see it, else a 404."""
    return _found(inbox.get_visible_ticket(_user(), _id(ticket_id)))


@bp.get("/tickets")
@operation(
    "List tickets",
    "Tickets",
    query=ApiTicketQuerySchema,
    response=api_page_schema(ApiTicketSchema),
)
def ticket_list():
    """Tickets the token's user may see, newest activity first: the inbox's views
    (``all``, ``to_handle``, ``mine``, ``awaiting``, ``closed``), filters and search."""
    q = _query(ApiTicketQuerySchema)
    return _page(ApiTicketSchema, lambda: list_tickets(_user(), **q))


@bp.get("/tickets/<ticket_id>")
@operation("Get a ticket", "Tickets", response=ApiTicketSchema)
def ticket_read(ticket_id):
    """One ticket."""
    return _one(ApiTicketSchema, _ticket(ticket_id))


@bp.post("/tickets")
@operation(
    "Open a ticket",
    "Tickets",
    body=ApiTicketInputSchema,
    response=ApiTicketSchema,
    status=201,
)
def ticket_create():
    """Open a ticket in a chat, with the customer's first message (as if they had started
    the chat): automations and webhooks run as for any new ticket."""
    values = _body(ApiTicketInputSchema())
    ticket = open_ticket(_user(), values)
    return _one(ApiTicketSchema, ticket, 201)


@bp.patch("/tickets/<ticket_id>")
@operation(
    "Change a ticket",
    "Tickets",
    body=ApiTicketChangesSchema,
    response=ApiTicketSchema,
)
def ticket_update(ticket_id):
    """Change the status, priority, assignee, team, tags or watchers given; each change is
    recorded in the conversation under the token's agent, as in the inbox."""
    ticket = _ticket(ticket_id)
    values = _body(ApiTicketChangesSchema())
    change_ticket(ticket, values, as_agent(_user()))
    return _one(ApiTicketSchema, ticket)


# --- messages --------------------------------------------------------------------------------


@bp.get("/tickets/<ticket_id>/messages")
@operation(
    "List a ticket's messages",
    "Messages",
    query=ApiMessageQuerySchema,
    response=api_page_schema(ApiMessageSchema),
)
def message_list(ticket_id):
    """The conversation in order; ``after`` follows it from a known ``seq``."""
    ticket = _ticket(ticket_id)
    q = _query(ApiMessageQuerySchema)
    return _page(ApiMessageSchema, lambda: list_messages(ticket, **q))


@bp.get("/tickets/<ticket_id>/messages/<seq>")
@operation("Get a message", "Messages", response=ApiMessageSchema)
def message_read(ticket_id, seq):
    """One message of a ticket, by its ``seq``."""
    ticket = _ticket(ticket_id)
    return _one(ApiMessageSchema, _found(get_message(ticket, _id(seq))))


@bp.post("/tickets/<ticket_id>/messages")
@operation(
    "Reply or add a note",
    "Messages",
    body=AgentMessageSchema,
    response=ApiMessageSchema,
    status=201,
)
def message_create(ticket_id):
    """The token's agent replies to the customer, or writes an internal note
    (``internal``: true). Sending again with the same ``client_msg_id`` stores nothing new.
    A reply to a solved, closed or spam ticket reopens it, and the answer's
    ``ticket_reopened`` says so; a note leaves the status as it is."""
    ticket = _ticket(ticket_id)
    values = _body(AgentMessageSchema())
    agent = as_agent(_user())
    message = messages.post_agent_message(
        ticket,
        agent.id,
        agent.name,
        values["body"],
        client_msg_id=values["client_msg_id"],
        internal=values["internal"],
        reopen=True,
    )
    return _one(ApiMessageSchema, message, 201)
