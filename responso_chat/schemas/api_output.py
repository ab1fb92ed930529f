"""What the JSON API answers: records are dumped with these schemas, so the OpenAPI document
says what clients get."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from responso_chat.vocab import (
    AUTHOR_KINDS,
    AUTOMATION_MATCH,
    AUTOMATION_TRIGGERS,
    CHAT_ALIGNMENTS,
    CHAT_LANGUAGES,
    MESSAGE_SOURCES,
    ORDER_REQUESTS,
    OUT_OF_HOURS_BEHAVIOURS,
    PATH_RULE_TYPES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)


class ApiErrorsSchema(Schema):
    """An error: messages by field (``_request`` for the request as a whole)."""

    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


class ApiHealthSchema(Schema):
    """Liveness: the plugin's version and whether its database answers."""

    name = fields.String(required=True)
    version = fields.String(required=True)
    database = fields.String(required=True, validate=validate.OneOf(("ok", "unavailable")))


class ApiChatSchema(Schema):
    """A chat channel (one widget) and its settings."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    welcome_message = fields.String(required=True)
    alignment = fields.String(required=True, validate=validate.OneOf(CHAT_ALIGNMENTS))
    vertical_spacing = fields.Integer(required=True)
    path_rule_type = fields.String(required=True, validate=validate.OneOf(PATH_RULE_TYPES))
    paths = fields.List(fields.String(), required=True)
    agent_ids = fields.List(fields.String(), required=True)
    opening_hours = fields.Dict(
        keys=fields.String(), values=fields.List(fields.List(fields.String())), required=True
    )
    timezone = fields.String(required=True)
    out_of_hours_behaviour = fields.String(
        required=True, validate=validate.OneOf(OUT_OF_HOURS_BEHAVIOURS)
    )
    out_of_hours_message = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    language = fields.String(required=True, validate=validate.OneOf(CHAT_LANGUAGES))
    color = fields.String(required=True)
    allowed_origins = fields.List(fields.String(), required=True)
    public_key = fields.String(required=True, metadata={"description": "Key of the embed code."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ApiTagSchema(Schema):
    """A label put on tickets."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ApiRatingSchema(Schema):
    """The customer's rating of an ended conversation (changeable for a day, then fixed)."""

    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(required=True)
    created_at = fields.DateTime(required=True, metadata={"description": "First given."})
    updated_at = fields.DateTime(required=True)


class ApiTicketOrderSchema(Schema):
    """A Base order attached to a ticket: by the customer's request from "My orders"
    (``request`` and the ``message_id`` that asked), or linked by an agent (``linked_by``)."""

    base_order_id = fields.Integer(required=True)
    request = fields.String(required=True, allow_none=True,
                            validate=validate.OneOf(ORDER_REQUESTS))
    message_id = fields.Integer(required=True, allow_none=True)
    linked_by = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class ApiTicketSchema(Schema):
    """A chat ticket: the conversation's customer, state and classification."""

    id = fields.Integer(required=True)
    chat_id = fields.Integer(required=True, allow_none=True)
    chat_name = fields.String(required=True)
    subject = fields.String(required=True)
    customer_name = fields.String(required=True)
    customer_email = fields.String(required=True)
    customer_email_verified = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TICKET_STATUSES))
    priority = fields.String(required=True, validate=validate.OneOf(TICKET_PRIORITIES))
    assignee_id = fields.String(required=True, allow_none=True)
    team_id = fields.Integer(required=True, allow_none=True)
    tags = fields.List(fields.Pluck(ApiTagSchema, "name"), required=True)
    watcher_ids = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    last_message_at = fields.DateTime(required=True)
    last_sender = fields.String(required=True, allow_none=True)
    last_seq = fields.Integer(required=True, metadata={"description": "`seq` of its last message."})
    sentiment = fields.String(required=True, allow_none=True)
    context = fields.String(required=True, allow_none=True)
    disable_next_autoresponder = fields.Boolean(required=True)
    out_of_hours = fields.Boolean(required=True)
    page_url = fields.String(required=True, allow_none=True)
    page_title = fields.String(required=True, allow_none=True)
    language = fields.String(required=True, allow_none=True)
    first_response_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "The first agent reply."}
    )
    rating = fields.Nested(ApiRatingSchema, required=True, allow_none=True)
    orders = fields.List(fields.Nested(ApiTicketOrderSchema), attribute="order_links",
                         required=True, metadata={"description": "Attached Base orders."})


