"""Marshmallow schemas: every input from a browser or the API passes one of these.

Each area of the plugin keeps its schemas in its own section below.
"""

from __future__ import annotations

import re
import unicodedata
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
    pre_load,
    validate,
    validates,
    validates_schema,
)

from responso_chat.services.inbox import VIEWS as INBOX_VIEWS
from responso_chat.state import plugin_state
from responso_chat.visibility import (
    ALL_DAY,
    DAY_MINUTES,
    WEEKDAYS,
    interval_minutes,
    normalize_path,
)
from responso_chat.vocab import (
    AUTO_LANGUAGE,
    AUTOMATION_MATCH,
    AUTOMATION_TRIGGERS,
    CHAT_ALIGNMENTS,
    CHAT_LANGUAGES,
    LANGUAGE_LABELS,
    LANGUAGES,
    OUT_OF_HOURS_BEHAVIOURS,
    PATH_RULE_TYPES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    WEBHOOK_EVENTS,
)

#: Largest id or sequence number a record can have: they are 32-bit integers in the database,
#: so larger ones cannot exist (they are refused, not looked up).
MAX_ID = 2**31 - 1


# --- Widget: what a customer's browser sends ------------------------------------------------

class _Trimmed(Schema):
    """Strips surrounding whitespace from every string before validation."""

    @pre_load
    def _strip(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


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


def _check_message_length(value: str) -> None:
    limit = plugin_state().setting("MAX_MESSAGE_LENGTH")
    if len(value) > limit:
        raise ValidationError(f"Longer than maximum length {limit}.")


class VisitorMessageSchema(_Trimmed):
    """A message the customer sends into their conversation."""

    body = fields.String(required=True, validate=validate.Length(min=1))
    client_msg_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))

    @validates("body")
    def _body_length(self, value, **_kwargs):
        _check_message_length(value)


class PageSchema(_Trimmed):
    """The page the customer is looking at."""

    url = fields.String(required=True, validate=validate.Length(max=2000))
    title = fields.String(load_default="", validate=validate.Length(max=300))


class StartChatSchema(_Trimmed):
    """The pre-chat form: who the customer is and their first message."""

    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), readable])
    email = fields.Email(required=True, validate=validate.Length(max=254))
    subject = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), readable]
    )
    message = fields.String(required=True, validate=validate.Length(min=1))
    page_url = fields.String(load_default=None, validate=validate.Length(max=2000))
    page_title = fields.String(load_default=None, validate=validate.Length(max=300))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))
    client_msg_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    signature = fields.String(
        load_default=None, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$", error="Not a signature.")
    )

    @validates("message")
    def _message_length(self, value, **_kwargs):
        _check_message_length(value)


def start_chat_limits() -> dict:
    """The longest value of each pre-chat field and of a message, in characters: the widget
    gets them with its config to count and refuse before sending (this schema checks again)."""
    fields_ = StartChatSchema().fields
    limits = {
        name: next(v.max for v in fields_[name].validators if isinstance(v, validate.Length))
        for name in ("name", "email", "subject")
    }
    limits["message"] = plugin_state().setting("MAX_MESSAGE_LENGTH")
    return limits


# --- Inbox: lists, ticket changes, agent messages, tasks, projects, contacts, teams ---------


class InboxText(fields.String):
    """A text field trimmed of surrounding whitespace."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class InboxSchema(Schema):
    """Base of the inbox schemas: unknown keys ignored, blank form values count as not given."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_missing(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if not (isinstance(value, str) and not value.strip())
        }


class InboxQuerySchema(InboxSchema):
    """Query string of the inbox list: view, filters, search and cursor."""

    view = fields.String(load_default="all", validate=validate.OneOf(list(INBOX_VIEWS)))
    chat = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = fields.String(load_default=None, validate=validate.OneOf(TICKET_STATUSES))
    priority = fields.String(load_default=None, validate=validate.OneOf(TICKET_PRIORITIES))
    tag = InboxText(load_default=None, validate=validate.Length(max=50))
    assignee = InboxText(load_default=None, validate=validate.Length(max=64))
    team = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    q = InboxText(load_default="", validate=validate.Length(max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class TicketStatusSchema(InboxSchema):
    """A ticket's new status."""

    status = fields.String(
        required=True,
        validate=validate.OneOf(TICKET_STATUSES, error="Choose a status from the list."),
        error_messages={"required": "Choose a status."},
    )


class TicketPrioritySchema(InboxSchema):
    """A ticket's new priority."""

    priority = fields.String(
        required=True,
        validate=validate.OneOf(TICKET_PRIORITIES, error="Choose a priority from the list."),
        error_messages={"required": "Choose a priority."},
    )


class TicketAssigneeSchema(InboxSchema):
    """The agent a ticket is assigned to (none given: unassigned)."""

    assignee = InboxText(load_default=None, validate=validate.Length(max=64))


class TicketTeamSchema(InboxSchema):
    """The team a ticket is given to (none given: no team)."""

    team = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID, error="Choose a team."),
        error_messages={"invalid": "Choose a team."},
    )


