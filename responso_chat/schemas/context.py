"""The shop's context of a chat: the visit's trail and tracked events a customer's browser
sends, and the cart the host's callable returns (checked like any input: it may be garbage)."""

from __future__ import annotations

import json
import re

from marshmallow import Schema, ValidationError, fields, validate

from responso_chat.schemas.common import unstorable

#: Pages and tracked events kept per ticket (the widget keeps as many).
TRAIL_MAX = 20
EVENTS_MAX = 20
#: A tracked event's data: at most this many keys, and this many bytes as JSON.
EVENT_DATA_MAX_KEYS = 20
EVENT_DATA_MAX_BYTES = 1024
#: An event name or a data key: a short identifier (the widget checks the same pattern).
IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$"
_IDENTIFIER = re.compile(IDENTIFIER)
#: A cart's lines shown at most.
CART_MAX_ITEMS = 100


def _storable(value: str) -> None:
    if unstorable(value):
        raise ValidationError("Text may not contain NUL characters or lone surrogates.")


def _path_only(value: str) -> None:
    if not value.startswith("/") or "?" in value or "#" in value:
        raise ValidationError("A path starting with / and no query string or fragment.")


class TrailPageSchema(Schema):
    """A page of the visit: its path (no query string or fragment), title and time."""

    path = fields.String(
        required=True, validate=[validate.Length(max=300), _path_only, _storable]
    )
    title = fields.String(load_default="", validate=[validate.Length(max=200), _storable])
    at = fields.AwareDateTime(required=True)


def check_event_data(data) -> None:
    """Refuse a tracked event's data unless it is a small flat object of scalar values."""
    if not isinstance(data, dict):
        raise ValidationError("Send an object.")
    if len(data) > EVENT_DATA_MAX_KEYS:
        raise ValidationError(f"At most {EVENT_DATA_MAX_KEYS} keys.")
    for key, value in data.items():
        if not _IDENTIFIER.match(key):
            raise ValidationError(f"Not a short identifier: {key[:40]!r}.")
        if not (value is None or isinstance(value, str | int | float | bool)):
            raise ValidationError(f"{key}: only text, numbers, true, false or null.")
    if len(json.dumps(data, separators=(",", ":"))) > EVENT_DATA_MAX_BYTES:
        raise ValidationError(f"At most {EVENT_DATA_MAX_BYTES} bytes as JSON.")
    if unstorable(data):
        raise ValidationError("Text may not contain NUL characters or lone surrogates.")


class TrackedEventSchema(Schema):
    """An event the shop tracked with ``ResponsoChat.track(event, data)``."""

    event = fields.String(required=True, validate=validate.Regexp(
        IDENTIFIER, error="A short identifier: a letter, then letters, digits, _ . or -."
    ))
    data = fields.Raw(load_default=dict, validate=check_event_data)
    at = fields.AwareDateTime(required=True)


class VisitContextSchema(Schema):
    """What the widget sends with Start chat and on later page views: the trail and events."""

    trail = fields.List(
        fields.Nested(TrailPageSchema), load_default=list, validate=validate.Length(max=TRAIL_MAX)
    )
    events = fields.List(
        fields.Nested(TrackedEventSchema), load_default=list,
        validate=validate.Length(max=EVENTS_MAX),
    )


class CartItemSchema(Schema):
    """A cart line as the host returns it."""

    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), _storable])
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100000))
    price = fields.Decimal(required=True, places=2, allow_nan=False,
                           validate=validate.Range(0, 10**9))


class CartSchema(Schema):
    """The host's cart: its lines, total and currency (ISO 4217 code)."""

    items = fields.List(fields.Nested(CartItemSchema), required=True,
                        validate=validate.Length(max=CART_MAX_ITEMS))
    total = fields.Decimal(required=True, places=2, allow_nan=False,
                           validate=validate.Range(0, 10**10))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
