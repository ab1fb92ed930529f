"""What the widget's "My orders" and the side panel's order lookup send."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate, validates

from responso_chat.orders.phones import normalize_phone
from responso_chat.schemas.common import Trimmed, TrimmedForm, readable
from responso_chat.vocab import LANGUAGES, ORDER_REQUESTS

#: An order number: Base's (digits) or the shop's own (letters, digits, - / _).
ORDER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]{0,49}")
LOOKUP_ERROR = "Enter an order number (like 5104101 or 1202) or a phone number."
_SIGNATURE = validate.Regexp(r"^[0-9a-fA-F]{64}$", error="Not a signature.")


class OrderAccessSchema(Trimmed):
    """The widget asks to see the orders of an e-mail the shop vouches for."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    signature = fields.String(load_default=None, validate=_SIGNATURE)


class OrderCodeRequestSchema(Trimmed):
    """The customer asks for a one-time code at the address they typed."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))


class OrderCodeCheckSchema(Trimmed):
    """The customer types the code they received."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{6}$", error="Enter the 6 digits of the code."),
    )


class OrderRequestSchema(Trimmed):
    """"Ask about this order", "Cancel" or "Return" from "My orders"."""

    request = fields.String(
        required=True,
        validate=validate.OneOf(ORDER_REQUESTS, error="Choose ask, cancel or return."),
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    name = fields.String(load_default="", validate=[validate.Length(max=100), readable])
    #: The widget's visitor token of the conversation going on, to continue it.
    ticket_token = fields.String(load_default=None, validate=validate.Length(max=1000))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))
    client_msg_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    page_url = fields.String(load_default=None, validate=validate.Length(max=2000))
    page_title = fields.String(load_default=None, validate=validate.Length(max=300))


class OrderLookupSchema(TrimmedForm):
    """The side panel's "Find an order": an order number or a phone number."""

    q = fields.String(
        required=True,
        validate=validate.Length(max=50, error=LOOKUP_ERROR),
        error_messages={"required": "Enter an order number or a phone number."},
    )

    @validates("q")
    def _number_or_phone(self, value, **_kwargs):
        if not (ORDER_NUMBER.fullmatch(value) or normalize_phone(value)):
            raise ValidationError(LOOKUP_ERROR)
