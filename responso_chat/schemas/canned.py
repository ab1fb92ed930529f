"""What agents send about canned responses (the page's form and the API's body), what the
API answers about them, and a ticket's transfer to another agent or a team."""

from __future__ import annotations

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from responso_chat.automations.templating import template_problems
from responso_chat.schemas.common import Id, check_message_length, readable
from responso_chat.schemas.inbox import InboxSchema, InboxText
from responso_chat.vocab import CANNED_VARIABLES

SHORTCUT_MAX_LENGTH = 40
TITLE_MAX_LENGTH = 100
#: Longest note of a transfer, in characters.
TRANSFER_NOTE_MAX_LENGTH = 1000


class CannedResponseSchema(InboxSchema):
    """A canned response: title, shortcut (typed after ``/`` in the composer), body (a
    template with :data:`~responso_chat.vocab.CANNED_VARIABLES`), and whether the whole team
    shares it (admins only) or it is the agent's own."""

    title = InboxText(
        required=True,
        validate=[validate.Length(max=TITLE_MAX_LENGTH), readable],
        error_messages={"required": "Enter a title."},
    )
    shortcut = InboxText(
        required=True,
        validate=[
            validate.Length(max=SHORTCUT_MAX_LENGTH),
            validate.Regexp(
                r"^[A-Za-z0-9-]+$", error="Use letters, digits and dashes only (no spaces)."
            ),
        ],
        error_messages={"required": "Enter a shortcut."},
        metadata={"description": "Typed after `/` in the composer; stored lower case."},
    )
    body = InboxText(
        required=True,
        error_messages={"required": "Write the response."},
        metadata={"description": "Text with variables: "
                                 + ", ".join(f"`{{{{ {v} }}}}`" for v in CANNED_VARIABLES)},
    )
    shared = fields.Boolean(
        load_default=False,
        metadata={"description": "Shared with the whole team (admins only), else your own."},
    )

    @pre_load
    def _lower_shortcut(self, data, **_kwargs):
        if isinstance(data, dict) and isinstance(data.get("shortcut"), str):
            data = {**data, "shortcut": data["shortcut"].strip().lstrip("/").lower()}
        return data

    @validates("body")
    def _valid_template(self, value, **_kwargs):
        check_message_length(value)
        problems = template_problems(value, CANNED_VARIABLES)
        if problems:
            raise ValidationError(problems)


class ApiCannedResponseSchema(Schema):
    """A canned response as the API shows it."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    shortcut = fields.String(required=True)
    body = fields.String(required=True)
    shared = fields.Boolean(required=True)
    owner_id = fields.String(
        required=True, allow_none=True, metadata={"description": "Null when shared."}
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ApiRenderedCannedSchema(Schema):
    """A canned response filled in for a ticket: the text, and the variables without a value
    (each left in the text as ``{{name}}``: the reply is refused until it is replaced)."""

    id = fields.Integer(required=True)
    text = fields.String(required=True)
    missing = fields.List(fields.String(), required=True)


class TransferSchema(InboxSchema):
    """A ticket handed to an agent (``agent_id``) or a team (``team_id``), with a note only
    agents see. The page's single list sends ``target``: ``agent:<id>`` or ``team:<id>``."""

    agent_id = InboxText(load_default=None, validate=validate.Length(max=64))
    team_id = Id(load_default=None)
    note = InboxText(
        load_default="",
        validate=validate.Length(
            max=TRANSFER_NOTE_MAX_LENGTH,
            error=f"A note has at most {TRANSFER_NOTE_MAX_LENGTH} characters.",
        ),
        metadata={"description": "Only agents see it (an internal note)."},
    )

    @pre_load
    def _target(self, data, **_kwargs):
        if not isinstance(data, dict) or "target" not in data:
            return data
        kind, _, value = str(data.get("target") or "").partition(":")
        rest = {k: v for k, v in data.items() if k not in ("target", "agent_id", "team_id")}
        if kind == "agent" and value:
            return {**rest, "agent_id": value}
        if kind == "team" and value:
            return {**rest, "team_id": value}
        raise ValidationError({"target": ["Choose an agent or a team."]})

    @validates("note")
    def _note(self, value, **_kwargs):
        if value:
            readable(value)

    @validates_schema
    def _one_target(self, data, **_kwargs):
        """Exactly one target: an agent or a team (the error is the page's ``target``)."""
        if (data.get("agent_id") is None) == (data.get("team_id") is None):
            raise ValidationError("Choose an agent or a team (one of them).", "target")
