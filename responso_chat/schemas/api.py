"""What JSON API clients send: list filters and paging, and the bodies of new and changed
records (also the OpenAPI document's request schemas)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, post_load, validate, validates

from responso_chat.conversation.visibility import WEEKDAYS
from responso_chat.schemas.chat_form import (
    MAX_INTERVALS_PER_DAY,
    MAX_ORIGINS,
    MAX_PATHS,
    day_form_value,
)
from responso_chat.schemas.common import (
    AfterQuerySchema,
    Id,
    Trimmed,
    check_message_length,
    readable,
    tag_name,
    valid_tag,
)
from responso_chat.schemas.inbox import InboxQuerySchema, InboxText, TaskSchema
from responso_chat.vocab import (
    AUTOMATION_TRIGGERS,
    CHAT_ALIGNMENTS,
    CHAT_LANGUAGES,
    LANGUAGES,
    OUT_OF_HOURS_BEHAVIOURS,
    PATH_RULE_TYPES,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)

API_DEFAULT_LIMIT = 30
API_MAX_LIMIT = 100
_SINGLE_LINE = validate.Regexp(r"^[^\r\n]*$", error="Use one line.")


class ApiListQuerySchema(Schema):
    """Paging of every API list: an opaque ``cursor`` from the previous page, and ``limit``."""

    class Meta:
        unknown = EXCLUDE

    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "The `next_cursor` of the previous page."},
    )
    limit = fields.Integer(
        load_default=API_DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=API_MAX_LIMIT),
        metadata={"description": "Most items on the page."},
    )


class ApiTicketQuerySchema(InboxQuerySchema, ApiListQuerySchema):
    """Filters of the ticket list: the inbox's views, filters and search, and paging."""

    chat = Id(load_default=None, metadata={"description": "Only this chat's tickets."})
    channel = fields.String(
        load_default=None,
        validate=validate.OneOf(TICKET_CHANNELS),
        metadata={"description": "Only the tickets that came by chat, or by e-mail."},
    )
    team = Id(load_default=None, metadata={"description": "Only this team's tickets."})
    assignee = InboxText(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "An agent's id, `me`, or `none` for unassigned tickets."},
    )


class ApiChatQuerySchema(ApiListQuerySchema):
    """Filters of the chat list."""

    enabled = fields.Boolean(load_default=None)


class ApiSearchQuerySchema(ApiListQuerySchema):
    """A list searched by a text (tags: in the name; contacts: in name, e-mail or phone)."""

    q = fields.String(load_default="", validate=validate.Length(max=200))


class ApiTaskQuerySchema(ApiListQuerySchema):
    """Filters of the task list."""

    assignee = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "An agent's id, `me`, or `none` for unassigned tasks."},
    )
    done = fields.Boolean(load_default=None)
    ticket_id = Id(load_default=None)
    project_id = Id(load_default=None)


class ApiRuleQuerySchema(ApiListQuerySchema):
    """Filters of the automation rule list (in the order the rules run)."""

    enabled = fields.Boolean(load_default=None)
    trigger = fields.String(load_default=None, validate=validate.OneOf(AUTOMATION_TRIGGERS))


class ApiMessageQuerySchema(AfterQuerySchema, ApiListQuerySchema):
    """A conversation's messages in order, after a sequence number."""

    include_internal = fields.Boolean(
        load_default=True, metadata={"description": "Include internal notes and change records."}
    )


class ApiTicketInputSchema(Trimmed):
    """A ticket opened through the API, as if the customer had written its first message."""

    chat_id = Id(required=True, strict=True)
    customer_name = fields.String(
        required=True, validate=[validate.Length(min=1, max=100), readable]
    )
    customer_email = fields.Email(required=True, validate=validate.Length(max=254))
    subject = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), readable]
    )
    message = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "The customer's first message."},
    )
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))

    @validates("message")
    def _message_length(self, value, **_kwargs):
        check_message_length(value)


