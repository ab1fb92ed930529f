"""What every audience's schemas share: the id bound and the one parser of ids and sequence
numbers, the text checks (readable names, message length, text no database stores, tags) and
the base schemas that tidy form input."""

from __future__ import annotations

import re
import unicodedata

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from responso_chat.state import plugin_state
from responso_chat.vocab import CANNED_VARIABLES

#: Largest id or sequence number a record can have: they are 32-bit integers in the database,
#: so larger ones cannot exist (they are refused, not looked up).
MAX_ID = 2**31 - 1
#: Longest tag, in characters.
TAG_MAX_LENGTH = 50

# --- Ids and sequence numbers -----------------------------------------------------------------

#: A whole number as text: ASCII digits only ("²", "١", "1e3", "-1", " 1" and "1_0" are not),
#: at most 20 of them, so the text never becomes a huge int.
_DIGITS = re.compile(r"[0-9]{1,20}")


def _whole_number(value) -> int | None:
    """``value`` as an int when it is one (not a bool) or a text of ASCII digits, else None."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def parse_count(value) -> int | None:
    """An id or sequence number from 0 to :data:`MAX_ID`, given as an int or a text of ASCII
    digits (a URL, a query, a websocket frame); None when it is anything else."""
    number = _whole_number(value)
    return number if number is not None and 0 <= number <= MAX_ID else None


class SequenceNumber(fields.Integer):
    """A sequence number (0 to :data:`MAX_ID`), read as :func:`parse_count` reads it; with
    ``strict``, a JSON number only."""

    default_error_messages = {"invalid": "Give a sequence number (0 or more)."}
    minimum = 0

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=self.minimum, max=MAX_ID))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if self.strict and isinstance(value, str):
            raise self.make_error("invalid")
        number = _whole_number(value)
        if number is None:
            raise self.make_error("invalid")
        return number


class Id(SequenceNumber):
    """A record's id: a whole number from 1 to :data:`MAX_ID` (larger ones cannot exist)."""

    default_error_messages = {"invalid": "Not a valid integer."}
    minimum = 1


class AfterQuerySchema(Schema):
    """``?after=<seq>``: follow a conversation from a known sequence number (every reader of
    ``after`` — widget, inbox, API, websocket — goes through this field)."""

    class Meta:
        unknown = EXCLUDE

    after = SequenceNumber(
        load_default=0,
        metadata={"description": "Only messages with a higher `seq` (to follow a conversation)."},
    )


# --- Text -------------------------------------------------------------------------------------

#: Characters no database column stores: NUL (PostgreSQL refuses it), and lone surrogates.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text may not contain NUL characters or lone surrogates."


def unstorable(value) -> bool:
    """Whether a string anywhere in ``value`` (JSON-like) holds a character no database
    stores: NUL (PostgreSQL refuses it) or a lone surrogate (not encodable in UTF-8; JSON's
    ``\\ud800`` escapes make them). Walked without recursion, so no depth exhausts the stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


#: Controls that reorder the text after them (a name could make a line read backwards).
_DIRECTION_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern).
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def readable(value: str) -> None:
    """Refuse a name or subject made only of invisible characters, or with direction controls."""
    if _DIRECTION_CONTROLS.search(value):
        raise ValidationError("Remove the text-direction control characters.")
    if not any(
        unicodedata.category(c)[0] in "LNPS" and c not in _BLANK_GLYPHS for c in value
    ):
        raise ValidationError("Enter visible characters.")


def check_message_length(value: str) -> None:
    """Refuse a message longer than the ``MAX_MESSAGE_LENGTH`` setting."""
    limit = plugin_state().setting("MAX_MESSAGE_LENGTH")
    if len(value) > limit:
        raise ValidationError(f"Longer than maximum length {limit}.")


def tag_name(name: str) -> str:
    """A tag as stored: trimmed, inner whitespace collapsed, lower case (ValueError with the
    reason when it is blank or too long)."""
    tag = re.sub(r"\s+", " ", name or "").strip().lower()
    if not tag:
        raise ValueError("Enter a tag.")
    if len(tag) > TAG_MAX_LENGTH:
        raise ValueError(f"A tag has at most {TAG_MAX_LENGTH} characters.")
    return tag


def valid_tag(value: str) -> None:
    """Validator: refuse what :func:`tag_name` refuses, with its message."""
    try:
        tag_name(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


#: A variable of a canned response left unfilled in a text (``{{order_number}}``, or typed
#: ``{{ order_number }}``): the composer keeps it visible, and no reply goes out with one. Only
#: the canned variables count: braces in a customer's name ("Zoe {{vip}}") are their text.
UNFILLED_VARIABLE = re.compile(r"\{\{\s*(?:" + "|".join(CANNED_VARIABLES) + r")\s*\}\}")


def unfilled_marker(name: str) -> str:
    """What stands in a rendered canned response for variable ``name`` without a value."""
    return "{{" + name + "}}"


class RepliesFilled:
    """Mixin of the schemas of an agent's message, whatever carries it (text alone or with
    files): a reply never reaches the customer with a canned response's variable unfilled;
    an internal note may quote one."""

    @validates_schema
    def _no_unfilled_variables(self, data, **_kwargs):
        if data.get("internal"):
            return
        found = UNFILLED_VARIABLE.search(data.get("body") or "")
        if found:
            raise ValidationError(
                f"Replace {found.group(0)} with the right text: a variable without a value is "
                "never sent to the customer.",
                "body",
            )


# --- Base schemas ---------------------------------------------------------------------------


class Trimmed(Schema):
    """Strips surrounding whitespace from every string before validation."""

    @pre_load
    def _strip(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


class TrimmedForm(Schema):
    """A form's fields trimmed, those left blank counted as not given; unknown keys ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _trim(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        trimmed = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in trimmed.items() if v != ""}
