"""Keyset pagination, for the inbox's lists and the JSON API's: one cursor codec, one page type.

A page ends with an opaque cursor, the URL-safe base64 (unpadded) of the JSON list of the last
row's sort key: whole numbers, and times as ISO 8601 text with their UTC offset
(``["2024-05-01T09:30:00+00:00", 42]`` for the inbox's newest-activity-first order,
``[42]`` for a list by id). The next request hands it back and gets the rows after that key,
served straight from an index however deep the page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from responso_chat.state import plugin_state

#: Whole numbers in a cursor stay below this (the id and position columns are 32-bit).
MAX_KEY = 2**31


class InvalidCursor(ValueError):
    """A pagination cursor that was not handed out by :func:`encode_cursor` (or is stale)."""


@dataclass
class Page:
    """One page of a list and the cursor of the next page (None on the last one)."""

    items: list
    next_cursor: str | None


def encode_cursor(*key: int | datetime) -> str:
    """The opaque cursor pointing after the row whose sort key is ``key``."""
    parts = [part.isoformat() if isinstance(part, datetime) else part for part in key]
    raw = json.dumps(parts, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decoded_part(part, kind):
    if kind is datetime:
        if not isinstance(part, str):
            raise ValueError("not a time")
        when = datetime.fromisoformat(part)
        if when.tzinfo is None:
            raise ValueError("a time without its offset")
        return when
    if type(part) is not int or not 0 <= part < MAX_KEY:
        raise ValueError("not a whole number of a key")
    return part


def decode_cursor(cursor: str, kinds: tuple[type, ...]) -> tuple:
    """The sort key a cursor points after, one part of each of ``kinds`` (``int`` or
    ``datetime``); :class:`InvalidCursor` if it is forged or malformed."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(kinds):
            raise ValueError("not a cursor")
        return tuple(_decoded_part(part, kind) for part, kind in zip(key, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("This cursor is not valid.") from exc


def after_clause(columns, cursor: str, kinds: tuple[type, ...], descending: bool = False):
    """The WHERE clause of the rows after ``cursor`` in the order of ``columns`` (a row
    comparison, which an index on the columns serves)."""
    row, key = sa.tuple_(*columns), decode_cursor(cursor, kinds)
    return row < sa.tuple_(*key) if descending else row > sa.tuple_(*key)


def page_of(rows: list, limit: int, columns) -> Page:
    """The page of ``rows`` fetched with ``limit + 1``: the extra row says a next page exists,
    whose cursor is the last kept row's values of ``columns``."""
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    return Page(rows, encode_cursor(*(getattr(rows[-1], column.key) for column in columns)))


def keyset_page(query, columns, cursor: str | None, limit: int) -> Page:
    """One page of ``query`` in ascending order of ``columns`` (whole numbers, unique together)."""
    if cursor:
        query = query.where(after_clause(columns, cursor, (int,) * len(columns)))
    rows = list(plugin_state().db.session.scalars(query.order_by(*columns).limit(limit + 1)))
    return page_of(rows, limit, columns)
