"""The report as CSV: the page's figures, one per row, as ``section,item,measure,value``.

Times are in seconds (two decimals), averages with two decimals, empty when there is no
figure. Text from people (chat and agent names) that a spreadsheet would take for a formula
is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io

from responso_chat.reports.figures import WEEKDAYS, Report

HEADER = ("section", "item", "measure", "value")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _number(value, digits: int = 2) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def report_rows(report: Report) -> list[tuple[str, str, str, str]]:
    """Every figure of ``report`` as ``(section, item, measure, value)``."""
    chat = _text(report.chat.name) if report.chat is not None else "All chats"
    rows = [
        ("report", "from", "date", report.start.isoformat()),
        ("report", "to", "date", report.end.isoformat()),
        ("report", "chat", "name", chat),
        ("report", "timezone", "name", report.timezone),
        ("conversations", "all", "count", str(report.conversations)),
    ]
    rows += [("per_day", day.isoformat(), "conversations", str(n)) for day, n in report.per_day]
    rows += [("per_chat", _text(name), "conversations", str(n)) for name, n in report.per_chat]
    for section, durations in (("first_response", report.first_response),
                               ("resolution", report.resolution)):
        rows += [
            (section, "all", "tickets", str(durations.count)),
            (section, "all", "median_seconds", _number(durations.median)),
            (section, "all", "p90_seconds", _number(durations.p90)),
        ]
    rows += [
        ("ratings", "all", "count", str(report.ratings)),
        ("ratings", "all", "average", _number(report.average_rating)),
    ]
    rows += [("ratings", str(score), "count", str(n))
             for score, n in sorted(report.rating_counts.items())]
    rows += [
        ("busiest_hours", f"{WEEKDAYS[weekday]} {hour:02d}:00", "conversations", str(n))
        for (weekday, hour), n in sorted(report.hours.items())
    ]
    for agent in report.agents:
        name = _text(agent.name)
        rows += [
            ("per_agent", name, "conversations", str(agent.conversations)),
            ("per_agent", name, "first_response_median_seconds",
             _number(agent.first_response_median)),
            ("per_agent", name, "resolution_median_seconds", _number(agent.resolution_median)),
            ("per_agent", name, "average_rating", _number(agent.average_rating)),
            ("per_agent", name, "ratings", str(agent.ratings)),
        ]
    return rows


def report_csv(report: Report) -> str:
    """The CSV text of ``report``, its header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(report_rows(report))
    return out.getvalue()


def csv_filename(report: Report) -> str:
    """``responso-chat-report-<from>-<to>.csv``."""
    return f"responso-chat-report-{report.start.isoformat()}-{report.end.isoformat()}.csv"
