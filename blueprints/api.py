"""The JSON API: chats, tickets and their messages, tags, contacts, tasks and automation rules.

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
import re

import sqlalchemy as sa
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

from responso_chat import schemas as s
from responso_chat.openapi import build_document, operation
from responso_chat.services import api_tokens, automations, chats, contacts, inbox, messages, tasks
from responso_chat.services.api import (
    change_task,
    change_ticket,
    create_tag,
    get_message,
    get_tag,
    list_chats,
    list_contacts,
    list_messages,
    list_rules,
    list_tags,
    list_tasks,
    list_tickets,
    open_ticket,
    rename_tag,
)
from responso_chat.services.errors import ChangeRefused
from responso_chat.state import plugin_state
from responso_chat.users import as_agent, is_admin, is_agent
from responso_chat.version import __version__

bp = Blueprint("api", __name__)

#: Largest request body accepted, in bytes.
MAX_BODY_BYTES = 1024 * 1024
#: Endpoints that need no token.
PUBLIC_ENDPOINTS = frozenset({"health", "openapi_document", "docs"})
_ID = re.compile(r"[0-9]{1,10}")


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


#: Characters no database column can store: NUL (PostgreSQL refuses it) and lone surrogates
#: (JSON's "\ud800" escapes, which are no UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _has_unstorable_text(value) -> bool:
    """Whether a JSON value holds an :data:`_UNSTORABLE` character anywhere."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@bp.before_request
def _authenticate():
    """Refuse NUL characters in the query, then check the API token (public routes aside)."""
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        _fail(400, {"_request": ["NUL characters are not allowed."]})
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
    """A path id, or a 404 (ids beyond :data:`schemas.MAX_ID` cannot exist)."""
    if not _ID.fullmatch(value) or not 1 <= int(value) <= s.MAX_ID:
        _fail(404, {"_request": ["Not found."]})
    return int(value)


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
    """The request's JSON object, read up to :data:`MAX_BODY_BYTES` (400, 413 when not)."""
    if not request.is_json:
        _fail(400, {"_request": ["Send JSON with Content-Type: application/json."]})
    if (request.content_length or 0) > MAX_BODY_BYTES:
        _fail(413, {"_request": [f"The body is larger than {MAX_BODY_BYTES} bytes."]})
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        _fail(413, {"_request": [f"The body is larger than {MAX_BODY_BYTES} bytes."]})
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        _fail(400, {"_request": ["The body is not valid JSON."]})
    if not isinstance(data, dict):
        _fail(400, {"_request": ["Send a JSON object."]})
    if _has_unstorable_text(data):
        _fail(400, {"_request": ["NUL characters and lone surrogates are not allowed."]})
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


def _refused(exc: ChangeRefused):
    _fail(422, exc.errors)


def _one(schema_class, record, status: int = 200):
    return jsonify(schema_class().dump(record)), status


def _page(schema_class, make_page):
    """The page ``make_page()`` returns, dumped; a forged cursor is a 400."""
    try:
        result = make_page()
    except inbox.InvalidCursor as exc:
        _fail(400, {"cursor": [str(exc)]})
    body = {"data": result.items, "next_cursor": result.next_cursor}
    return jsonify(s.api_page_schema(schema_class)().dump(body))


# --- the document and health -----------------------------------------------------------------


@bp.get("/health")
@operation("Health", "Meta", response=s.ApiHealthSchema, public=True)
def health():
    """Liveness for load balancers: the plugin's version and whether its database answers."""
    try:
        plugin_state().db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unavailable"
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
    query=s.ApiChatQuerySchema,
    response=s.api_page_schema(s.ApiChatSchema),
    admin=True,
)
def chat_list():
    """Chat channels by id."""
    _admins_only()
    q = _query(s.ApiChatQuerySchema)
    return _page(s.ApiChatSchema, lambda: list_chats(**q))


@bp.get("/chats/<chat_id>")
@operation("Get a chat", "Chats", response=s.ApiChatSchema, admin=True)
def chat_read(chat_id):
    """One chat channel and its settings."""
    _admins_only()
    return _one(s.ApiChatSchema, _found(chats.get_chat(_id(chat_id))))


