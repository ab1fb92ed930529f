"""What agents' pages send: inbox lists, ticket changes, replies, tasks, projects, contacts,
teams, a Base order's new status and API token names."""

from __future__ import annotations

from marshmallow import (
    EXCLUDE,
    Schema,
    fields,
    pre_load,
    validate,
    validates,
)

from responso_chat.schemas.common import (
    MAX_ID,
    Id,
    RepliesFilled,
    Trimmed,
    TrimmedForm,
    check_message_length,
    readable,
    valid_tag,
)
from responso_chat.vocab import (
    AGENT_AVAILABILITY,
    CONTEXTS,
    INBOX_VIEWS,
    SENTIMENTS,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)


class InboxText(fields.String):
    """A text field trimmed of surrounding whitespace."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class InboxSchema(Schema):
    """Base of the inbox schemas: unknown keys ignored, blank form values count as not given."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_missing(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if not (isinstance(value, str) and not value.strip())
        }


class InboxQuerySchema(InboxSchema):
    """Query string of the inbox list: view, filters, search and cursor."""

    view = fields.String(load_default="all", validate=validate.OneOf(list(INBOX_VIEWS)))
    chat = Id(load_default=None)
    channel = fields.String(load_default=None, validate=validate.OneOf(TICKET_CHANNELS))
    status = fields.String(load_default=None, validate=validate.OneOf(TICKET_STATUSES))
    priority = fields.String(load_default=None, validate=validate.OneOf(TICKET_PRIORITIES))
    tag = InboxText(load_default=None, validate=validate.Length(max=50))
    assignee = InboxText(load_default=None, validate=validate.Length(max=64))
    team = Id(load_default=None)
    q = InboxText(load_default="", validate=validate.Length(max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class TicketStatusSchema(InboxSchema):
    """A ticket's new status."""

    status = fields.String(
        required=True,
        validate=validate.OneOf(TICKET_STATUSES, error="Choose a status from the list."),
        error_messages={"required": "Choose a status."},
    )


class TicketPrioritySchema(InboxSchema):
    """A ticket's new priority."""

    priority = fields.String(
        required=True,
        validate=validate.OneOf(TICKET_PRIORITIES, error="Choose a priority from the list."),
        error_messages={"required": "Choose a priority."},
    )


class TicketAssigneeSchema(InboxSchema):
    """The agent a ticket is assigned to (none given: unassigned)."""

    assignee = InboxText(load_default=None, validate=validate.Length(max=64))


class TicketTeamSchema(InboxSchema):
    """The team a ticket is given to (none given: no team)."""

    team = Id(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID, error="Choose a team."),
        error_messages={"invalid": "Choose a team."},
    )


class TicketTagSchema(InboxSchema):
    """A tag to add to or remove from a ticket (normalized by the service, at most 50)."""

    tag = fields.String(
        required=True, validate=valid_tag, error_messages={"required": "Enter a tag."}
    )


class TicketWatcherSchema(InboxSchema):
    """An agent to add to or remove from a ticket's watchers."""

    user_id = InboxText(
        required=True,
        validate=validate.Length(max=64),
        error_messages={"required": "Choose an agent."},
    )


class AgentMessageSchema(RepliesFilled, InboxSchema):
    """An agent's reply or internal note, with the browser's id for idempotent sends."""

    body = InboxText(required=True, error_messages={"required": "Write a message."})
    client_msg_id = fields.String(load_default=None, validate=validate.Length(max=64))
    internal = fields.Boolean(load_default=False)
    reopen = fields.Boolean(
        load_default=False,
        metadata={"description": "Reopen a solved, closed or spam ticket with this reply (the "
                                 "inbox asks first; the API always reopens)."},
    )

    @validates("body")
    def _body_length(self, value, **_kwargs):
        check_message_length(value)


class AvailabilitySchema(InboxSchema):
    """An agent's availability: online, away or offline."""

    status = fields.String(
        required=True,
        validate=validate.OneOf(list(AGENT_AVAILABILITY), error="Choose online, away or offline."),
        error_messages={"required": "Choose online, away or offline."},
    )


class AnalysisCorrectionSchema(InboxSchema):
    """An agent's correction of the sentiment and context of a customer's message."""

    sentiment = fields.String(
        required=True,
        validate=validate.OneOf(SENTIMENTS, error="Choose a sentiment from the list."),
        error_messages={"required": "Choose a sentiment."},
    )
    context = fields.String(
        required=True,
        validate=validate.OneOf(CONTEXTS, error="Choose a context from the list."),
        error_messages={"required": "Choose a context."},
    )


class NewTicketSchema(InboxSchema):
    """Quick action "new ticket to this customer": subject and the agent's first message."""

    subject = InboxText(
        required=True,
        validate=[validate.Length(max=200), readable],
        error_messages={"required": "Enter a subject."},
    )
    body = InboxText(required=True, error_messages={"required": "Write a message."})

    @validates("body")
    def _body_length(self, value, **_kwargs):
        check_message_length(value)


class TaskSchema(InboxSchema):
    """A new task, optionally assigned, due, in a project and linked to a ticket."""

    title = InboxText(
        required=True,
        validate=validate.Length(max=200),
        error_messages={"required": "Enter a title."},
    )
    description = InboxText(load_default="", validate=validate.Length(max=5000))
    assignee_id = InboxText(load_default=None, validate=validate.Length(max=64))
    due_date = fields.Date(load_default=None, error_messages={"invalid": "Enter a date."})
    project_id = Id(
        load_default=None, validate=validate.Range(min=1, max=MAX_ID, error="No such project.")
    )
    ticket_id = Id(
        load_default=None, validate=validate.Range(min=1, max=MAX_ID, error="No such ticket.")
    )


class TaskDoneSchema(InboxSchema):
    """A task marked done or not done (an unticked box sends nothing: not done)."""

    done = fields.Boolean(load_default=False)


class ProjectSchema(InboxSchema):
    """A new project."""

    name = InboxText(
        required=True,
        validate=validate.Length(max=100),
        error_messages={"required": "Enter a name."},
    )
    description = InboxText(load_default="", validate=validate.Length(max=5000))


class ContactSchema(InboxSchema):
    """A contact's details."""

    name = InboxText(
        required=True,
        validate=[validate.Length(max=100), readable],
        error_messages={"required": "Enter a name."},
    )
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        error_messages={
            "required": "Enter an e-mail address.",
            "invalid": "Enter a valid e-mail address.",
        },
    )
    phone = InboxText(load_default="", validate=validate.Length(max=40))
    notes = InboxText(load_default="", validate=validate.Length(max=5000))


class TeamSchema(InboxSchema):
    """A team's name and members."""

    name = InboxText(
        required=True,
        validate=validate.Length(max=100),
        error_messages={"required": "Enter a name."},
    )
    members = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)


class OrderStatusChangeSchema(TrimmedForm):
    """The status an agent moves a Base order to."""

    status_id = Id(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID, error="Choose a status from the list."),
        error_messages={
            "required": "Choose a status.",
            "invalid": "Choose a status from the list.",
        },
    )


class ApiTokenNameSchema(Trimmed):
    """The "API tokens" page: a new token's name."""

    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100, error="Enter a name of 1 to 100 characters."),
        error_messages={"required": "Enter a name."},
    )
