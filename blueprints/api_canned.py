"""The JSON API's canned responses and a ticket's transfer. Their routes join the API
blueprint (:data:`.api.bp`): the same token check, errors and OpenAPI document.

Rights are the inbox's: a token's agent uses the shared responses and their own, manages
their own, and an admin's token manages the shared ones too; another agent's own response is
a 404.
"""

from __future__ import annotations

from flask import jsonify

from responso_chat.conversation import ticket_changes
from responso_chat.inbox import canned
from responso_chat.openapi import operation
from responso_chat.schemas.api import ApiListQuerySchema
from responso_chat.schemas.api_output import ApiTicketSchema, api_page_schema
from responso_chat.schemas.canned import (
    ApiCannedResponseSchema,
    ApiRenderedCannedSchema,
    CannedResponseSchema,
    TransferSchema,
)
from responso_chat.users import as_agent

from .api import (
    _body,
    _fail,
    _found,
    _id,
    _one,
    _page,
    _patch,
    _query,
    _ticket,
    _user,
    bp,
)


def _usable(canned_id: str):
    return _found(canned.get_usable(_user(), _id(canned_id)))


def _managed(canned_id: str):
    item = _usable(canned_id)
    if not canned.may_manage(_user(), item):
        _fail(403, {"_request": ["Only admins change shared canned responses."]})
    return item


@bp.get("/canned-responses")
@operation(
    "List canned responses",
    "Canned responses",
    query=ApiListQuerySchema,
    response=api_page_schema(ApiCannedResponseSchema),
)
def canned_list():
    """The responses the token's agent may use (shared, and their own), by id."""
    q = _query(ApiListQuerySchema)
    return _page(ApiCannedResponseSchema, lambda: canned.page(_user(), **q))


@bp.get("/canned-responses/<canned_id>")
@operation("Get a canned response", "Canned responses", response=ApiCannedResponseSchema)
def canned_read(canned_id):
    """One canned response (shared, or the token's agent's own)."""
    return _one(ApiCannedResponseSchema, _usable(canned_id))


@bp.post("/canned-responses")
@operation(
    "Create a canned response",
    "Canned responses",
    body=CannedResponseSchema,
    response=ApiCannedResponseSchema,
    status=201,
)
def canned_create():
    """Create a canned response: the agent's own, or shared (``shared``: true, admins)."""
    values = _body(CannedResponseSchema())
    item = canned.create(_user(), values)
    return _one(ApiCannedResponseSchema, item, 201)


@bp.patch("/canned-responses/<canned_id>")
@operation(
    "Change a canned response",
    "Canned responses",
    body=CannedResponseSchema(partial=True),
    response=ApiCannedResponseSchema,
)
def canned_update(canned_id):
    """Change the fields given; the others stay."""
    item = _managed(canned_id)
    values = _patch(CannedResponseSchema(), canned.form_values(item))
    canned.update(_user(), item, values)
    return _one(ApiCannedResponseSchema, item)


@bp.delete("/canned-responses/<canned_id>")
@operation("Delete a canned response", "Canned responses", response=ApiCannedResponseSchema)
def canned_delete(canned_id):
    """Delete a canned response the token's agent manages; the answer is the deleted one."""
    item = _managed(canned_id)
    deleted = ApiCannedResponseSchema().dump(item)
    canned.delete(item)
    return jsonify(deleted)


@bp.get("/tickets/<ticket_id>/canned-responses/<canned_id>")
@operation(
    "Fill in a canned response", "Canned responses", response=ApiRenderedCannedSchema
)
def canned_fill(ticket_id, canned_id):
    """A canned response filled in for the ticket by the token's agent; ``missing`` lists the
    variables without a value, left in ``text`` as ``{{name}}`` (a reply holding one is
    refused until it is replaced)."""
    ticket = _ticket(ticket_id)
    item = _usable(canned_id)
    filled = canned.fill(item, ticket, as_agent(_user()))
    return jsonify(ApiRenderedCannedSchema().dump(filled))


@bp.post("/tickets/<ticket_id>/transfer")
@operation("Transfer a ticket", "Tickets", body=TransferSchema, response=ApiTicketSchema)
def ticket_transfer(ticket_id):
    """Hand the ticket to an agent with access to its chat (``agent_id``) or to a team
    (``team_id``), with a ``note`` only agents see; the customer sees who joined."""
    ticket = _ticket(ticket_id)
    values = _body(TransferSchema())
    ticket_changes.transfer(
        ticket, as_agent(_user()), agent_id=values["agent_id"], team_id=values["team_id"],
        note=values["note"],
    )
    return _one(ApiTicketSchema, ticket)
