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

A report reads what the database keeps for it (:mod:`responso_chat.models.reports`):

- the counts, from the conversations per UTC quarter hour and chat (every timezone's offset is
  a whole number of quarter hours, so the local day and hour of each quarter are found here,
  for any timezone): a few thousand rows for a month, however many tickets;
- the times and ratings per assigned agent and overall, from one aggregate query over the
  tickets of the range, reading their generated ``first_response_seconds`` and
  ``resolution_seconds`` and their copy of the rating's score (all in the covering index
  ``ix_responso_chat_ticket_report``). PostgreSQL takes medians and p90 with
  ``percentile_cont`` (grouping sets); SQLite (the demo) has no percentiles, so it selects
  the durations and takes them in Python with the same interpolation.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from responso_chat.models import Chat, ReportCount, Ticket
from responso_chat.models.reports import NO_CHAT_KEY, QUARTER_SECONDS
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id
from responso_chat.vocab import RATING_SCORES

#: PostgreSQL's ``work_mem`` while a report runs: its percentiles sort up to a few hundred
#: thousand durations, which the default 4 MB sends to disk.
SORT_MEMORY = "64MB"
#: The line of tickets without a chat: e-mail tickets, and those of deleted chats.
NO_CHAT = "No chat (e-mail, deleted chats)"
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
    ``chat`` or of every chat: the counts from the quarter hours' counts, then one aggregate
    query over the tickets of the range for the times and ratings."""
    name = report_timezone(chat)
    zone = ZoneInfo(name)
    begin, finish = _bounds(start, end, zone)
    where = [Ticket.created_at >= begin, Ticket.created_at < finish, Ticket.status != "spam"]
    if chat is not None:
        where.append(Ticket.chat_id == chat.id)
    report = Report(start=start, end=end, chat=chat, timezone=name)
    session = plugin_state().db.session
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # the percentiles sort every duration: in memory, not on disk
        session.execute(sa.text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    _counts(session, begin, finish, chat, zone, report)
    if postgres:
        _times_sql(session, where, report)
    else:
        _times_selected(session, where, report)
    session.rollback()  # read only: end the transaction the queries began
    return report


def _counts(session, begin: datetime, finish: datetime, chat, zone: ZoneInfo,
            report: Report) -> None:
    """Conversations per local day, per local weekday and hour, and per chat: summed here
    from the quarter hours' counts the database keeps (:class:`ReportCount`)."""
    where = [ReportCount.quarter >= int(begin.timestamp()) // QUARTER_SECONDS,
             ReportCount.quarter < int(finish.timestamp()) // QUARTER_SECONDS,
             ReportCount.conversations != 0]
    if chat is not None:
        where.append(ReportCount.chat_key == chat.id)
    rows = session.execute(
        sa.select(ReportCount.quarter, ReportCount.chat_key, ReportCount.conversations)
        .where(*where)
    ).all()
    by_day: Counter = Counter()
    hours: Counter = Counter()
    chats: Counter = Counter()
    for quarter, chat_key, count in rows:
        local = datetime.fromtimestamp(quarter * QUARTER_SECONDS, UTC).astimezone(zone)
        by_day[local.date()] += count
        hours[(local.weekday(), local.hour)] += count
        chats[chat_key] += count
    report.hours = dict(hours)
    days = (report.end - report.start).days + 1
    report.per_day = [
        (day, by_day.get(day, 0))
        for day in (report.start + timedelta(days=n) for n in range(days))
    ]
    report.conversations = sum(chats.values())
    known = [chat_key for chat_key in chats if chat_key != NO_CHAT_KEY]
    current = dict(session.execute(
        sa.select(Chat.id, Chat.name).where(Chat.id.in_(known))
    ).all()) if known else {}
    named: Counter = Counter()  # a deleted chat's tickets join those without one
    for chat_key, count in chats.items():
        named[current.get(chat_key, NO_CHAT)] += count
    report.per_chat = sorted(named.items(), key=lambda row: (-row[1], row[0].lower()))


def _set_ratings(report: Report, counts: dict) -> None:
    report.rating_counts = {score: counts.get(score, 0) for score in RATING_SCORES}
    report.ratings = sum(counts.values())
    if report.ratings:
        report.average_rating = sum(s * n for s, n in counts.items()) / report.ratings


def _agent_name(agents: dict, agent_id) -> str:
    if agent_id is None:
        return "Nobody assigned"
    agent = agents.get(agent_id)
    return agent.name if agent else f"User {agent_id}"


def _times_sql(session, where, report: Report) -> None:
    """Medians and p90 of the response and resolution times, overall and per agent, with
    the agents' counts and average ratings and the ratings of each score: one query
    (PostgreSQL's grouping sets)."""
    first, resolved = Ticket.first_response_seconds, Ticket.resolution_seconds

    def pct(column):  # the median and p90 from one sort
        fractions = postgresql.array([0.5, 0.9], type_=sa.Float)
        return sa.func.percentile_cont(fractions).within_group(column)

    score = Ticket.rating_score
    scores = [sa.func.count(score).filter(score == n) for n in RATING_SCORES]
    rows = session.execute(
        sa.select(
            sa.func.grouping(Ticket.assignee_id),
            Ticket.assignee_id,
            sa.func.count(),
            sa.func.count(first), pct(first),
            sa.func.count(resolved), pct(resolved),
            sa.func.avg(score), sa.func.count(score), *scores,
        )
        .where(*where)
        .group_by(sa.func.grouping_sets(sa.tuple_(Ticket.assignee_id), sa.tuple_()))
    ).all()
    agents = agents_by_id()
    for total, agent_id, count, nf, firsts, nr, resolutions, rating, rated, *by_score in rows:
        f50, f90 = firsts or (None, None)
        r50, r90 = resolutions or (None, None)
        if total:
            report.first_response = Durations(nf, _float(f50), _float(f90))
            report.resolution = Durations(nr, _float(r50), _float(r90))
            _set_ratings(report, dict(zip(RATING_SCORES, by_score, strict=True)))
            continue
        report.agents.append(AgentRow(agent_id, _agent_name(agents, agent_id), count,
                                      _float(f50), _float(r50), _float(rating), rated))
    report.agents.sort(key=lambda row: (-row.conversations, row.name.lower()))


def _times_selected(session, where, report: Report) -> None:
    """The same from the tickets' durations selected, percentiles in Python (SQLite)."""
    first, resolved = Ticket.first_response_seconds, Ticket.resolution_seconds
    rows = session.execute(
        sa.select(Ticket.assignee_id, first, resolved, Ticket.rating_score).where(*where)
    ).all()
    groups: dict = defaultdict(lambda: ([], [], []))
    counts: Counter = Counter()
    for agent_id, first_s, resolved_s, score in rows:
        counts[agent_id] += 1
        for values, value in zip(groups[agent_id], (first_s, resolved_s, score), strict=True):
            if value is not None:
                values.append(value)
    every = [[v for g in groups.values() for v in g[i]] for i in range(3)]
    _set_ratings(report, Counter(every[2]))
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