class TicketTagSchema(InboxSchema):
    """A tag to add to or remove from a ticket (normalized by the service, at most 50)."""

    tag = fields.String(required=True, error_messages={"required": "Enter a tag."})

    @validates("tag")
    def _tag_is_valid(self, value, **_kwargs):
        from responso_chat.services.errors import ChangeRefused
        from responso_chat.services.ticket_changes import normalize_tag

        try:
            normalize_tag(value)
        except ChangeRefused as exc:
            raise ValidationError(str(exc)) from None


class TicketWatcherSchema(InboxSchema):
    """An agent to add to or remove from a ticket's watchers."""

    user_id = InboxText(
        required=True,
        validate=validate.Length(max=64),
        error_messages={"required": "Choose an agent."},
    )


class AgentMessageSchema(InboxSchema):
    """An agent's reply or internal note, with the browser's id for idempotent sends."""

    body = InboxText(required=True, error_messages={"required": "Write a message."})
    client_msg_id = fields.String(load_default=None, validate=validate.Length(max=64))
    internal = fields.Boolean(load_default=False)

    @validates("body")
    def _body_length(self, value, **_kwargs):
        _check_message_length(value)


class NewTicketSchema(InboxSchema):
    """Quick action "new ticket to this customer": subject and the agent's first message."""

    subject = InboxText(
        required=True,
        validate=[validate.Length(max=200), readable],
        error_messages={"required": "Enter a subject."},
    )
    body = InboxText(required=True, error_messages={"required": "Write a message."})

    @validates("body")
    def _body_length(self, value, **_kwargs):
        _check_message_length(value)


class TaskSchema(InboxSchema):
    """A new task, optionally assigned, due, in a project and linked to a ticket."""

    title = InboxText(
        required=True,
        validate=validate.Length(max=200),
        error_messages={"required": "Enter a title."},
    )
    description = InboxText(load_default="", validate=validate.Length(max=5000))
    assignee_id = InboxText(load_default=None, validate=validate.Length(max=64))
    due_date = fields.Date(load_default=None, error_messages={"invalid": "Enter a date."})
    project_id = fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=MAX_ID, error="No such project.")
    )
    ticket_id = fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=MAX_ID, error="No such ticket.")
    )


class TaskDoneSchema(InboxSchema):
    """A task marked done or not done (an unticked box sends nothing: not done)."""

    done = fields.Boolean(load_default=False)


class ProjectSchema(InboxSchema):
    """A new project."""

    name = InboxText(
        required=True,
        validate=validate.Length(max=100),
        error_messages={"required": "Enter a name."},
    )
    description = InboxText(load_default="", validate=validate.Length(max=5000))


class ContactSchema(InboxSchema):
    """A contact's details."""

    name = InboxText(
        required=True,
        validate=[validate.Length(max=100), readable],
        error_messages={"required": "Enter a name."},
    )
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        error_messages={
            "required": "Enter an e-mail address.",
            "invalid": "Enter a valid e-mail address.",
        },
    )
    phone = InboxText(load_default="", validate=validate.Length(max=40))
    notes = InboxText(load_default="", validate=validate.Length(max=5000))


class TeamSchema(InboxSchema):
    """A team's name and members."""

    name = InboxText(
        required=True,
        validate=validate.Length(max=100),
        error_messages={"required": "Enter a name."},
    )
    members = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)


# --- Base orders: the integration's settings and order status changes -----------------------


