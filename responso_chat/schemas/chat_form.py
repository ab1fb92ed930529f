"""The admin's chat form: a chat channel's settings, its path list, origins and opening hours."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import zip_longest
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from responso_chat.conversation.visibility import (
    ALL_DAY,
    DAY_MINUTES,
    WEEKDAYS,
    interval_minutes,
    normalize_path,
)
from responso_chat.vocab import (
    AUTO_LANGUAGE,
    CHAT_ALIGNMENTS,
    CHAT_LANGUAGES,
    LANGUAGE_LABELS,
    OUT_OF_HOURS_BEHAVIOURS,
    PATH_RULE_TYPES,
)

MAX_PATHS = 200
MAX_PATH_LENGTH = 500
MAX_ORIGINS = 50
MAX_INTERVALS_PER_DAY = 12
HOURS_MODES = ("closed", "all_day", "intervals")
DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every IANA timezone name known here, sorted: the choices of a chat's timezone."""
    return tuple(sorted(available_timezones() - {"localtime", "Factory"}))


class ChatText(fields.String):
    """A string without surrounding whitespace, its line ends made ``\\n``."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def chat_path(value: str) -> str:
    """A page path of a chat's path list as the visibility rules compare it (ValueError)."""
    if not value.startswith("/"):
        raise ValueError("a path starts with /, e.g. /checkout.")
    if len(value) > MAX_PATH_LENGTH or re.search(r"[\s\x00-\x1f\x7f]", value):
        raise ValueError(f"use at most {MAX_PATH_LENGTH} characters and no spaces.")
    return normalize_path(value)


def web_origin(value: str) -> str:
    """A website origin (``scheme://host[:port]``) written as browsers send it: lower case,
    without a default port (ValueError when it is not one)."""
    problem = "enter an origin such as https://shop.example.com (no path)."
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    ipv6 = ":" in host and parts.netloc.startswith("[")
    if (
        scheme not in _DEFAULT_PORTS
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or not (_HOSTNAME.match(host) or ipv6)
    ):
        raise ValueError(problem)
    netloc = f"[{host}]" if ipv6 else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


class LineList(fields.Field):
    """One entry per line of a textarea (or a list of strings), each checked and normalized by
    ``entry`` (which raises ValueError with a message). Blank lines and duplicates are dropped;
    at most ``limit`` entries, called ``what`` in messages."""

    default_error_messages = {"invalid": "Enter one entry per line."}

    def __init__(self, entry, *, limit: int, what: str, **kwargs):
        super().__init__(**kwargs)
        self.entry, self.limit, self.what = entry, limit, what

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            lines = value.splitlines()
        elif isinstance(value, list | tuple) and all(isinstance(line, str) for line in value):
            lines = list(value)
        else:
            raise self.make_error("invalid")
        entries, errors = [], []
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = self.entry(line)
            except ValueError as exc:
                errors.append(f"Line {number} (“{line[:60]}”): {exc}")
                continue
            if entry not in entries:
                entries.append(entry)
        if errors:
            raise ValidationError(errors)
        if len(entries) > self.limit:
            raise ValidationError(f"At most {self.limit} {self.what} (there are {len(entries)}).")
        return entries


