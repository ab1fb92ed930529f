"""What a customer's browser sends: the pre-chat form, messages and the page they are on."""

from __future__ import annotations

from marshmallow import fields, validate, validates

from responso_chat.schemas.common import Id, Trimmed, check_message_length, readable
from responso_chat.schemas.context import VisitContextSchema
from responso_chat.state import plugin_state
from responso_chat.vocab import LANGUAGES, RATING_COMMENT_MAX, RATING_SCORES


class VisitorMessageSchema(Trimmed):
    """A message the customer sends into their conversation."""

    body = fields.String(required=True, validate=validate.Length(min=1))
    client_msg_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))

    @validates("body")
    def _body_length(self, value, **_kwargs):
        check_message_length(value)


class PageSchema(Trimmed):
    """The page the customer is looking at."""

    url = fields.String(required=True, validate=validate.Length(max=2000))
    title = fields.String(load_default="", validate=validate.Length(max=300))


class RatingSchema(Trimmed):
    """The customer's rating of the ended conversation: 1 to 5 and an optional comment."""

    score = fields.Integer(
        required=True,
        strict=True,
        validate=validate.OneOf(RATING_SCORES, error="Choose a rating from 1 to 5."),
    )
    comment = fields.String(
        load_default="",
        validate=validate.Length(
            max=RATING_COMMENT_MAX, error=f"Use at most {RATING_COMMENT_MAX} characters."
        ),
    )


class StartChatSchema(Trimmed):
    """The pre-chat form: who the customer is and their first message."""

    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), readable])
    email = fields.Email(required=True, validate=validate.Length(max=254))
    subject = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), readable]
    )
    message = fields.String(required=True, validate=validate.Length(min=1))
    page_url = fields.String(load_default=None, validate=validate.Length(max=2000))
    page_title = fields.String(load_default=None, validate=validate.Length(max=300))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))
    client_msg_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    signature = fields.String(
        load_default=None, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$", error="Not a signature.")
    )
    #: the visit's trail and tracked events (schemas.context), and the greeting answered
    context = fields.Nested(VisitContextSchema, load_default=None)
    proactive_id = Id(load_default=None)

    @validates("message")
    def _message_length(self, value, **_kwargs):
        check_message_length(value)


def start_chat_limits() -> dict:
    """The longest value of each pre-chat field and of a message, in characters: the widget
    gets them with its config to count and refuse before sending (this schema checks again)."""
    fields_ = StartChatSchema().fields
    limits = {
        name: next(v.max for v in fields_[name].validators if isinstance(v, validate.Length))
        for name in ("name", "email", "subject")
    }
    limits["message"] = plugin_state().setting("MAX_MESSAGE_LENGTH")
    limits["rating_comment"] = RATING_COMMENT_MAX
    return limits