class ApiAttachmentSchema(Schema):
    """A file of a message. Its type was read from its content; ``url`` and
    ``thumbnail_url`` (images only) are signed and expire (``FILES_URL_MAX_AGE``)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "In bytes."})
    image = fields.Boolean(required=True, metadata={"description": "A raster image."})
    width = fields.Integer(required=True, allow_none=True)
    height = fields.Integer(required=True, allow_none=True)
    url = fields.String(required=True)
    thumbnail_url = fields.String(required=True, allow_none=True)


class ApiMessageSchema(Schema):
    """One line of a conversation, numbered per ticket by ``seq``."""

    id = fields.Integer(required=True)
    ticket_id = fields.Integer(required=True)
    seq = fields.Integer(required=True)
    author_kind = fields.String(
        required=True, validate=validate.OneOf(AUTHOR_KINDS)
    )
    author_id = fields.String(required=True, allow_none=True)
    author_name = fields.String(required=True)
    body = fields.String(required=True)
    internal = fields.Boolean(required=True, metadata={"description": "Seen by agents only."})
    client_msg_id = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    seen_at = fields.DateTime(required=True, allow_none=True)
    source = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(MESSAGE_SOURCES),
        metadata={"description": "`email`: a customer's answer read from the mailbox; "
                                 "`greeting`: the proactive greeting the chat began with."},
    )
    sentiment = fields.String(required=True, allow_none=True)
    context = fields.String(required=True, allow_none=True)
    attachments = fields.List(
        fields.Nested(ApiAttachmentSchema),
        attribute="attachment_views",
        dump_default=list,
        metadata={"description": "Its files, with signed URLs."},
    )
    ticket_reopened = fields.Boolean(
        attribute="reopened",
        dump_default=False,
        metadata={"description": "True on the answer to a reply that reopened a solved, "
                                 "closed or spam ticket."},
    )


class ApiContactSchema(Schema):
    """A person the shop talks to."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    notes = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ApiTaskSchema(Schema):
    """A to-do item, usually about a ticket, optionally in a project."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    assignee_id = fields.String(required=True, allow_none=True)
    due_date = fields.Date(required=True, allow_none=True)
    done = fields.Boolean(required=True)
    project_id = fields.Integer(required=True, allow_none=True)
    ticket_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class ApiRuleConditionSchema(Schema):
    """A condition of a rule (``value`` is a list for the operator ``in``)."""

    field = fields.String(required=True)
    operator = fields.String(required=True)
    value = fields.Raw(required=True)


class ApiRuleActionSchema(Schema):
    """An action of a rule."""

    type = fields.String(required=True)
    value = fields.String(required=True)


class ApiAutomationRuleSchema(Schema):
    """An automation rule: when it runs, what it checks and what it does."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    trigger = fields.String(required=True, validate=validate.OneOf(AUTOMATION_TRIGGERS))
    trigger_minutes = fields.Integer(required=True, allow_none=True)
    match = fields.String(required=True, validate=validate.OneOf(AUTOMATION_MATCH))
    conditions = fields.List(fields.Nested(ApiRuleConditionSchema), required=True)
    actions = fields.List(fields.Nested(ApiRuleActionSchema), required=True)
    position = fields.Integer(required=True, metadata={"description": "Rules run in this order."})
    created_at = fields.DateTime(required=True)
    last_run_at = fields.DateTime(required=True, allow_none=True)


_API_PAGES: dict[type, type] = {}


def api_page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The schema of one page of a list of ``item_schema`` items (``data``, ``next_cursor``)."""
    if item_schema not in _API_PAGES:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _API_PAGES[item_schema] = Schema.from_dict(
            {
                "data": fields.List(fields.Nested(item_schema), required=True),
                "next_cursor": fields.String(
                    required=True,
                    allow_none=True,
                    metadata={"description": "Cursor of the next page; null on the last page."},
                ),
            },
            name=name,
        )
    return _API_PAGES[item_schema]