class _BaseOrdersSchema(Schema):
    """Base of the Base orders schemas: unknown keys ignored, strings trimmed."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _trim(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        trimmed = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return {k: v for k, v in trimmed.items() if v != ""}


class BaseSettingsSchema(_BaseOrdersSchema):
    """The "Integrations → Base" form: API URL and a new token (blank keeps the stored one)."""

    api_url = fields.Url(
        required=True,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=500),
        error_messages={
            "required": "Enter the API URL.",
            "invalid": "Enter a web address starting with https://.",
        },
    )
    api_token = fields.String(
        load_default="",
        validate=[
            validate.Length(max=200),
            validate.Regexp(
                r"^[\x21-\x7e]*$", error="An API token has no spaces or accented letters."
            ),
        ],
    )
    clear_token = fields.Boolean(load_default=False)


class OrderStatusChangeSchema(_BaseOrdersSchema):
    """The status an agent moves a Base order to."""

    status_id = fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(min=1, max=MAX_ID, error="Choose a status from the list."),
        error_messages={
            "required": "Choose a status.",
            "invalid": "Choose a status from the list.",
        },
    )


# --- Chat channels (admin): the chat form -----------------------------------------------

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
        opening_hours={
            day: _day_form_value((chat.opening_hours or {}).get(day) or []) for day in WEEKDAYS
        },
    )
    return values


def _day_form_value(intervals) -> dict:
    if not intervals:
        return {"mode": "closed", "intervals": []}
    if [tuple(interval) for interval in intervals] == [ALL_DAY]:
        return {"mode": "all_day", "intervals": []}
    return {  # a time input cannot show 24:00; an end of 00:00 is the same midnight
        "mode": "intervals",
        "intervals": [{"start": s, "end": "00:00" if e == "24:00" else e} for s, e in intervals],
    }


# --- Automations (admin): rules with their conditions and actions ---------------------------

AUTOMATION_MAX_ROWS = 30
AUTOMATION_MAX_MINUTES = 7 * 24 * 60


class _AutomationRow(Schema):
    """One row of the rule form (a condition or an action); checked by the rule's schema."""

    class Meta:
        unknown = EXCLUDE


class AutomationConditionSchema(_AutomationRow):
    """A condition: field, operator and value (a list for "is one of")."""

    field = fields.String(required=True, error_messages={"required": "Choose a field."})
    operator = fields.String(required=True, error_messages={"required": "Choose an operator."})
    value = fields.Raw(load_default="")


class AutomationActionSchema(_AutomationRow):
    """An action: its type and value (a template, a choice or a tag)."""

    type = fields.String(required=True, error_messages={"required": "Choose an action."})
    value = fields.String(load_default="")


def _condition_values(value) -> list[str]:
    """A condition's value(s) as a list of trimmed, distinct, non-blank strings."""
    values = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