class ApiTicketChangesSchema(Schema):
    """Changes to a ticket; only the fields given change, each recorded in the conversation."""

    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    priority = fields.String(validate=validate.OneOf(TICKET_PRIORITIES))
    assignee_id = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "An agent's id, or null to unassign."},
    )
    team_id = Id(allow_none=True, strict=True, metadata={"description": "null: no team."})
    tags = fields.List(
        fields.String(),
        validate=validate.Length(max=50),
        metadata={"description": "Every tag the ticket has afterwards (new tags are created)."},
    )
    watcher_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=50),
        metadata={"description": "Every agent following the ticket afterwards."},
    )

    @validates("tags")
    def _tags_are_valid(self, value, **_kwargs):
        for name in value:
            valid_tag(name)

    @post_load
    def _normalize(self, data, **_kwargs):
        if "tags" in data:
            data["tags"] = list(dict.fromkeys(tag_name(name) for name in data["tags"]))
        if "watcher_ids" in data:
            data["watcher_ids"] = list(dict.fromkeys(data["watcher_ids"]))
        return data


class ApiTagInputSchema(Schema):
    """A tag's name (trimmed and lower-cased when saved)."""

    name = fields.String(required=True, validate=valid_tag)


class ApiTaskChangesSchema(Schema):
    """Changes to a task; only the fields given change."""

    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    assignee_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    due_date = fields.Date(allow_none=True)
    project_id = Id(allow_none=True, strict=True)
    done = fields.Boolean()


class ApiTaskInputSchema(TaskSchema):
    """A new task (the inbox's task form), its ids checked as ids."""

    project_id = Id(load_default=None)
    ticket_id = Id(load_default=None, metadata={"description": "The ticket it is about."})


_INTERVAL = fields.List(
    fields.String(validate=validate.Length(max=5)), validate=validate.Length(equal=2)
)


class ApiChatInputSchema(Schema):
    """A chat's settings as the API takes them; :class:`ChatSchema` then checks them as the
    chat form's (unknown agents, overlapping hours, ...). Opening hours are given per weekday
    as ``[["09:00", "17:00"], ...]`` (``[]`` closed, ``[["00:00", "24:00"]]`` all day); days
    left out keep their hours (closed on a new chat)."""

    name = fields.String(required=True, validate=validate.Length(max=100))
    welcome_message = fields.String(validate=validate.Length(max=500))
    alignment = fields.String(validate=validate.OneOf(CHAT_ALIGNMENTS))
    vertical_spacing = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000))
    path_rule_type = fields.String(validate=validate.OneOf(PATH_RULE_TYPES))
    paths = fields.List(
        fields.String(validate=_SINGLE_LINE), validate=validate.Length(max=MAX_PATHS)
    )
    agent_ids = fields.List(fields.String(validate=validate.Length(max=64)))
    opening_hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
        values=fields.List(_INTERVAL, validate=validate.Length(max=MAX_INTERVALS_PER_DAY)),
    )
    timezone = fields.String(validate=validate.Length(max=64))
    out_of_hours_behaviour = fields.String(validate=validate.OneOf(OUT_OF_HOURS_BEHAVIOURS))
    out_of_hours_message = fields.String(validate=validate.Length(max=500))
    enabled = fields.Boolean()
    color = fields.String(validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"))
    language = fields.String(validate=validate.OneOf(CHAT_LANGUAGES))
    allowed_origins = fields.List(
        fields.String(validate=_SINGLE_LINE), validate=validate.Length(max=MAX_ORIGINS)
    )


def chat_api_input(values: dict, current: dict) -> dict:
    """:class:`ApiChatInputSchema` values laid over ``current`` (the chat form's shape, see
    :func:`chat_form_values`), as :class:`ChatSchema` input. An API client states the agents
    it wants, so a chat without agents needs no confirmation."""
    data = {**current, **values, "confirm_no_agents": True}
    for name in ("paths", "allowed_origins"):
        if name in values:
            data[name] = "\n".join(values[name])
    if "vertical_spacing" in values:
        data["vertical_spacing"] = str(values["vertical_spacing"])
    if "opening_hours" in values:
        data["opening_hours"] = {
            **current["opening_hours"],
            **{day: day_form_value(hours) for day, hours in values["opening_hours"].items()},
        }
    return data