@bp.post("/chats")
@operation(
    "Create a chat",
    "Chats",
    body=s.ApiChatInputSchema,
    response=s.ApiChatSchema,
    status=201,
    admin=True,
)
def chat_create():
    """Create a chat channel; settings left out take the chat form's defaults."""
    _admins_only()
    values = _body(s.ApiChatInputSchema())
    try:
        chat = chats.create_chat(s.chat_api_input(values, chats.new_chat_values()))
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(s.ApiChatSchema, chat, 201)


@bp.patch("/chats/<chat_id>")
@operation(
    "Change a chat",
    "Chats",
    body=s.ApiChatInputSchema(partial=True),
    response=s.ApiChatSchema,
    admin=True,
)
def chat_update(chat_id):
    """Change the settings given; the others stay."""
    _admins_only()
    chat = _found(chats.get_chat(_id(chat_id)))
    values = _body(s.ApiChatInputSchema(partial=True))
    try:
        chats.update_chat(chat, s.chat_api_input(values, s.chat_form_values(chat)))
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(s.ApiChatSchema, chat)


# --- tickets ---------------------------------------------------------------------------------


def _ticket(ticket_id: str):
    """The ticket if the token's user may see it, else a 404."""
    return _found(inbox.get_visible_ticket(_user(), _id(ticket_id)))


@bp.get("/tickets")
@operation(
    "List tickets",
    "Tickets",
    query=s.ApiTicketQuerySchema,
    response=s.api_page_schema(s.ApiTicketSchema),
)
def ticket_list():
    """Tickets the token's user may see, newest activity first: the inbox's views
    (``all``, ``to_handle``, ``mine``, ``awaiting``, ``closed``), filters and search."""
    q = _query(s.ApiTicketQuerySchema)
    return _page(s.ApiTicketSchema, lambda: list_tickets(_user(), **q))


@bp.get("/tickets/<ticket_id>")
@operation("Get a ticket", "Tickets", response=s.ApiTicketSchema)
def ticket_read(ticket_id):
    """One ticket."""
    return _one(s.ApiTicketSchema, _ticket(ticket_id))


@bp.post("/tickets")
@operation(
    "Open a ticket",
    "Tickets",
    body=s.ApiTicketInputSchema,
    response=s.ApiTicketSchema,
    status=201,
)
def ticket_create():
    """Open a ticket in a chat, with the customer's first message (as if they had started
    the chat): automations and webhooks run as for any new ticket."""
    values = _body(s.ApiTicketInputSchema())
    try:
        ticket = open_ticket(_user(), values)
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiTicketSchema, ticket, 201)


@bp.patch("/tickets/<ticket_id>")
@operation(
    "Change a ticket",
    "Tickets",
    body=s.ApiTicketChangesSchema,
    response=s.ApiTicketSchema,
)
def ticket_update(ticket_id):
    """Change the status, priority, assignee, team, tags or watchers given; each change is
    recorded in the conversation under the token's agent, as in the inbox."""
    ticket = _ticket(ticket_id)
    values = _body(s.ApiTicketChangesSchema())
    try:
        change_ticket(ticket, values, as_agent(_user()))
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiTicketSchema, ticket)


# --- messages --------------------------------------------------------------------------------


@bp.get("/tickets/<ticket_id>/messages")
@operation(
    "List a ticket's messages",
    "Messages",
    query=s.ApiMessageQuerySchema,
    response=s.api_page_schema(s.ApiMessageSchema),
)
def message_list(ticket_id):
    """The conversation in order; ``after`` follows it from a known ``seq``."""
    ticket = _ticket(ticket_id)
    q = _query(s.ApiMessageQuerySchema)
    return _page(s.ApiMessageSchema, lambda: list_messages(ticket, **q))


@bp.get("/tickets/<ticket_id>/messages/<seq>")
@operation("Get a message", "Messages", response=s.ApiMessageSchema)
def message_read(ticket_id, seq):
    """One message of a ticket, by its ``seq``."""
    ticket = _ticket(ticket_id)
    return _one(s.ApiMessageSchema, _found(get_message(ticket, _id(seq))))


