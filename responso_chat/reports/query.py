"""The report a page's query string asks for: its filters validated, the chat found, the
default range filled in the report's timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from marshmallow import ValidationError

from responso_chat.conversation import chats
from responso_chat.models import Chat, utcnow
from responso_chat.reports.figures import build_report, report_timezone
from responso_chat.schemas.reports import UNKNOWN_CHAT, ReportFiltersSchema, report_range
from responso_chat.state import plugin_state


def chat_choices() -> list[tuple[int, str]]:
    """Every chat a report can be of, ``(id, name)`` by name."""
    rows = plugin_state().db.session.execute(
        sa.select(Chat.id, Chat.name).order_by(sa.func.lower(Chat.name), Chat.id)
    )
    return [(chat_id, name) for chat_id, name in rows]


def report_for(args: dict, now: datetime | None = None):
    """``(report, errors)`` for the query string ``args`` (``from``, ``to``, ``chat``):
    the report and no errors, or None and the errors by field."""
    try:
        values = ReportFiltersSchema().load(args)
    except ValidationError as exc:
        return None, exc.messages
    chat = None
    if "chat" in values:
        chat = chats.get_chat(values["chat"])
        if chat is None:
            return None, {"chat": [UNKNOWN_CHAT]}
    today = (now or utcnow()).astimezone(ZoneInfo(report_timezone(chat))).date()
    try:
        start, end = report_range(values, today)
    except ValidationError as exc:
        return None, exc.messages
    return build_report(start, end, chat), {}
