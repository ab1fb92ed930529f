"""The one visibility function: path rules, opening hours across DST and midnight, behaviour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responso_chat.conversation.visibility import (
    WEEKDAYS,
    hours_today,
    is_open,
    is_visible,
    normalize_path,
    opening_state,
    path_allowed,
    path_matches,
)

WARSAW = "Europe/Warsaw"
ZONES = (
    WARSAW,
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere: DST from October to April
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",  # changes at midnight: local midnight is skipped once a year
    "Asia/Kolkata",  # no DST, a half-hour offset
    "UTC",
)
#: DST changes near which the clock is most likely wrong: (zone, the change's instant).
TRANSITIONS = (
    (WARSAW, datetime(2025, 3, 30, 1, tzinfo=UTC)),  # last Sunday of March: 02:00 -> 03:00
    (WARSAW, datetime(2025, 10, 26, 1, tzinfo=UTC)),  # last Sunday of October: 03:00 -> 02:00
    (WARSAW, datetime(2026, 3, 29, 1, tzinfo=UTC)),
    (WARSAW, datetime(2026, 10, 25, 1, tzinfo=UTC)),
    ("America/New_York", datetime(2025, 3, 9, 7, tzinfo=UTC)),
    ("America/New_York", datetime(2025, 11, 2, 6, tzinfo=UTC)),
    ("Australia/Sydney", datetime(2025, 4, 5, 16, tzinfo=UTC)),
    ("Australia/Sydney", datetime(2025, 10, 4, 16, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2025, 4, 5, 15, tzinfo=UTC)),
    ("America/Santiago", datetime(2025, 4, 6, 3, tzinfo=UTC)),
    ("America/Santiago", datetime(2025, 9, 7, 4, tzinfo=UTC)),
)


def chat(opening_hours=None, timezone=WARSAW, **fields):
    """A chat-like object: the visibility functions only read attributes."""
    values = {
        "enabled": True,
        "paths": [],
        "path_rule_type": "blacklist",
        "out_of_hours_behaviour": "hide_widget",
        "opening_hours": opening_hours or {},
        "timezone": timezone,
    }
    values.update(fields)
    return SimpleNamespace(**values)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clock_says_open(hours: dict, timezone: str, instant: datetime) -> bool:
    """Reference: read the local clock, then look at today's intervals and at yesterday's
    intervals that run past midnight."""
    local = instant.astimezone(ZoneInfo(timezone))
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]

    def span(start, end):
        first, last = (int(t[:2]) * 3600 + int(t[3:]) * 60 for t in (start, end))
        return first, last + 86400 if last < first else last

    for start, end in hours.get(today, []):
        first, last = span(start, end)
        if first <= seconds < last:
            return True
    for start, end in hours.get(yesterday, []):
        first, last = span(start, end)
        if last > 86400 and seconds < last - 86400:
            return True
    return False


# --- Strategies -------------------------------------------------------------------------

interval = st.tuples(st.integers(0, 1439), st.integers(0, 1440)).filter(
    lambda pair: pair[0] != pair[1] % 1440 or pair[1] == 1440
).map(lambda pair: [hhmm(pair[0]), hhmm(pair[1])])
day_hours = st.one_of(
    st.just([]),
    st.just([["00:00", "24:00"]]),
    st.lists(interval, min_size=1, max_size=3),
)
schedules = st.fixed_dictionaries({day: day_hours for day in WEEKDAYS})
anywhen = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@st.composite
def zone_and_now(draw):
    """A timezone and an instant, often within two days of one of its DST changes."""
    if draw(st.booleans()):
        zone, change = draw(st.sampled_from(TRANSITIONS))
        seconds = draw(st.integers(-2 * 86400, 2 * 86400))
        return zone, change + timedelta(seconds=seconds, microseconds=draw(st.integers(0, 999)))
    return draw(st.sampled_from(ZONES)), draw(anywhen)


# --- Opening hours: properties ----------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(schedules, zone_and_now())
def test_open_now_is_what_the_local_clock_says(hours, zone_now):
    zone, now = zone_now
    c = chat(hours, zone)
    open_now, _next = opening_state(c, now)
    assert open_now is is_open(c, now) is clock_says_open(hours, zone, now)


@settings(max_examples=300, deadline=None)
@given(schedules, zone_and_now())
def test_next_change_is_the_first_instant_the_state_changes(hours, zone_now):
    zone, now = zone_now
    c = chat(hours, zone)
    open_now, next_change = opening_state(c, now)
    if next_change is None:  # never changes: open around the clock or never open
        week = [now + timedelta(minutes=20 * k) for k in range(8 * 24 * 3)]
        assert all(clock_says_open(hours, zone, t) is open_now for t in week)
        return
    assert next_change.tzinfo is not None and next_change > now
    assert clock_says_open(hours, zone, next_change) is not open_now
    between = [now + (next_change - now) * k / 40 for k in range(40)]
    between.append(max(now, next_change - timedelta(seconds=1)))
    assert all(clock_says_open(hours, zone, t) is open_now for t in between)


@settings(max_examples=200, deadline=None)
@given(
    schedules,
    zone_and_now(),
    st.sampled_from(["/", "/shop", "/shop/shirts", "/checkout"]),
    st.sampled_from(["whitelist", "blacklist"]),
    st.sampled_from(["show_message", "hide_widget"]),
    st.booleans(),
)
def test_visible_combines_enabled_paths_hours_and_behaviour(
    hours, zone_now, path, rule_type, behaviour, enabled
):
    zone, now = zone_now
    c = chat(
        hours,
        zone,
        paths=["/shop"],
        path_rule_type=rule_type,
        out_of_hours_behaviour=behaviour,
        enabled=enabled,
    )
    expected = (
        enabled
        and path_allowed(c, path)
        and (behaviour == "show_message" or clock_says_open(hours, zone, now))
    )
    assert is_visible(c, path, now) is expected


# --- Opening hours: examples on the days the clock changes ------------------------------


def test_a_start_skipped_by_the_spring_change_opens_at_the_change():
    # Warsaw, Sunday 30 March 2025: at 02:00 the clock jumps to 03:00 (01:00 UTC).
    c = chat({"sun": [["02:30", "04:00"]]})
    assert opening_state(c, datetime(2025, 3, 30, 0, 30, tzinfo=UTC)) == (
        False,
        datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
    )
    assert opening_state(c, datetime(2025, 3, 30, 1, 30, tzinfo=UTC)) == (
        True,
        datetime(2025, 3, 30, 2, 0, tzinfo=UTC),  # 04:00 summer time
    )


def test_the_hour_repeated_in_autumn_follows_the_clock_both_times():
    # Warsaw, Sunday 26 October 2025: at 03:00 summer time the clock goes back to 02:00.
    c = chat({"sun": [["00:00", "02:30"]]})
    at = lambda h, m: datetime(2025, 10, 26, h, m, tzinfo=UTC)  # noqa: E731
    assert opening_state(c, at(0, 10)) == (True, at(0, 30))  # 02:10 summer time
    assert opening_state(c, at(0, 45)) == (False, at(1, 0))  # 02:45 summer time
    assert opening_state(c, at(1, 10)) == (True, at(1, 30))  # 02:10 winter time again


def test_office_hours_resume_at_the_new_offset_after_a_dst_weekend():
    weekdays = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}
    # Friday 28 March 2025, 18:00 in Warsaw (winter time): next opening Monday 09:00 summer time.
    state = opening_state(chat(weekdays), datetime(2025, 3, 28, 17, 0, tzinfo=UTC))
    assert state == (False, datetime(2025, 3, 31, 7, 0, tzinfo=UTC))
    # Friday 24 October 2025, 18:00 summer time: Monday 09:00 is winter time.
    state = opening_state(chat(weekdays), datetime(2025, 10, 24, 16, 0, tzinfo=UTC))
    assert state == (False, datetime(2025, 10, 27, 8, 0, tzinfo=UTC))


def test_an_interval_past_midnight_runs_into_the_next_day():
    c = chat({"fri": [["22:00", "02:00"]]}, timezone="UTC")
    friday_late = datetime(2025, 6, 6, 23, 30, tzinfo=UTC)
    saturday_early = datetime(2025, 6, 7, 1, 0, tzinfo=UTC)
    assert opening_state(c, friday_late) == (True, datetime(2025, 6, 7, 2, 0, tzinfo=UTC))
    assert opening_state(c, saturday_early) == (True, datetime(2025, 6, 7, 2, 0, tzinfo=UTC))
    assert opening_state(c, datetime(2025, 6, 7, 2, 0, tzinfo=UTC)) == (
        False,
        datetime(2025, 6, 13, 22, 0, tzinfo=UTC),
    )
    # Sunday into Monday wraps around the week.
    c = chat({"sun": [["23:00", "01:00"]]}, timezone="UTC")
    assert is_open(c, datetime(2025, 6, 9, 0, 30, tzinfo=UTC))  # Monday 00:30


def test_an_interval_past_midnight_across_the_spring_change():
    # Saturday 29 March 2025 22:00 to Sunday 04:00 in Warsaw: closes at 04:00 summer time.
    c = chat({"sat": [["22:00", "04:00"]]})
    assert opening_state(c, datetime(2025, 3, 29, 23, 0, tzinfo=UTC)) == (
        True,
        datetime(2025, 3, 30, 2, 0, tzinfo=UTC),
    )


def test_always_open_and_never_open_never_change():
    always = {day: [["00:00", "24:00"]] for day in WEEKDAYS}
    now = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert opening_state(chat(always), now) == (True, None)
    assert opening_state(chat({}), now) == (False, None)


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        opening_state(chat({}), datetime(2025, 1, 1))


def test_hours_today_reads_the_day_in_the_chat_timezone():
    c = chat({"mon": [["09:00", "17:00"], ["22:00", "02:00"]], "tue": [["00:00", "24:00"]]})
    # Monday 23:30 UTC is already Tuesday in Warsaw.
    assert hours_today(c, datetime(2025, 6, 2, 12, 0, tzinfo=UTC)) == "09:00–17:00, 22:00–02:00"
    assert hours_today(c, datetime(2025, 6, 2, 23, 30, tzinfo=UTC)) == "Open all day"
    assert hours_today(c, datetime(2025, 6, 4, 12, 0, tzinfo=UTC)) == "Closed"


# --- Path rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        ("/shop", "/shop", True),
        ("/shop", "/shop/", True),
        ("/shop", "/shop/shirts/linen", True),
        ("/shop", "/shop?page=2", True),
        ("/shop", "/shop#reviews", True),
        ("/shop", "/shop-old", False),
        ("/shop", "/shopping", False),
        ("/shop", "/", False),
        ("/shop/", "/shop", True),
        ("/shop/shirts", "/shop", False),
        ("/", "/anything/at/all", True),
        ("/products/*/reviews", "/products/linen-shirt/reviews", True),
        ("/products/*/reviews", "/products/linen-shirt/reviews/2", True),
        ("/products/*/reviews", "/products/a/b/reviews", False),
        ("/p*", "/pants", True),
        ("/p*", "/p", True),
        ("/*", "/", False),  # the home page has no segment for a star to match
        ("/*", "/anything", True),
        ("/p*", "/shop/pants", False),
        ("/*-sale", "/summer-sale/shoes", True),
        ("/*-sale", "/summer-sales", False),
        ("/sklep/żółw", "/sklep/%C5%BC%C3%B3%C5%82w", True),
        ("/a.b", "/aXb", False),
        ("/Shop", "/shop", False),
    ],
)
def test_path_rules(rule, path, expected):
    assert path_matches(rule, path) is expected


segments = st.lists(
    st.text(alphabet="abcdefxyz0123-_.", min_size=1, max_size=6), min_size=1, max_size=5
)


@given(segments, st.integers(0, 5), st.text(alphabet="abc=&/?#", max_size=10))
def test_a_rule_covers_its_own_pages_and_those_below(parts, keep, query):
    path = "/" + "/".join(parts)
    rule = "/" + "/".join(parts[: max(1, min(keep, len(parts)))])
    assert path_matches(rule, path)
    assert path_matches(rule, path + "?" + query)
    assert path_matches(rule, path + "/more")


@given(segments, st.text(alphabet="abcxyz-", min_size=1, max_size=4))
def test_a_rule_does_not_cover_a_longer_name(parts, suffix):
    rule = "/" + "/".join(parts)
    assert not path_matches(rule, rule + suffix)


@given(segments, st.data())
def test_a_star_stands_for_one_whole_segment_or_part_of_one(parts, data):
    path = "/" + "/".join(parts)
    index = data.draw(st.integers(0, len(parts) - 1))
    starred = list(parts)
    starred[index] = "*"
    assert path_matches("/" + "/".join(starred), path)
    # A star never crosses a slash: a rule with more segments than the page never matches.
    assert not path_matches("/" + "/".join([*parts, "*", "x"]), path)


@given(segments, st.lists(st.sampled_from(["/shop", "/p*", "/checkout", "/a"]), max_size=3))
def test_whitelist_and_blacklist_are_opposites(parts, rules):
    path = "/" + "/".join(parts)
    white = chat(paths=rules, path_rule_type="whitelist")
    black = chat(paths=rules, path_rule_type="blacklist")
    assert path_allowed(white, path) is not path_allowed(black, path)
    assert path_allowed(white, path) is any(path_matches(rule, path) for rule in rules)


def test_empty_whitelist_shows_nowhere_and_empty_blacklist_everywhere():
    assert not path_allowed(chat(paths=[], path_rule_type="whitelist"), "/")
    assert path_allowed(chat(paths=[], path_rule_type="blacklist"), "/")


def test_normalize_path():
    assert normalize_path("/shop//shirts/?size=m#top") == "/shop/shirts"
    assert normalize_path("") == "/"
    assert normalize_path("shop") == "/shop"