class OpeningHours(fields.Field):
    """Opening hours per weekday, as the chat form sends them.

    Input: ``{"mon": {"mode": "closed" | "all_day" | "intervals", "intervals": [{"start":
    "09:00", "end": "17:00"}, ...]}, ...}``; rows with both times blank are ignored. Output: the
    model's JSON ``{"mon": [["09:00", "17:00"]], ...}`` (``[]`` closed, ``[["00:00", "24:00"]]``
    all day). An end before the start runs past midnight. Empty intervals and overlapping ones
    (within a day, or with the previous day's interval past midnight) are refused, with the
    messages keyed by weekday.
    """

    default_error_messages = {"invalid": "Give the opening hours of every weekday."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        hours, errors = {}, {}
        for day in WEEKDAYS:
            try:
                hours[day] = _day_intervals(value.get(day))
            except ValueError as exc:
                errors[day] = [str(exc)]
        for day, following in zip(WEEKDAYS, WEEKDAYS[1:] + WEEKDAYS[:1], strict=True):
            if day in hours and following in hours:
                problem = _overlap_after_midnight(day, hours[day], hours[following])
                if problem:
                    errors[following] = [problem]
        if errors:
            raise ValidationError(errors)
        return hours


def _day_intervals(day) -> list[list[str]]:
    """One weekday's form value as the model's list of intervals (ValueError when wrong)."""
    if not isinstance(day, dict) or day.get("mode") not in HOURS_MODES:
        raise ValueError("Choose Closed, Open all day or Set hours.")
    if day["mode"] == "closed":
        return []
    if day["mode"] == "all_day":
        return [list(ALL_DAY)]
    rows = day.get("intervals") or []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("Give each interval a start and an end time.")
    intervals = []
    for row in rows:
        start, end = (str(row.get(key) or "").strip() for key in ("start", "end"))
        if not start and not end:
            continue
        if not start or not end:
            raise ValueError("Give each interval both a start and an end time.")
        for value in (start, end):
            if not _HHMM.match(value) and not (value is end and end == "24:00"):
                raise ValueError(f"“{value[:20]}” is not a time (HH:MM, e.g. 09:30).")
        if interval_minutes(start, end) is None:
            raise ValueError(f"{start}–{end} is empty: the end must differ from the start.")
        intervals.append([start, end])
    if not intervals:
        raise ValueError("Add at least one interval, or choose Closed.")
    if len(intervals) > MAX_INTERVALS_PER_DAY:
        raise ValueError(f"At most {MAX_INTERVALS_PER_DAY} intervals a day.")
    intervals.sort(key=lambda interval: interval_minutes(*interval))
    for before, after in zip(intervals, intervals[1:], strict=False):
        if interval_minutes(*after)[0] < interval_minutes(*before)[1]:
            raise ValueError(f"{before[0]}–{before[1]} and {after[0]}–{after[1]} overlap.")
    return intervals


def _overlap_after_midnight(day: str, intervals, following) -> str | None:
    """A message when ``day``'s interval past midnight overlaps the next day's hours."""
    for start, end in intervals:
        spill = interval_minutes(start, end)[1] - DAY_MINUTES
        if spill > 0 and any(interval_minutes(*later)[0] < spill for later in following):
            return f"Overlaps {DAY_NAMES[day]}’s {start}–{end}, which runs past midnight."
    return None


def _known_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError("Choose a timezone from the list, such as Europe/Warsaw.")


_NAMES = list(LANGUAGE_LABELS.values())
#: "Choose auto, English, French or Polish."
_CHAT_LANGUAGE_ERROR = f"Choose {AUTO_LANGUAGE}, {', '.join(_NAMES[:-1])} or {_NAMES[-1]}."


class ChatSchema(Schema):
    """Every setting of a chat channel, validated and normalized (the chat form's input).

    ``agent_ids``: the ids agents may be chosen from (``users.list_agents()``). Saving without
    any agent needs ``confirm_no_agents``, which is not part of the result.
    """

    class Meta:
        unknown = EXCLUDE

    def __init__(self, *, agent_ids=(), **kwargs):
        super().__init__(**kwargs)
        self.agent_ids = {str(agent_id) for agent_id in agent_ids}

    name = ChatText(
        required=True,
        validate=validate.Length(min=1, max=100, error="Enter a name of 1 to 100 characters."),
        error_messages={"required": "Enter a name."},
    )
    welcome_message = ChatText(
        load_default="", validate=validate.Length(max=500, error="Use at most 500 characters.")
    )
    alignment = fields.String(
        required=True, validate=validate.OneOf(CHAT_ALIGNMENTS, error="Choose left or right.")
    )
    vertical_spacing = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=1000, error="Enter a number of pixels from 0 to 1000."),
        error_messages={"invalid": "Enter a whole number of pixels from 0 to 1000."},
    )
    path_rule_type = fields.String(
        required=True,
        validate=validate.OneOf(PATH_RULE_TYPES, error="Choose whitelist or blacklist."),
    )
    paths = LineList(chat_path, limit=MAX_PATHS, what="paths", load_default=list)
    agent_ids = fields.List(fields.String(), load_default=list)
    confirm_no_agents = fields.Boolean(load_default=False)
    opening_hours = OpeningHours(required=True)
    timezone = fields.String(required=True, validate=_known_timezone)
    out_of_hours_behaviour = fields.String(
        required=True,
        validate=validate.OneOf(
            OUT_OF_HOURS_BEHAVIOURS, error="Choose to show a message or to hide the widget."
        ),
    )
    out_of_hours_message = ChatText(
        load_default="", validate=validate.Length(max=500, error="Use at most 500 characters.")
    )
    enabled = fields.Boolean(load_default=True)
    closed_without_agents = fields.Boolean(load_default=False)
    color = fields.String(
        required=True,
        validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="Enter a colour as #rrggbb."),
    )
    language = fields.String(
        required=True,
        validate=validate.OneOf(CHAT_LANGUAGES, error=_CHAT_LANGUAGE_ERROR),
    )
    allowed_origins = LineList(
        web_origin, limit=MAX_ORIGINS, what="origins", load_default=list
    )

    @validates("agent_ids")
    def _agents_exist(self, value, **_kwargs):
        if any(agent_id not in self.agent_ids for agent_id in value):
            raise ValidationError("Choose agents from the list.")

    @validates_schema(skip_on_field_errors=False)
    def _rules_between_fields(self, data, **_kwargs):
        errors = {}
        if (
            data.get("out_of_hours_behaviour") == "show_message"
            and data.get("out_of_hours_message") == ""
        ):
            errors["out_of_hours_message"] = [
                "Enter the message shown out of hours, or choose to hide the widget."
            ]
        if data.get("path_rule_type") == "whitelist" and data.get("paths") == []:
            errors["paths"] = [
                "A whitelist needs at least one path; choose blacklist to show the chat on "
                "every page."
            ]
        if data.get("agent_ids") == [] and not data.get("confirm_no_agents"):
            errors["agent_ids"] = [
                "No agent is selected, so only admins will see this chat's tickets. Tick "
                "“Save without agents” to confirm."
            ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _normalize(self, data, **_kwargs):
        data.pop("confirm_no_agents")
        data["agent_ids"] = list(dict.fromkeys(data["agent_ids"]))
        data["color"] = data["color"].lower()
        return data


#: Single-value inputs of the chat form, sent as they were typed.
CHAT_FORM_TEXT_FIELDS = (
    "name",
    "welcome_message",
    "alignment",
    "vertical_spacing",
    "path_rule_type",
    "paths",
    "timezone",
    "out_of_hours_behaviour",
    "out_of_hours_message",
    "color",
    "language",
    "allowed_origins",
)


def chat_form_input(form) -> dict:
    """The chat form's fields (a MultiDict) as :class:`ChatSchema` input. It is also what the
    form shows again after an error, so nothing typed is lost."""
    return {
        **{name: form.get(name, "") for name in CHAT_FORM_TEXT_FIELDS},
        "agent_ids": form.getlist("agent_ids"),
        "confirm_no_agents": "confirm_no_agents" in form,
        "enabled": "enabled" in form,
        "closed_without_agents": "closed_without_agents" in form,
        "opening_hours": {
            day: {
                "mode": form.get(f"hours_{day}_mode", "closed"),
                "intervals": [
                    {"start": start, "end": end}
                    for start, end in zip_longest(
                        form.getlist(f"hours_{day}_start"),
                        form.getlist(f"hours_{day}_end"),
                        fillvalue="",
                    )
                ],
            }
            for day in WEEKDAYS
        },
    }


def chat_form_values(chat) -> dict:
    """A chat's settings (any object with the Chat model's attributes) shaped like
    :func:`chat_form_input`, to fill the chat form."""
    values = {name: getattr(chat, name) for name in CHAT_FORM_TEXT_FIELDS}
    values.update(
        vertical_spacing=str(chat.vertical_spacing),
        paths="\n".join(chat.paths),
        allowed_origins="\n".join(chat.allowed_origins),
        agent_ids=list(chat.agent_ids),
        confirm_no_agents=False,
        enabled=bool(chat.enabled),
        closed_without_agents=bool(chat.closed_without_agents),
        opening_hours={
            day: day_form_value((chat.opening_hours or {}).get(day) or []) for day in WEEKDAYS
        },
    )
    return values


def day_form_value(intervals) -> dict:
    """One weekday's intervals (the model's JSON) as the chat form shows them."""
    if not intervals:
        return {"mode": "closed", "intervals": []}
    if [tuple(interval) for interval in intervals] == [ALL_DAY]:
        return {"mode": "all_day", "intervals": []}
    return {  # a time input cannot show 24:00; an end of 00:00 is the same midnight
        "mode": "intervals",
        "intervals": [{"start": s, "end": "00:00" if e == "24:00" else e} for s, e in intervals],
    }
