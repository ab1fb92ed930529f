"""The report's figures, aggregated by the database.

The tickets counted are those created in the date range (whole days in the report's
timezone), of every chat or of one, spam excluded. The report's timezone is the chosen chat's
when the report is of one chat, else the shop's (``RESPONSO_CHAT_DEFAULT_TIMEZONE``): days and
busiest hours are in that timezone.

- First response time: from the ticket's creation to the first public agent reply
  (``first_response_at``), for tickets that got one.
- Resolution time: from creation to the time a solved or closed ticket ended (``ended_at``).
- Ratings: of the tickets counted that the customer rated.
- Agents: by the ticket's assigned agent.

On PostgreSQL every figure is one aggregate query (``percentile_cont`` for medians and p90,
``AT TIME ZONE`` for local days and hours). SQLite (the demo) has neither: it counts tickets
per quarter hour of UTC (every timezone's offset is a whole number of quarter hours) and the
local day and hour of each quarter are found in Python, and it selects the durations to take
their percentiles in Python with the same interpolation as ``percentile_cont``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from responso_chat.models import Chat, Ticket, TicketRating
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id
from responso_chat.vocab import FINISHED_STATUSES, RATING_SCORES

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Durations:
    """How many tickets a time was measured on, and its median and 90th percentile
    (seconds; None without any)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass
class AgentRow:
    """One agent's line of the report (``agent_id`` None: tickets nobody was assigned)."""

    agent_id: str | None
    name: str
    conversations: int
    first_response_median: float | None
    resolution_median: float | None
    average_rating: float | None
    ratings: int


