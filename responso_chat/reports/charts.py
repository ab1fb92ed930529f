"""The report's charts as SVG geometry: bars and heat-map cells computed here, drawn by the
template (``reports/_charts.html``) with a title, and each beside a table of its data."""

from __future__ import annotations

from dataclasses import dataclass

from responso_chat.reports.figures import WEEKDAYS, Report

WIDTH = 640
BAR_HEIGHT = 160
ROW = 24
LABEL = 150


@dataclass(frozen=True)
class Bar:
    """One bar: its box in the SVG, its label and value."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def _scale(values) -> int:
    return max([*values, 1])


def day_columns(report: Report) -> list[Bar]:
    """Conversations per day as columns from left (first day) to right, on a common scale."""
    days = report.per_day
    if not days:
        return []
    top, step = _scale(count for _day, count in days), WIDTH / len(days)
    bars = []
    for index, (day, count) in enumerate(days):
        height = BAR_HEIGHT * count / top
        bars.append(Bar(round(index * step + step * 0.1, 2), round(BAR_HEIGHT - height, 2),
                        round(max(step * 0.8, 1), 2), round(height, 2), day.isoformat(), count))
    return bars


def rows_of(pairs) -> list[Bar]:
    """Horizontal bars of ``(label, value)`` pairs, one row each, after a label column."""
    pairs = list(pairs)
    top = _scale(value for _label, value in pairs)
    room = WIDTH - LABEL - 60
    return [
        Bar(LABEL, index * ROW + 3, round(room * value / top, 2), ROW - 6, str(label), value)
        for index, (label, value) in enumerate(pairs)
    ]


def chat_rows(report: Report) -> list[Bar]:
    """Conversations per chat, most first."""
    return rows_of(report.per_chat)


def rating_rows(report: Report) -> list[Bar]:
    """How many ratings of each score, 5 first."""
    return rows_of((f"{score} out of 5", report.rating_counts.get(score, 0))
                   for score in sorted(report.rating_counts, reverse=True))


@dataclass(frozen=True)
class Cell:
    """One hour of one weekday in the busiest-hours heat map."""

    x: float
    y: float
    weekday: str
    hour: int
    value: int
    opacity: float


def hour_cells(report: Report) -> list[Cell]:
    """7 × 24 cells, weekday rows and hour columns, darker for more conversations."""
    top = _scale(report.hours.values())
    size = (WIDTH - 40) / 24
    return [
        Cell(round(40 + hour * size, 2), weekday * ROW, WEEKDAYS[weekday], hour,
             report.hours.get((weekday, hour), 0),
             round(0.08 + 0.92 * report.hours.get((weekday, hour), 0) / top, 3))
        for weekday in range(7)
        for hour in range(24)
    ]


def busiest(report: Report, count: int = 3) -> list[tuple[str, int, int]]:
    """The ``count`` busiest (weekday, hour, conversations), busiest first."""
    ranked = sorted(report.hours.items(), key=lambda item: (-item[1], item[0]))
    return [(WEEKDAYS[weekday], hour, value) for (weekday, hour), value in ranked[:count]
            if value]


def duration_text(seconds: float | None) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``; a dash for
    none."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min {seconds % 60:02d} s" if minutes < 10 else f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"