class AutomationRuleSchema(Schema):
    """An automation rule as the admin's form sends it.

    ``choices``: the ``(value, label)`` lists of the choice fields and actions
    (``automations.value_choices()``); a chosen value must be one of them.
    """

    class Meta:
        unknown = EXCLUDE

    def __init__(self, *, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = {key: {str(v) for v, _label in pairs} for key, pairs in choices.items()}

    name = ChatText(
        required=True,
        validate=validate.Length(min=1, max=100, error="Enter a name of 1 to 100 characters."),
        error_messages={"required": "Enter a name."},
    )
    enabled = fields.Boolean(load_default=True)
    trigger = fields.String(
        required=True,
        validate=validate.OneOf(AUTOMATION_TRIGGERS, error="Choose when the rule runs."),
        error_messages={"required": "Choose when the rule runs."},
    )
    trigger_minutes = fields.Integer(
        load_default=None,
        validate=validate.Range(
            min=1,
            max=AUTOMATION_MAX_MINUTES,
            error=f"Enter a number of minutes from 1 to {AUTOMATION_MAX_MINUTES}.",
        ),
        error_messages={"invalid": "Enter a whole number of minutes."},
    )
    match = fields.String(
        load_default="all",
        validate=validate.OneOf(AUTOMATION_MATCH, error="Choose all or any."),
    )
    conditions = fields.List(
        fields.Nested(AutomationConditionSchema),
        load_default=list,
        validate=validate.Length(
            max=AUTOMATION_MAX_ROWS, error=f"At most {AUTOMATION_MAX_ROWS} conditions."
        ),
    )
    actions = fields.List(
        fields.Nested(AutomationActionSchema),
        load_default=list,
        validate=validate.Length(
            min=1, max=AUTOMATION_MAX_ROWS, error="Add at least one action (at most 30)."
        ),
    )

    @validates_schema(skip_on_field_errors=False)
    def _rows_make_sense(self, data, **_kwargs):
        errors = {}
        if data.get("trigger") == "no_agent_reply" and not data.get("trigger_minutes"):
            errors["trigger_minutes"] = ["Enter after how many minutes without a reply."]
        rows = {}
        for index, condition in enumerate(data.get("conditions") or []):
            problems = self._condition_problems(condition)
            if problems:
                rows[index] = problems
        if rows:
            errors["conditions"] = rows
        rows = {}
        for index, action in enumerate(data.get("actions") or []):
            problems = self._action_problems(action)
            if problems:
                rows[index] = problems
        if rows:
            errors["actions"] = rows
        if errors:
            raise ValidationError(errors)

    def _condition_problems(self, condition) -> dict:
        from responso_chat.services.automations import CONDITION_FIELDS, OPERATOR_LABELS

        # .get(): a row whose own fields were refused (not strings) comes without them
        spec = CONDITION_FIELDS.get(condition.get("field"))
        if spec is None:
            return {"field": ["Choose a field from the list."]}
        if condition.get("operator") not in spec.operators:
            allowed = ", ".join(OPERATOR_LABELS[op] for op in spec.operators)
            return {"operator": [f"{spec.label} can be tested with: {allowed}."]}
        values = _condition_values(condition.get("value"))
        if not values:
            return {"value": ["Choose a value." if spec.kind == "choice" else "Enter a value."]}
        if any(len(v) > 200 for v in values):
            return {"value": ["Use at most 200 characters."]}
        if spec.kind == "choice" and any(v not in self.choices.get(spec.key, ()) for v in values):
            return {"value": ["Choose a value from the list."]}
        return {}

    def _action_problems(self, action) -> dict:
        from responso_chat.services.automations import ACTION_TYPES, template_problems
        from responso_chat.services.errors import ChangeRefused
        from responso_chat.services.ticket_changes import normalize_tag

        spec = ACTION_TYPES.get(action.get("type"))
        if spec is None:
            return {"type": ["Choose an action from the list."]}
        value = action.get("value", "").strip()
        if spec.kind == "choice":
            if value not in self.choices.get(spec.key, ()):
                return {"value": ["Choose a value from the list."]}
        elif spec.kind == "text":
            try:
                normalize_tag(value)
            except ChangeRefused as exc:
                return {"value": [str(exc)]}
        else:
            if not value:
                return {"value": ["Write the text."]}
            if len(value) > plugin_state().setting("MAX_MESSAGE_LENGTH"):
                return {"value": ["The text is too long."]}
            problems = template_problems(value)
            if problems:
                return {"value": problems}
        return {}

    @post_load
    def _normalize(self, data, **_kwargs):
        if data["trigger"] != "no_agent_reply":
            data["trigger_minutes"] = None
        for condition in data["conditions"]:
            values = _condition_values(condition["value"])
            condition["value"] = values if condition["operator"] == "in" else values[0]
        for action in data["actions"]:
            action["value"] = action["value"].strip()
        return data


def automation_form_input(form) -> dict:
    """The rule form (a MultiDict) as :class:`AutomationRuleSchema` input, also what the form
    shows again after an error: rows ``conditions-<n>-field|operator|value`` and
    ``actions-<n>-type|value``, in order; rows left blank are dropped. An "is one of" value is
    the list of chosen options, or a comma-separated text.
    """
    from responso_chat.services.automations import CONDITION_FIELDS

    def indexes(prefix: str) -> list[int]:
        pattern = re.compile(rf"^{prefix}-(\d+)-")
        found = {int(m.group(1)) for key in form for m in [pattern.match(key)] if m}
        return sorted(found)[: AUTOMATION_MAX_ROWS + 1]

    conditions = []
    for n in indexes("conditions"):
        name = f"conditions-{n}-"
        field, operator = form.get(name + "field", ""), form.get(name + "operator", "")
        raw = [v for v in form.getlist(name + "value") if v.strip()]
        spec = CONDITION_FIELDS.get(field)
        if operator == "in":
            if spec is not None and spec.kind == "text":
                raw = [part for v in raw for part in v.split(",") if part.strip()]
            value = raw
        else:
            value = raw[0] if raw else ""
        if field or value:
            conditions.append({"field": field, "operator": operator, "value": value})
    actions = []
    for n in indexes("actions"):
        name = f"actions-{n}-"
        kind, value = form.get(name + "type", ""), form.get(name + "value", "")
        if kind or value.strip():
            actions.append({"type": kind, "value": value})
    return {
        "name": form.get("name", ""),
        "enabled": "enabled" in form,
        "trigger": form.get("trigger", ""),
        "trigger_minutes": form.get("trigger_minutes", "").strip() or None,
        "match": form.get("match", "all"),
        "conditions": conditions,
        "actions": actions,
    }


def automation_form_values(rule) -> dict:
    """A saved rule shaped like :func:`automation_form_input`, to fill the rule form."""
    return {
        "name": rule.name,
        "enabled": bool(rule.enabled),
        "trigger": rule.trigger,
        "trigger_minutes": rule.trigger_minutes,
        "match": rule.match,
        "conditions": [dict(c) for c in rule.conditions or []],
        "actions": [dict(a) for a in rule.actions or []],
    }


class DryRunSchema(Schema):
    """The ticket a rule is tried on."""

    class Meta:
        unknown = EXCLUDE

    ticket_id = fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(min=1, max=MAX_ID, error="Enter a ticket number."),
        error_messages={"required": "Enter a ticket number.", "invalid": "Enter a ticket number."},
    )


