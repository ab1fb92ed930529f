"""What an admin's "Proactive messages" form sends: the triggers, the text and the sender."""

from __future__ import annotations

from marshmallow import EXCLUDE, ValidationError, fields, validate, validates

from responso_chat.schemas.chat_form import ChatText, chat_path
from responso_chat.schemas.common import TrimmedForm, readable
from responso_chat.schemas.context import IDENTIFIER

#: Longest wait a trigger may set, in seconds on the page.
MAX_DELAY_SECONDS = 3600


class ProactiveMessageSchema(TrimmedForm):
    """A proactive greeting. ``sender_ids``: the agents of the chat (who may greet)."""

    class Meta:
        unknown = EXCLUDE

    def __init__(self, *, sender_ids=(), **kwargs):
        super().__init__(**kwargs)
        self.sender_ids = {str(sender_id) for sender_id in sender_ids}

    path = fields.String(load_default="")
    delay_seconds = fields.Integer(
        load_default=0,
        validate=validate.Range(
            min=0, max=MAX_DELAY_SECONDS,
            error=f"Enter a number of seconds from 0 to {MAX_DELAY_SECONDS}.",
        ),
        error_messages={"invalid": "Enter a whole number of seconds."},
    )
    min_cart_value = fields.Decimal(
        load_default=None, places=2, allow_nan=False,
        validate=validate.Range(min=0, max=10**9, error="Enter an amount of 0 or more."),
        error_messages={"invalid": "Enter an amount, e.g. 100 or 99.50.",
                        "special": "Enter an amount, e.g. 100 or 99.50."},
    )
    event = fields.String(load_default="", validate=validate.Regexp(
        IDENTIFIER, error="Enter an event name: a letter, then letters, digits, _ . or -."
    ))
    text = ChatText(
        required=True,
        validate=[validate.Length(min=1, max=500, error="Enter 1 to 500 characters."), readable],
        error_messages={"required": "Enter the greeting's text."},
    )
    sender_id = fields.String(
        required=True, error_messages={"required": "Choose who greets."}
    )
    enabled = fields.Boolean(load_default=False)

    @validates("path")
    def _path(self, value, **_kwargs):
        if value:
            try:
                chat_path(value)
            except ValueError as exc:
                raise ValidationError(f"Enter a path: {exc}") from None

    @validates("sender_id")
    def _sender(self, value, **_kwargs):
        if value not in self.sender_ids:
            raise ValidationError("Choose an agent of this chat.")