@bp.post("/tickets/<ticket_id>/messages")
@operation(
    "Reply or add a note",
    "Messages",
    body=s.AgentMessageSchema,
    response=s.ApiMessageSchema,
    status=201,
)
def message_create(ticket_id):
    """The token's agent replies to the customer, or writes an internal note
    (``internal``: true). Sending again with the same ``client_msg_id`` stores nothing new."""
    ticket = _ticket(ticket_id)
    values = _body(s.AgentMessageSchema())
    agent = as_agent(_user())
    message = messages.post_agent_message(
        ticket,
        agent.id,
        agent.name,
        values["body"],
        client_msg_id=values["client_msg_id"],
        internal=values["internal"],
    )
    return _one(s.ApiMessageSchema, message, 201)


# --- tags ------------------------------------------------------------------------------------


@bp.get("/tags")
@operation(
    "List tags",
    "Tags",
    query=s.ApiSearchQuerySchema,
    response=s.api_page_schema(s.ApiTagSchema),
)
def tag_list():
    """Tags by id; ``q`` searches their names."""
    q = _query(s.ApiSearchQuerySchema)
    return _page(s.ApiTagSchema, lambda: list_tags(**q))


@bp.get("/tags/<tag_id>")
@operation("Get a tag", "Tags", response=s.ApiTagSchema)
def tag_read(tag_id):
    """One tag."""
    return _one(s.ApiTagSchema, _found(get_tag(_id(tag_id))))


@bp.post("/tags")
@operation(
    "Create a tag", "Tags", body=s.ApiTagInputSchema, response=s.ApiTagSchema, status=201
)
def tag_create():
    """Create a tag (stored trimmed and lower case)."""
    values = _body(s.ApiTagInputSchema())
    try:
        tag = create_tag(values["name"])
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiTagSchema, tag, 201)


@bp.patch("/tags/<tag_id>")
@operation(
    "Rename a tag", "Tags", body=s.ApiTagInputSchema, response=s.ApiTagSchema, admin=True
)
def tag_update(tag_id):
    """Rename a tag on every ticket that has it."""
    _admins_only()
    tag = _found(get_tag(_id(tag_id)))
    values = _body(s.ApiTagInputSchema())
    try:
        rename_tag(tag, values["name"])
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiTagSchema, tag)


# --- contacts --------------------------------------------------------------------------------


@bp.get("/contacts")
@operation(
    "List contacts",
    "Contacts",
    query=s.ApiSearchQuerySchema,
    response=s.api_page_schema(s.ApiContactSchema),
)
def contact_list():
    """Contacts by id; ``q`` searches names, e-mail addresses and phone numbers."""
    q = _query(s.ApiSearchQuerySchema)
    return _page(s.ApiContactSchema, lambda: list_contacts(**q))


@bp.get("/contacts/<contact_id>")
@operation("Get a contact", "Contacts", response=s.ApiContactSchema)
def contact_read(contact_id):
    """One contact."""
    return _one(s.ApiContactSchema, _found(contacts.get_contact(_id(contact_id))))


@bp.post("/contacts")
@operation(
    "Create a contact",
    "Contacts",
    body=s.ContactSchema,
    response=s.ApiContactSchema,
    status=201,
)
def contact_create():
    """Create a contact; e-mail addresses are unique (stored lower case)."""
    values = _body(s.ContactSchema())
    try:
        contact = contacts.create_contact(**values)
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiContactSchema, contact, 201)


@bp.patch("/contacts/<contact_id>")
@operation(
    "Change a contact",
    "Contacts",
    body=s.ContactSchema(partial=True),
    response=s.ApiContactSchema,
)
def contact_update(contact_id):
    """Change the details given; the others stay."""
    contact = _found(contacts.get_contact(_id(contact_id)))
    current = {k: getattr(contact, k) for k in ("name", "email", "phone", "notes")}
    values = _load(s.ContactSchema(), {**current, **_json_body()})
    try:
        contacts.update_contact(contact, **values)
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiContactSchema, contact)


# --- tasks -----------------------------------------------------------------------------------