# --- Public JSON API: what API clients send and get back (also the OpenAPI document) --------

API_DEFAULT_LIMIT = 30
API_MAX_LIMIT = 100
_SINGLE_LINE = validate.Regexp(r"^[^\r\n]*$", error="Use one line.")


def _api_id(**kwargs) -> fields.Integer:
    """An id field: a whole number from 1 to :data:`MAX_ID` (strict in JSON bodies)."""
    kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
    return fields.Integer(**kwargs)


class ApiListQuerySchema(Schema):
    """Paging of every API list: an opaque ``cursor`` from the previous page, and ``limit``."""

    class Meta:
        unknown = EXCLUDE

    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "The `next_cursor` of the previous page."},
    )
    limit = fields.Integer(
        load_default=API_DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=API_MAX_LIMIT),
        metadata={"description": "Most items on the page."},
    )


class ApiTicketQuerySchema(InboxQuerySchema, ApiListQuerySchema):
    """Filters of the ticket list: the inbox's views, filters and search, and paging."""

    chat = _api_id(load_default=None, metadata={"description": "Only this chat's tickets."})
    team = _api_id(load_default=None, metadata={"description": "Only this team's tickets."})
    assignee = InboxText(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "An agent's id, `me`, or `none` for unassigned tickets."},
    )


class ApiChatQuerySchema(ApiListQuerySchema):
    """Filters of the chat list."""

    enabled = fields.Boolean(load_default=None)


class ApiSearchQuerySchema(ApiListQuerySchema):
    """A list searched by a text (tags: in the name; contacts: in name, e-mail or phone)."""

    q = fields.String(load_default="", validate=validate.Length(max=200))


class ApiTaskQuerySchema(ApiListQuerySchema):
    """Filters of the task list."""

    assignee = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "An agent's id, `me`, or `none` for unassigned tasks."},
    )
    done = fields.Boolean(load_default=None)
    ticket_id = _api_id(load_default=None)
    project_id = _api_id(load_default=None)


class ApiRuleQuerySchema(ApiListQuerySchema):
    """Filters of the automation rule list (in the order the rules run)."""

    enabled = fields.Boolean(load_default=None)
    trigger = fields.String(load_default=None, validate=validate.OneOf(AUTOMATION_TRIGGERS))


class ApiMessageQuerySchema(ApiListQuerySchema):
    """A conversation's messages in order, after a sequence number."""

    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "Only messages with a higher `seq` (to follow a conversation)."},
    )
    include_internal = fields.Boolean(
        load_default=True, metadata={"description": "Include internal notes and change records."}
    )


