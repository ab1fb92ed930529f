"""What erasing a contact takes (the typed confirmation) and what the API answers about an
erasure."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class EraseConfirmSchema(Schema):
    """The confirmation of an erasure: the contact's e-mail address, typed by the admin."""

    class Meta:
        unknown = EXCLUDE

    confirm = fields.String(
        required=True,
        validate=validate.Length(min=1, max=254, error="Type the contact's e-mail address."),
        error_messages={
            "required": "Type the contact's e-mail address to confirm.",
            "invalid": "Type the contact's e-mail address to confirm.",
        },
        metadata={"description": "The contact's e-mail address (any case), as a confirmation."},
    )


class ApiErasureSchema(Schema):
    """The outcome of an erasure: done now (with the rows changed by kind), or done before
    (``erased`` false, and when)."""

    contact_id = fields.Integer(required=True)
    erased = fields.Boolean(
        required=True, metadata={"description": "False: the data was already erased."}
    )
    message = fields.String(required=True)
    erased_at = fields.DateTime(allow_none=True, required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
