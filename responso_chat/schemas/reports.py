"""The report page's filters: a date range (From, To) and a chat, from the query string."""

from __future__ import annotations

from datetime import date, timedelta

from marshmallow import ValidationError, fields, validate, validates_schema

from responso_chat.schemas.common import MAX_ID, TrimmedForm

#: Longest range a report covers, in days (a year, leap day included).
MAX_REPORT_DAYS = 366
#: The range a report covers when none is given: the last 30 days, today included.
DEFAULT_REPORT_DAYS = 30

UNKNOWN_CHAT = "Choose a chat from the list."
DATE_ERROR = "Enter a date as YYYY-MM-DD, for example 2026-12-01."
#: The days a report may start or end on.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
DAY_RANGE_ERROR = f"Enter a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."


class ReportDate(fields.Date):
    """A day written YYYY-MM-DD."""

    default_error_messages = {"invalid": DATE_ERROR, "format": DATE_ERROR}


class ReportFiltersSchema(TrimmedForm):
    """From and To (days, both included) and the chat (none: every chat). Blank fields are
    not given: the range defaults to the last :data:`DEFAULT_REPORT_DAYS` days."""

    start = ReportDate(data_key="from", format="%Y-%m-%d", validate=validate.Range(
        min=FIRST_DAY, max=LAST_DAY, error=DAY_RANGE_ERROR))
    end = ReportDate(data_key="to", format="%Y-%m-%d", validate=validate.Range(
        min=FIRST_DAY, max=LAST_DAY, error=DAY_RANGE_ERROR))
    chat = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID, error=UNKNOWN_CHAT),
        error_messages={"invalid": UNKNOWN_CHAT},
    )

    @validates_schema
    def _range(self, data, **_kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("To must be on or after From.", "to")
        if start and end and (end - start).days + 1 > MAX_REPORT_DAYS:
            raise ValidationError(f"Choose at most {MAX_REPORT_DAYS} days.", "to")


def report_range(values: dict, today: date) -> tuple[date, date]:
    """The range of validated ``values`` with the defaults filled in (To: today, or From when
    it is later; From: :data:`DEFAULT_REPORT_DAYS` days up to To); ``ValidationError`` on
    From when the range comes out longer than :data:`MAX_REPORT_DAYS`."""
    end = values.get("end") or max(today, values.get("start") or today)
    start = values.get("start") or end - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        raise ValidationError({"from": [f"Choose at most {MAX_REPORT_DAYS} days."]})
    return start, end