class ApiTicketInputSchema(_Trimmed):
    """A ticket opened through the API, as if the customer had written its first message."""

    chat_id = _api_id(required=True, strict=True)
    customer_name = fields.String(
        required=True, validate=[validate.Length(min=1, max=100), readable]
    )
    customer_email = fields.Email(required=True, validate=validate.Length(max=254))
    subject = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), readable]
    )
    message = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "The customer's first message."},
    )
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))

    @validates("message")
    def _message_length(self, value, **_kwargs):
        _check_message_length(value)


class ApiTicketChangesSchema(Schema):
    """Changes to a ticket; only the fields given change, each recorded in the conversation."""

    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    priority = fields.String(validate=validate.OneOf(TICKET_PRIORITIES))
    assignee_id = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "An agent's id, or null to unassign."},
    )
    team_id = _api_id(allow_none=True, strict=True, metadata={"description": "null: no team."})
    tags = fields.List(
        fields.String(),
        validate=validate.Length(max=50),
        metadata={"description": "Every tag the ticket has afterwards (new tags are created)."},
    )
    watcher_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=50),
        metadata={"description": "Every agent following the ticket afterwards."},
    )

    @validates("tags")
    def _tags_are_valid(self, value, **_kwargs):
        from responso_chat.services.errors import ChangeRefused
        from responso_chat.services.ticket_changes import normalize_tag

        for name in value:
            try:
                normalize_tag(name)
            except ChangeRefused as exc:
                raise ValidationError(str(exc)) from None

    @post_load
    def _normalize(self, data, **_kwargs):
        from responso_chat.services.ticket_changes import normalize_tag

        if "tags" in data:
            data["tags"] = list(dict.fromkeys(normalize_tag(name) for name in data["tags"]))
        if "watcher_ids" in data:
            data["watcher_ids"] = list(dict.fromkeys(data["watcher_ids"]))
        return data


class ApiTagInputSchema(Schema):
    """A tag's name (trimmed and lower-cased when saved)."""

    name = fields.String(required=True)

    @validates("name")
    def _name_is_valid(self, value, **_kwargs):
        from responso_chat.services.errors import ChangeRefused
        from responso_chat.services.ticket_changes import normalize_tag

        try:
            normalize_tag(value)
        except ChangeRefused as exc:
            raise ValidationError(str(exc)) from None


class ApiTaskChangesSchema(Schema):
    """Changes to a task; only the fields given change."""

    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    assignee_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    due_date = fields.Date(allow_none=True)
    project_id = _api_id(allow_none=True, strict=True)
    done = fields.Boolean()


class ApiTaskInputSchema(TaskSchema):
    """A new task (the inbox's task form), its ids checked as ids."""

    project_id = _api_id(load_default=None)
    ticket_id = _api_id(load_default=None, metadata={"description": "The ticket it is about."})


_INTERVAL = fields.List(
    fields.String(validate=validate.Length(max=5)), validate=validate.Length(equal=2)
)


class ApiChatInputSchema(Schema):
    """A chat's settings as the API takes them; :class:`ChatSchema` then checks them as the
    chat form's (unknown agents, overlapping hours, ...). Opening hours are given per weekday
    as ``[["09:00", "17:00"], ...]`` (``[]`` closed, ``[["00:00", "24:00"]]`` all day); days
    left out keep their hours (closed on a new chat)."""

    name = fields.String(required=True, validate=validate.Length(max=100))
    welcome_message = fields.String(validate=validate.Length(max=500))
    alignment = fields.String(validate=validate.OneOf(CHAT_ALIGNMENTS))
    vertical_spacing = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000))
    path_rule_type = fields.String(validate=validate.OneOf(PATH_RULE_TYPES))
    paths = fields.List(
        fields.String(validate=_SINGLE_LINE), validate=validate.Length(max=MAX_PATHS)
    )
    agent_ids = fields.List(fields.String(validate=validate.Length(max=64)))
    opening_hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
        values=fields.List(_INTERVAL, validate=validate.Length(max=MAX_INTERVALS_PER_DAY)),
    )
    timezone = fields.String(validate=validate.Length(max=64))
    out_of_hours_behaviour = fields.String(validate=validate.OneOf(OUT_OF_HOURS_BEHAVIOURS))
    out_of_hours_message = fields.String(validate=validate.Length(max=500))
    enabled = fields.Boolean()
    color = fields.String(validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"))
    language = fields.String(validate=validate.OneOf(CHAT_LANGUAGES))
    allowed_origins = fields.List(
        fields.String(validate=_SINGLE_LINE), validate=validate.Length(max=MAX_ORIGINS)
    )


def chat_api_input(values: dict, current: dict) -> dict:
    """:class:`ApiChatInputSchema` values laid over ``current`` (the chat form's shape, see
    :func:`chat_form_values`), as :class:`ChatSchema` input. An API client states the agents
    it wants, so a chat without agents needs no confirmation."""
    data = {**current, **values, "confirm_no_agents": True}
    for name in ("paths", "allowed_origins"):
        if name in values:
            data[name] = "\n".join(values[name])
    if "vertical_spacing" in values:
        data["vertical_spacing"] = str(values["vertical_spacing"])
    if "opening_hours" in values:
        data["opening_hours"] = {
            **current["opening_hours"],
            **{day: _day_form_value(hours) for day, hours in values["opening_hours"].items()},
        }
    return data


class ApiTokenNameSchema(_Trimmed):
    """The "API tokens" page: a new token's name."""

    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100, error="Enter a name of 1 to 100 characters."),
        error_messages={"required": "Enter a name."},
    )