def _task(task_id: str):
    return _found(tasks.get_visible_task(_user(), _id(task_id)))


@bp.get("/tasks")
@operation(
    "List tasks",
    "Tasks",
    query=s.ApiTaskQuerySchema,
    response=s.api_page_schema(s.ApiTaskSchema),
)
def task_list():
    """Tasks by id: those without a ticket, and those of tickets the token's user may see."""
    q = _query(s.ApiTaskQuerySchema)
    return _page(s.ApiTaskSchema, lambda: list_tasks(_user(), **q))


@bp.get("/tasks/<task_id>")
@operation("Get a task", "Tasks", response=s.ApiTaskSchema)
def task_read(task_id):
    """One task."""
    return _one(s.ApiTaskSchema, _task(task_id))


@bp.post("/tasks")
@operation(
    "Create a task", "Tasks", body=s.ApiTaskInputSchema, response=s.ApiTaskSchema, status=201
)
def task_create():
    """Create a task, optionally about a ticket (recorded in its conversation)."""
    values = _body(s.ApiTaskInputSchema())
    ticket_id = values.pop("ticket_id")
    ticket = None
    if ticket_id is not None:
        ticket = inbox.get_visible_ticket(_user(), ticket_id)
        if ticket is None:
            _fail(422, {"ticket_id": ["No such ticket."]})
    try:
        task = tasks.create_task(as_agent(_user()), ticket=ticket, **values)
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiTaskSchema, task, 201)


@bp.patch("/tasks/<task_id>")
@operation("Change a task", "Tasks", body=s.ApiTaskChangesSchema, response=s.ApiTaskSchema)
def task_update(task_id):
    """Change the fields given, or mark the task done (``done``: true) or not."""
    task = _task(task_id)
    values = _body(s.ApiTaskChangesSchema())
    try:
        change_task(task, values, as_agent(_user()))
    except ChangeRefused as exc:
        _refused(exc)
    return _one(s.ApiTaskSchema, task)


# --- automation rules (admins) ---------------------------------------------------------------


#: The rule schema as the document shows it (the values to choose from are checked on load).
_RULE_INPUT = s.AutomationRuleSchema(choices={})


@bp.get("/automation-rules")
@operation(
    "List automation rules",
    "Automation rules",
    query=s.ApiRuleQuerySchema,
    response=s.api_page_schema(s.ApiAutomationRuleSchema),
    admin=True,
)
def rule_list():
    """Automation rules in the order they run."""
    _admins_only()
    q = _query(s.ApiRuleQuerySchema)
    return _page(s.ApiAutomationRuleSchema, lambda: list_rules(**q))


@bp.get("/automation-rules/<rule_id>")
@operation(
    "Get an automation rule", "Automation rules", response=s.ApiAutomationRuleSchema, admin=True
)
def rule_read(rule_id):
    """One automation rule."""
    _admins_only()
    return _one(s.ApiAutomationRuleSchema, _found(automations.get_rule(_id(rule_id))))


@bp.post("/automation-rules")
@operation(
    "Create an automation rule",
    "Automation rules",
    body=_RULE_INPUT,
    response=s.ApiAutomationRuleSchema,
    status=201,
    admin=True,
)
def rule_create():
    """Create a rule, run after the existing ones. Conditions and actions are those of the
    rule editor (``conditions``: field, operator, value; ``actions``: type, value)."""
    _admins_only()
    try:
        rule = automations.create_rule(_json_body())
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(s.ApiAutomationRuleSchema, rule, 201)


@bp.patch("/automation-rules/<rule_id>")
@operation(
    "Change an automation rule",
    "Automation rules",
    body=s.AutomationRuleSchema(choices={}, partial=True),
    response=s.ApiAutomationRuleSchema,
    admin=True,
)
def rule_update(rule_id):
    """Change the fields given; the others stay."""
    _admins_only()
    rule = _found(automations.get_rule(_id(rule_id)))
    values = {**s.automation_form_values(rule), **_json_body()}
    try:
        automations.update_rule(rule, values)
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(s.ApiAutomationRuleSchema, rule)