@dataclass
class Report:
    """Every figure of one report."""

    start: date
    end: date
    chat: object | None
    timezone: str
    conversations: int = 0
    per_day: list[tuple[date, int]] = field(default_factory=list)
    per_chat: list[tuple[str, int]] = field(default_factory=list)
    first_response: Durations = Durations()
    resolution: Durations = Durations()
    ratings: int = 0
    average_rating: float | None = None
    rating_counts: dict[int, int] = field(default_factory=dict)
    #: Conversations by (weekday 0 = Monday, hour) in the report's timezone.
    hours: dict[tuple[int, int], int] = field(default_factory=dict)
    agents: list[AgentRow] = field(default_factory=list)

    def query(self) -> dict:
        """The query string that asks for this report again (the CSV link)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.chat is not None:
            args["chat"] = self.chat.id
        return args


def percentile(values: list[float], fraction: float) -> float | None:
    """``percentile_cont``: the value at ``fraction`` of the sorted values, interpolated
    linearly between the two nearest (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def report_timezone(chat) -> str:
    """The chat's timezone for a report of one chat, else the shop's."""
    return chat.timezone if chat is not None else plugin_state().setting("DEFAULT_TIMEZONE")


def _bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where local day ``start`` begins and local day ``end`` ends."""
    begin = datetime.combine(start, time(0), zone).astimezone(UTC)
    finish = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC)
    return begin, finish


def build_report(start: date, end: date, chat=None) -> Report:
    """The report of tickets created from local day ``start`` to ``end`` (both included), of
    ``chat`` or of every chat."""
    name = report_timezone(chat)
    zone = ZoneInfo(name)
    begin, finish = _bounds(start, end, zone)
    where = [Ticket.created_at >= begin, Ticket.created_at < finish, Ticket.status != "spam"]
    if chat is not None:
        where.append(Ticket.chat_id == chat.id)
    report = Report(start=start, end=end, chat=chat, timezone=name)
    session = plugin_state().db.session
    postgres = session.get_bind().dialect.name == "postgresql"
    _per_chat(session, where, report)
    _ratings(session, where, report)
    if postgres:
        _calendar_sql(session, where, name, report)
        _times_sql(session, where, report)
    else:
        _calendar_quarters(session, where, zone, report)
        _times_selected(session, where, report)
    report.conversations = sum(count for _day, count in report.per_day)
    session.rollback()  # read only: end the transaction the queries began
    return report


def _per_chat(session, where, report: Report) -> None:
    rows = session.execute(
        sa.select(Ticket.chat_id, sa.func.max(Ticket.chat_name), sa.func.count())
        .where(*where)
        .group_by(Ticket.chat_id)
    ).all()
    current = dict(session.execute(
        sa.select(Chat.id, Chat.name).where(Chat.id.in_([r[0] for r in rows if r[0]]))
    ).all()) if rows else {}
    named = [(current.get(chat_id) or name or "No chat", count) for chat_id, name, count in rows]
    report.per_chat = sorted(named, key=lambda row: (-row[1], row[0].lower()))


def _ratings(session, where, report: Report) -> None:
    rows = session.execute(
        sa.select(TicketRating.score, sa.func.count())
        .join(Ticket, Ticket.id == TicketRating.ticket_id)
        .where(*where)
        .group_by(TicketRating.score)
    ).all()
    counts = dict(rows)
    report.rating_counts = {score: counts.get(score, 0) for score in RATING_SCORES}
    report.ratings = sum(counts.values())
    if report.ratings:
        report.average_rating = sum(s * n for s, n in counts.items()) / report.ratings


def _fill_days(report: Report, by_day: dict[date, int]) -> None:
    days = (report.end - report.start).days + 1
    report.per_day = [
        (day, by_day.get(day, 0))
        for day in (report.start + timedelta(days=n) for n in range(days))
    ]


def _calendar_sql(session, where, zone_name: str, report: Report) -> None:
    """Conversations per local day and per local weekday and hour (PostgreSQL)."""
    local = sa.func.timezone(zone_name, Ticket.created_at)
    day = sa.cast(local, sa.Date).label("day")
    weekday = sa.extract("isodow", local).label("weekday")
    hour = sa.extract("hour", local).label("hour")
    rows = session.execute(
        sa.select(day, weekday, hour, sa.func.count()).where(*where).group_by(day, weekday, hour)
    ).all()
    by_day: Counter = Counter()
    for row_day, row_weekday, row_hour, count in rows:
        by_day[row_day] += count
        report.hours[(int(row_weekday) - 1, int(row_hour))] = count
    _fill_days(report, by_day)


def _calendar_quarters(session, where, zone: ZoneInfo, report: Report) -> None:
    """The same from conversations per UTC quarter hour (SQLite)."""
    hour = sa.func.strftime("%Y-%m-%d %H", Ticket.created_at)
    quarter = sa.cast(sa.func.strftime("%M", Ticket.created_at), sa.Integer) / 15
    rows = session.execute(
        sa.select(hour, quarter, sa.func.count()).where(*where).group_by(hour, quarter)
    ).all()
    by_day: Counter = Counter()
    hours: Counter = Counter()
    for utc_hour, row_quarter, count in rows:
        moment = datetime.strptime(utc_hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        local = (moment + timedelta(minutes=15 * int(row_quarter))).astimezone(zone)
        by_day[local.date()] += count
        hours[(local.weekday(), local.hour)] += count
    report.hours = dict(hours)
    _fill_days(report, by_day)


def _seconds(session, later, earlier):
    """``later - earlier`` in seconds, as the database computes it."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", later - earlier)
    # julianday() is a float of days: to the millisecond, the seconds come out exact
    return sa.func.round((sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0, 3)


def _time_columns(session):
    first = _seconds(session, Ticket.first_response_at, Ticket.created_at)
    resolved = sa.case(
        (Ticket.status.in_(FINISHED_STATUSES),
         _seconds(session, Ticket.ended_at, Ticket.created_at)),
        else_=None,
    )
    return first, resolved


def _agent_name(agents: dict, agent_id) -> str:
    if agent_id is None:
        return "Nobody assigned"
    agent = agents.get(agent_id)
    return agent.name if agent else f"User {agent_id}"


def _times_sql(session, where, report: Report) -> None:
    """Medians and p90 of the response and resolution times, overall and per agent, with
    the agents' counts and average ratings: one query (PostgreSQL's grouping sets)."""
    first, resolved = _time_columns(session)

    def pct(fraction, column):
        return sa.func.percentile_cont(fraction).within_group(column)

    rows = session.execute(
        sa.select(
            sa.func.grouping(Ticket.assignee_id),
            Ticket.assignee_id,
            sa.func.count(),
            sa.func.count(first), pct(0.5, first), pct(0.9, first),
            sa.func.count(resolved), pct(0.5, resolved), pct(0.9, resolved),
            sa.func.avg(TicketRating.score), sa.func.count(TicketRating.score),
        )
        .select_from(Ticket)
        .outerjoin(TicketRating, TicketRating.ticket_id == Ticket.id)
        .where(*where)
        .group_by(sa.func.grouping_sets(sa.tuple_(Ticket.assignee_id), sa.tuple_()))
    ).all()
    agents = agents_by_id()
    for total, agent_id, count, nf, f50, f90, nr, r50, r90, rating, rated in rows:
        if total:
            report.first_response = Durations(nf, _float(f50), _float(f90))
            report.resolution = Durations(nr, _float(r50), _float(r90))
            continue
        report.agents.append(AgentRow(agent_id, _agent_name(agents, agent_id), count,
                                      _float(f50), _float(r50), _float(rating), rated))
    report.agents.sort(key=lambda row: (-row.conversations, row.name.lower()))


def _times_selected(session, where, report: Report) -> None:
    """The same from the tickets' durations selected, percentiles in Python (SQLite)."""
    first, resolved = _time_columns(session)
    rows = session.execute(
        sa.select(Ticket.assignee_id, first, resolved, TicketRating.score)
        .select_from(Ticket)
        .outerjoin(TicketRating, TicketRating.ticket_id == Ticket.id)
        .where(*where)
    ).all()
    groups: dict = defaultdict(lambda: ([], [], []))
    counts: Counter = Counter()
    for agent_id, first_s, resolved_s, score in rows:
        counts[agent_id] += 1
        for values, value in zip(groups[agent_id], (first_s, resolved_s, score), strict=True):
            if value is not None:
                values.append(value)
    every = [[v for g in groups.values() for v in g[i]] for i in range(3)]
    report.first_response = Durations(len(every[0]), percentile(every[0], 0.5),
                                      percentile(every[0], 0.9))
    report.resolution = Durations(len(every[1]), percentile(every[1], 0.5),
                                  percentile(every[1], 0.9))
    agents = agents_by_id()
    for agent_id, (firsts, resolutions, scores) in groups.items():
        report.agents.append(AgentRow(
            agent_id, _agent_name(agents, agent_id), counts[agent_id],
            percentile(firsts, 0.5), percentile(resolutions, 0.5),
            sum(scores) / len(scores) if scores else None, len(scores),
        ))
    report.agents.sort(key=lambda row: (-row.conversations, row.name.lower()))


def _float(value) -> float | None:
    return None if value is None else float(value)