class WebhookSchema(_Trimmed):
    """A webhook as the admin's form sends it: the URL, its events, enabled or not."""

    url = fields.Url(
        required=True,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=2000, error="Use at most 2000 characters."),
        error_messages={
            "required": "Enter the URL.",
            "invalid": "Enter a web address starting with https:// (or http://).",
        },
    )
    events = fields.List(
        fields.String(),
        required=True,
        validate=[
            validate.Length(min=1, error="Choose at least one event."),
            validate.ContainsOnly(WEBHOOK_EVENTS, error="Choose events from the list."),
        ],
        error_messages={"required": "Choose at least one event."},
    )
    enabled = fields.Boolean(load_default=True)

    @pre_load
    def _blank_url_is_missing(self, data, **_kwargs):
        if isinstance(data, dict) and data.get("url") == "":
            data = {k: v for k, v in data.items() if k != "url"}
        return data

    @post_load
    def _events_in_order(self, data, **_kwargs):
        data["events"] = [event for event in WEBHOOK_EVENTS if event in data["events"]]
        return data


def webhook_form_input(form) -> dict:
    """The webhook form (a MultiDict) as :class:`WebhookSchema` input, also what the form
    shows again after an error."""
    return {
        "url": form.get("url", ""),
        "events": form.getlist("events"),
        "enabled": "enabled" in form,
    }


# What the API answers (dumped with these schemas, so the document says what clients get).


class ApiErrorsSchema(Schema):
    """An error: messages by field (``_request`` for the request as a whole)."""

    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


class ApiHealthSchema(Schema):
    """Liveness: the plugin's version and whether its database answers."""

    name = fields.String(required=True)
    version = fields.String(required=True)
    database = fields.String(required=True, validate=validate.OneOf(("ok", "unavailable")))


class ApiChatSchema(Schema):
    """A chat channel (one widget) and its settings."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    welcome_message = fields.String(required=True)
    alignment = fields.String(required=True, validate=validate.OneOf(CHAT_ALIGNMENTS))
    vertical_spacing = fields.Integer(required=True)
    path_rule_type = fields.String(required=True, validate=validate.OneOf(PATH_RULE_TYPES))
    paths = fields.List(fields.String(), required=True)
    agent_ids = fields.List(fields.String(), required=True)
    opening_hours = fields.Dict(
        keys=fields.String(), values=fields.List(fields.List(fields.String())), required=True
    )
    timezone = fields.String(required=True)
    out_of_hours_behaviour = fields.String(
        required=True, validate=validate.OneOf(OUT_OF_HOURS_BEHAVIOURS)
    )
    out_of_hours_message = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    language = fields.String(required=True, validate=validate.OneOf(CHAT_LANGUAGES))
    color = fields.String(required=True)
    allowed_origins = fields.List(fields.String(), required=True)
    public_key = fields.String(required=True, metadata={"description": "Key of the embed code."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ApiTagSchema(Schema):
    """A label put on tickets."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ApiTicketSchema(Schema):
    """A chat ticket: the conversation's customer, state and classification."""

    id = fields.Integer(required=True)
    chat_id = fields.Integer(required=True, allow_none=True)
    chat_name = fields.String(required=True)
    subject = fields.String(required=True)
    customer_name = fields.String(required=True)
    customer_email = fields.String(required=True)
    customer_email_verified = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TICKET_STATUSES))
    priority = fields.String(required=True, validate=validate.OneOf(TICKET_PRIORITIES))
    assignee_id = fields.String(required=True, allow_none=True)
    team_id = fields.Integer(required=True, allow_none=True)
    tags = fields.List(fields.Pluck(ApiTagSchema, "name"), required=True)
    watcher_ids = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    last_message_at = fields.DateTime(required=True)
    last_sender = fields.String(required=True, allow_none=True)
    last_seq = fields.Integer(required=True, metadata={"description": "`seq` of its last message."})
    sentiment = fields.String(required=True, allow_none=True)
    context = fields.String(required=True, allow_none=True)
    disable_next_autoresponder = fields.Boolean(required=True)
    out_of_hours = fields.Boolean(required=True)
    page_url = fields.String(required=True, allow_none=True)
    page_title = fields.String(required=True, allow_none=True)
    language = fields.String(required=True, allow_none=True)


