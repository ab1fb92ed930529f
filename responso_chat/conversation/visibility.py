"""Whether a chat's widget shows on a page at a given moment: the one place that decides it.

Pure functions of a chat (any object with the :class:`Chat` model's attributes), a page path
and an aware ``now``; nothing here reads the database, the request or the clock.

- Path rules: a listed path ``/shop`` matches ``/shop`` and ``/shop/...`` but not ``/shop-old``;
  ``*`` matches any characters within one path segment; the query string and fragment are
  ignored. A whitelist shows the widget only on listed paths, a blacklist hides it there.
- Opening hours are wall-clock times in the chat's IANA timezone: the chat is open when the
  local clock reads a time inside one of the day's intervals (``[start, end)``). An interval
  whose end is before its start runs past midnight into the next day. On DST days this stays
  true to the clock: a start time skipped by the spring change opens the chat at the change,
  and an hour repeated in autumn is open (or closed) both times.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAY = ("00:00", "24:00")
DAY_MINUTES = 24 * 60
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
#: Days of boundaries looked at for the next change: a weekly schedule changes within a week.
_HORIZON_DAYS = 9


def parse_time(value: str) -> int:
    """Minutes since midnight of an ``HH:MM`` time (``24:00`` is the end of the day)."""
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError(f"not an HH:MM time: {value!r}")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def interval_minutes(start: str, end: str) -> tuple[int, int] | None:
    """``(start, end)`` in minutes from the day's midnight; an end before the start runs past
    midnight (``end`` above 1440). None for an empty interval (start equal to end)."""
    first, last = parse_time(start), parse_time(end)
    if last < first:
        last += DAY_MINUTES
    return (first, last) if last > first else None


def _day_spans(opening_hours, day: date) -> list[tuple[int, int]]:
    intervals = (opening_hours or {}).get(WEEKDAYS[day.weekday()]) or []
    spans = (interval_minutes(start, end) for start, end in intervals)
    return [span for span in spans if span is not None]


def _is_open_at_wall(opening_hours, wall: datetime) -> bool:
    """Whether the local wall-clock time ``wall`` (naive) falls inside an interval."""
    for day in (wall.date() - timedelta(days=1), wall.date()):
        midnight = datetime.combine(day, time())
        for first, last in _day_spans(opening_hours, day):
            if midnight + timedelta(minutes=first) <= wall < midnight + timedelta(minutes=last):
                return True
    return False


def _wall(now: datetime, zone: ZoneInfo) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(zone).replace(tzinfo=None)


def is_open(chat, now: datetime) -> bool:
    """Whether ``chat`` is within its opening hours at ``now``."""
    return _is_open_at_wall(chat.opening_hours, _wall(now, ZoneInfo(chat.timezone)))


def _offset_change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant between ``before`` and ``after`` (UTC) where ``zone``'s offset changes."""
    low, high = int(before.timestamp()), int(after.timestamp())
    offset = datetime.fromtimestamp(low, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _instants(zone: ZoneInfo, wall: datetime) -> set[datetime]:
    """Every instant at which the clock reaches or jumps over the wall time ``wall``."""
    first, second = (wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    if first == second:
        return {first}
    # A skipped or repeated wall time: the clock also crosses it when the offset changes.
    return {first, second, _offset_change(zone, min(first, second), max(first, second))}


def opening_state(chat, now: datetime) -> tuple[bool, datetime | None]:
    """``(open_now, next_change_at)``: whether ``chat`` is open at ``now`` and the next instant
    (aware UTC) it opens or closes, or None when it never changes (open 24/7 or never open)."""
    zone = ZoneInfo(chat.timezone)
    open_now = _is_open_at_wall(chat.opening_hours, _wall(now, zone))
    today = _wall(now, zone).date()
    candidates: set[datetime] = set()
    for offset in range(-1, _HORIZON_DAYS):
        day = today + timedelta(days=offset)
        midnight = datetime.combine(day, time())
        for first, last in _day_spans(chat.opening_hours, day):
            for minutes in (first, last):
                candidates |= _instants(zone, midnight + timedelta(minutes=minutes))
    for instant in sorted(c for c in candidates if c > now):
        if _is_open_at_wall(chat.opening_hours, _wall(instant, zone)) != open_now:
            return open_now, instant
    return open_now, None


def hours_today(chat, now: datetime) -> str:
    """Today's opening hours in the chat's timezone, for the chat list ("09:00–17:00")."""
    day = WEEKDAYS[_wall(now, ZoneInfo(chat.timezone)).weekday()]
    intervals = (chat.opening_hours or {}).get(day) or []
    if not intervals:
        return "Closed"
    if [tuple(interval) for interval in intervals] == [ALL_DAY]:
        return "Open all day"
    return ", ".join(f"{start}–{end}" for start, end in intervals)


def normalize_path(path: str) -> str:
    """A page path as rules compare it: no query string or fragment, percent-decoded, single
    slashes, no trailing slash (except the root ``/``)."""
    path = re.split(r"[?#]", path or "", maxsplit=1)[0]
    path = "/" + "/".join(segment for segment in unquote(path).split("/") if segment)
    return path


def _segments(path: str) -> list[str]:
    return [segment for segment in normalize_path(path).split("/") if segment]


@lru_cache(maxsize=1024)
def _segment_pattern(segment: str) -> re.Pattern:
    return re.compile("[^/]*".join(re.escape(part) for part in segment.split("*")))


def path_matches(rule: str, path: str) -> bool:
    """Whether the listed path ``rule`` covers the page ``path`` (the page itself or below it;
    ``*`` stands for any characters within one segment)."""
    rule_segments = _segments(rule)  # none for the root "/", which covers every page
    path_segments = _segments(path)
    if len(rule_segments) > len(path_segments):
        return False
    return all(
        _segment_pattern(wanted).fullmatch(actual)
        for wanted, actual in zip(rule_segments, path_segments, strict=False)
    )


def path_allowed(chat, path: str) -> bool:
    """Whether ``chat``'s path rules let the widget show on ``path``."""
    listed = any(path_matches(rule, path) for rule in chat.paths or ())
    return listed if chat.path_rule_type == "whitelist" else not listed


def is_visible(chat, path: str, now: datetime) -> bool:
    """Whether the widget of ``chat`` shows on page ``path`` at ``now``: enabled, allowed by the
    path rules, and open or set to show its out-of-hours message."""
    return (
        bool(chat.enabled)
        and path_allowed(chat, path)
        and (chat.out_of_hours_behaviour == "show_message" or is_open(chat, now))
    )