class ApiMessageSchema(Schema):
    """One line of a conversation, numbered per ticket by ``seq``."""

    id = fields.Integer(required=True)
    ticket_id = fields.Integer(required=True)
    seq = fields.Integer(required=True)
    author_kind = fields.String(
        required=True, validate=validate.OneOf(("customer", "agent", "system", "automation"))
    )
    author_id = fields.String(required=True, allow_none=True)
    author_name = fields.String(required=True)
    body = fields.String(required=True)
    internal = fields.Boolean(required=True, metadata={"description": "Seen by agents only."})
    client_msg_id = fields.String(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    seen_at = fields.DateTime(required=True, allow_none=True)
    sentiment = fields.String(required=True, allow_none=True)
    context = fields.String(required=True, allow_none=True)


class ApiContactSchema(Schema):
    """A person the shop talks to."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    notes = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ApiTaskSchema(Schema):
    """A to-do item, usually about a ticket, optionally in a project."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    assignee_id = fields.String(required=True, allow_none=True)
    due_date = fields.Date(required=True, allow_none=True)
    done = fields.Boolean(required=True)
    project_id = fields.Integer(required=True, allow_none=True)
    ticket_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class ApiRuleConditionSchema(Schema):
    """A condition of a rule (``value`` is a list for the operator ``in``)."""

    field = fields.String(required=True)
    operator = fields.String(required=True)
    value = fields.Raw(required=True)


class ApiRuleActionSchema(Schema):
    """An action of a rule."""

    type = fields.String(required=True)
    value = fields.String(required=True)


class ApiAutomationRuleSchema(Schema):
    """An automation rule: when it runs, what it checks and what it does."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    trigger = fields.String(required=True, validate=validate.OneOf(AUTOMATION_TRIGGERS))
    trigger_minutes = fields.Integer(required=True, allow_none=True)
    match = fields.String(required=True, validate=validate.OneOf(AUTOMATION_MATCH))
    conditions = fields.List(fields.Nested(ApiRuleConditionSchema), required=True)
    actions = fields.List(fields.Nested(ApiRuleActionSchema), required=True)
    position = fields.Integer(required=True, metadata={"description": "Rules run in this order."})
    created_at = fields.DateTime(required=True)
    last_run_at = fields.DateTime(required=True, allow_none=True)


_API_PAGES: dict[type, type] = {}


def api_page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The schema of one page of a list of ``item_schema`` items (``data``, ``next_cursor``)."""
    if item_schema not in _API_PAGES:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _API_PAGES[item_schema] = Schema.from_dict(
            {
                "data": fields.List(fields.Nested(item_schema), required=True),
                "next_cursor": fields.String(
                    required=True,
                    allow_none=True,
                    metadata={"description": "Cursor of the next page; null on the last page."},
                ),
            },
            name=name,
        )
    return _API_PAGES[item_schema]


# --- Hardening: text no database stores ------------------------------------------------------

#: Characters no database column stores: NUL (PostgreSQL refuses it), and lone surrogates.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value) -> bool:
    """Whether a string anywhere in ``value`` (JSON-like) holds a character no database
    stores: NUL (PostgreSQL refuses it) or a lone surrogate (not encodable in UTF-8; JSON's
    ``\\ud800`` escapes make them)."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(unstorable(item) for item in value)
    return False
