"""Reports: the figures on a hand-made dataset (medians and p90 worked out here) on SQLite
and PostgreSQL, the page's filters and their errors, the CSV, and who may see them."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from responso_chat import migrations
from responso_chat.models import Chat, ReportCount, Ticket, TicketRating
from responso_chat.reports import charts
from responso_chat.reports.figures import NO_CHAT, build_report, percentile
from responso_chat.state import plugin_state
from tests.conftest import AuthActions
from tests.factories import make_chat


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


#: (chat, created UTC, first reply after s, status, ended after s, assignee, rating)
DATASET = (
    ("A", "2026-11-02 08:00", 60, "solved", 3600, "2", 5),     # Mon 09:00 in Warsaw
    ("A", "2026-11-02 08:30", 120, "closed", 7200, "2", 4),    # Mon 09:30
    ("A", "2026-11-03 23:30", 300, "open", None, "3", None),   # Wed 4th 00:30 in Warsaw
    ("B", "2026-11-03 10:00", 30, "solved", 600, "3", 2),      # Tue 11:00
    ("B", "2026-11-04 12:00", None, "pending", None, None, None),  # Wed 13:00
    ("A", "2026-11-02 09:00", 5, "spam", 10, "2", None),       # spam: never counted
    ("A", "2026-10-31 22:59", 5, "closed", 10, "2", 1),        # Oct 31st 23:59 in Warsaw
    ("A", "2026-10-31 23:00", 600, "closed", 1800, "2", 3),    # Sun Nov 1st 00:00 in Warsaw
    ("B", "2026-11-05 00:00", 5, "open", None, "3", None),     # after the range everywhere
)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """The test host app on SQLite, then on PostgreSQL."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def fill(app) -> dict:
    """The dataset's tickets and ratings; the two chats' ids."""
    with app.app_context():
        session = plugin_state().db.session
        chats = {"A": make_chat("Store chat", timezone="Europe/Warsaw"),
                 "B": make_chat("Outlet", timezone="UTC")}
        for n, (chat, created, first, status, ended, assignee, score) in enumerate(DATASET):
            created_at = at(created)
            ticket = Ticket(
                chat_id=chats[chat].id, chat_name=chats[chat].name, subject=f"Ticket {n}",
                customer_name="Zoe", customer_email="zoe@example.com", status=status,
                assignee_id=assignee, created_at=created_at, last_message_at=created_at,
                first_response_at=created_at + timedelta(seconds=first) if first else None,
                ended_at=created_at + timedelta(seconds=ended) if ended else None,
            )
            session.add(ticket)
            session.flush()
            if score:
                session.add(TicketRating(ticket_id=ticket.id, score=score, comment="",
                                         created_at=created_at, updated_at=created_at))
        session.commit()
        return {name: chat.id for name, chat in chats.items()}


def test_percentile_interpolates_as_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([30, 60, 120, 300, 600], 0.5) == 120
    assert percentile([600, 30, 300, 60, 120], 0.9) == pytest.approx(480)
    assert percentile([600, 1800, 3600, 7200], 0.5) == pytest.approx(2700)


def test_the_figures_of_every_chat_in_the_shops_timezone(any_app):
    fill(any_app)
    with any_app.app_context():
        report = build_report(date(2026, 11, 1), date(2026, 11, 4))
    assert report.timezone == "Europe/Warsaw"  # the shop's: RESPONSO_CHAT_DEFAULT_TIMEZONE
    assert report.conversations == 6
    assert report.per_day == [(date(2026, 11, 1), 1), (date(2026, 11, 2), 2),
                              (date(2026, 11, 3), 1), (date(2026, 11, 4), 2)]
    assert report.per_chat == [("Store chat", 4), ("Outlet", 2)]
    # first replies after 30, 60, 120, 300, 600 s
    assert report.first_response.count == 5
    assert report.first_response.median == pytest.approx(120)
    assert report.first_response.p90 == pytest.approx(480)  # 300 + 0.6 × 300
    # solved or closed after 600, 1800, 3600, 7200 s
    assert report.resolution.count == 4
    assert report.resolution.median == pytest.approx(2700)
    assert report.resolution.p90 == pytest.approx(6120)  # 3600 + 0.7 × 3600
    assert (report.ratings, report.average_rating) == (4, 3.5)
    assert report.rating_counts == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1}
    # Monday 0 ... Sunday 6, hours in Warsaw
    assert report.hours == {(6, 0): 1, (0, 9): 2, (1, 11): 1, (2, 0): 1, (2, 13): 1}
    rows = [(a.name, a.conversations, a.first_response_median, a.resolution_median,
             a.average_rating, a.ratings) for a in report.agents]
    assert rows == [
        ("Alice Agent", 3, pytest.approx(120), pytest.approx(3600), pytest.approx(4.0), 3),
        ("Bob Other", 2, pytest.approx(165), pytest.approx(600), pytest.approx(2.0), 1),
        ("Nobody assigned", 1, None, None, None, 0),
    ]


def test_a_report_of_one_chat_is_in_that_chats_timezone(any_app):
    ids = fill(any_app)
    with any_app.app_context():
        chat = plugin_state().db.session.get(Chat, ids["B"])
        report = build_report(date(2026, 11, 1), date(2026, 11, 4), chat)
        empty = build_report(date(2025, 1, 1), date(2025, 1, 3))
    assert report.timezone == "UTC" and report.conversations == 2
    assert report.per_chat == [("Outlet", 2)]
    assert report.hours == {(1, 10): 1, (2, 12): 1}  # UTC hours, not Warsaw's
    assert (report.first_response.count, report.first_response.median) == (1, 30)
    assert report.first_response.p90 == 30
    assert report.average_rating == 2
    assert empty.conversations == 0 and empty.per_day[0] == (date(2025, 1, 1), 0)
    assert empty.first_response.median is None and empty.average_rating is None
    assert empty.agents == [] and charts.day_columns(empty)[0].height == 0


def kept_by_the_database(session) -> tuple[Counter, dict]:
    """The counts per quarter hour and chat, and the scores on the tickets, as kept."""
    counts = Counter({(quarter, chat): n for quarter, chat, n in session.execute(sa.select(
        ReportCount.quarter, ReportCount.chat_key, ReportCount.conversations)).all() if n})
    return counts, dict(session.execute(sa.select(Ticket.id, Ticket.rating_score)).all())


def worked_out(session) -> tuple[Counter, dict]:
    """The same, worked out from the tickets and ratings themselves."""
    counts = Counter(
        (int(created.timestamp()) // 900, chat_id or 0)
        for created, chat_id in session.execute(
            sa.select(Ticket.created_at, Ticket.chat_id).where(Ticket.status != "spam"))
    )
    scores = dict(session.execute(
        sa.select(Ticket.id, TicketRating.score)
        .outerjoin(TicketRating, TicketRating.ticket_id == Ticket.id)).all())
    return counts, scores


def test_the_database_keeps_the_counts_and_scores_whatever_writes(any_app):
    """The quarter hours' counts and the tickets' copy of their score follow every write:
    the ORM's, bulk statements', a deletion's and a deleted chat's."""
    ids = fill(any_app)
    with any_app.app_context():
        session = plugin_state().db.session

        def check():
            session.commit()
            assert kept_by_the_database(session) == worked_out(session)

        check()
        tickets = {t.subject: t for t in session.scalars(sa.select(Ticket))}
        tickets["Ticket 0"].status = "spam"                      # leaves the counts
        tickets["Ticket 5"].status = "open"                      # back from spam
        tickets["Ticket 1"].chat_id = ids["B"]                   # moved to another chat
        tickets["Ticket 2"].created_at = at("2026-11-20 10:00")  # another quarter
        tickets["Ticket 3"].assignee_id = "2"                    # changes no count
        check()
        session.delete(tickets["Ticket 4"])
        session.get(TicketRating, tickets["Ticket 6"].id).score = 2
        session.delete(session.get(TicketRating, tickets["Ticket 7"].id))
        check()
        session.execute(sa.update(Ticket).where(Ticket.chat_id == ids["A"])
                        .values(status="spam"))
        session.execute(sa.insert(Ticket).values(
            chat_id=None, chat_name="Mail", subject="By e-mail", customer_name="Yan",
            customer_email="yan@example.com", status="open",
            created_at=at("2026-11-02 07:59"), last_message_at=at("2026-11-02 07:59")))
        session.execute(sa.insert(TicketRating).values(
            ticket_id=tickets["Ticket 8"].id, score=5, comment="",
            created_at=at("2026-11-06 00:00"), updated_at=at("2026-11-06 00:00")))
        session.execute(sa.delete(Ticket).where(Ticket.id == tickets["Ticket 6"].id))
        check()
        assert sum(kept_by_the_database(session)[0].values()) == 4


def test_a_deleted_chats_conversations_join_those_without_a_chat(any_app):
    ids = fill(any_app)
    with any_app.app_context():
        session = plugin_state().db.session
        session.execute(sa.insert(Ticket).values(
            chat_id=None, chat_name="Mail", subject="By e-mail", customer_name="Yan",
            customer_email="yan@example.com", status="open",
            created_at=at("2026-11-02 07:59"), last_message_at=at("2026-11-02 07:59")))
        session.delete(session.get(Chat, ids["B"]))
        session.commit()
        report = build_report(date(2026, 11, 1), date(2026, 11, 4))
    assert report.conversations == 7
    assert report.per_chat == [("Store chat", 4), (NO_CHAT, 3)]


@pytest.mark.postgres
def test_a_new_tickets_count_waits_for_nobody_before_its_commit(pg_app):
    """Two chats begun in the same chat and quarter hour: the first transaction, still
    writing, does not hold the second one up (the count is added at commit)."""
    chat_id = fill(pg_app)["A"]
    created = at("2026-11-20 10:01")
    row = {"chat_id": chat_id, "chat_name": "Store chat", "subject": "s",
           "customer_name": "Zoe", "customer_email": "zoe@example.com", "status": "open",
           "created_at": created, "last_message_at": created}
    with pg_app.app_context():
        engine = plugin_state().db.engine
    with engine.connect() as first, engine.connect() as second:
        first.execute(sa.insert(Ticket).values(**row))  # not committed yet
        second.execute(sa.text("SET lock_timeout = '2s'"))
        second.execute(sa.insert(Ticket).values(**row))
        second.commit()  # would wait for the first one if its count were taken at once
        first.commit()
    with pg_app.app_context():
        count = plugin_state().db.session.get(ReportCount, (int(created.timestamp()) // 900,
                                                            chat_id))
        assert count.conversations == 2



@pytest.mark.postgres
def test_a_status_change_leaves_the_counts_alone_unless_it_is_spam(pg_app):
    """Answering and solving change a ticket's status all day: its quarter hour's count is
    not written (nor locked) for it, only when the ticket becomes spam or stops being."""
    fill(pg_app)
    with pg_app.app_context():
        session = plugin_state().db.session
        ticket = session.scalars(sa.select(Ticket).where(Ticket.status == "open")
                                 .order_by(Ticket.id)).first()
        key = {"quarter": int(ticket.created_at.timestamp()) // 900,
               "chat_key": ticket.chat_id}

        def version():
            return session.execute(sa.text(
                "SELECT xmin::text FROM responso_chat_report_count "
                "WHERE quarter = :quarter AND chat_key = :chat_key"), key).scalar_one()

        before = version()
        for status in ("pending", "solved", "closed", "open"):
            ticket.status = status
            session.commit()
        assert version() == before
        ticket.status = "spam"
        session.commit()
        assert version() != before
        assert kept_by_the_database(session) == worked_out(session)

def login_admin(auth):
    auth.login("admin@shop.test")


def test_the_page_shows_the_figures_and_charts(app, client, auth):
    ids = fill(app)
    login_admin(auth)
    page = client.get("/chat/admin/reports/?from=2026-11-01&to=2026-11-04")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "6 conversations created from 2026-11-01 to 2026-11-04" in html
    assert "2 min" in html and "8 min" in html  # first response median 120 s, p90 480 s
    assert "45 min" in html and "1 h 42 min" in html  # resolution median 2700 s, p90 6120 s
    assert "3.50" in html and "Europe/Warsaw" in html
    assert html.count("<svg") == 4 and 'role="img"' in html
    assert 'aria-labelledby="rc-chart-hours-title"' in html
    assert 'href="/chat/admin/reports/export.csv?from=2026-11-01&amp;to=2026-11-04"' in html
    one = client.get(f"/chat/admin/reports/?from=2026-11-01&to=2026-11-04&chat={ids['B']}")
    assert "2 conversations" in one.get_data(as_text=True)
    assert f"chat={ids['B']}" in one.get_data(as_text=True)
    default = client.get("/chat/admin/reports/")  # the last 30 days
    assert default.status_code == 200 and "0 conversations" in default.get_data(as_text=True)


@pytest.mark.parametrize("query, field, message", [
    ("from=2026-11-05&to=2026-11-01", "rc-report-to", "To must be on or after From."),
    ("from=05/11/2026&to=2026-11-06", "rc-report-from", "Enter a date as YYYY-MM-DD"),
    ("from=2026-11-01&to=2026-02-30", "rc-report-to", "Enter a date as YYYY-MM-DD"),
    ("from=2026-11-01&to=tomorrow", "rc-report-to", "Enter a date as YYYY-MM-DD"),
    ("from=2024-01-01&to=2026-11-01", "rc-report-to", "Choose at most 366 days."),
    ("from=2020-01-01", "rc-report-from", "Choose at most 366 days."),
    ("from=9999-12-31&to=9999-12-31", "rc-report-from", "Enter a date from 1970-01-01"),
    ("from=0001-01-01&to=0001-01-02", "rc-report-to", "Enter a date from 1970-01-01"),
    ("from=2026-11-01&to=2026-11-01T00:00", "rc-report-to", "Enter a date as YYYY-MM-DD"),
    ("chat=999999", "rc-report-chat", "Choose a chat from the list."),
    ("chat=abc", "rc-report-chat", "Choose a chat from the list."),
    ("chat=-3", "rc-report-chat", "Choose a chat from the list."),
    ("chat=99999999999999999999", "rc-report-chat", "Choose a chat from the list."),
])
def test_bad_filters_are_shown_next_to_their_field(app, client, auth, query, field, message):
    login_admin(auth)
    for url in ("/chat/admin/reports/", "/chat/admin/reports/export.csv"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 422, url
        html = response.get_data(as_text=True)
        assert f'<div class="rc-error" id="{field}-error">{message}' in html
        assert f'aria-describedby="{field}-error" aria-invalid="true"' in html
        assert "Download CSV" not in html


def test_the_csv_holds_the_same_figures(any_app):
    fill(any_app)
    client = any_app.test_client()
    AuthActions(client).login("admin@shop.test")
    response = client.get("/chat/admin/reports/export.csv?from=2026-11-01&to=2026-11-04")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert ('filename="responso-chat-report-2026-11-01-2026-11-04.csv"'
            in response.headers["Content-Disposition"])
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["section", "item", "measure", "value"]
    table = {tuple(row[:3]): row[3] for row in rows[1:]}
    assert table[("report", "timezone", "name")] == "Europe/Warsaw"
    assert table[("conversations", "all", "count")] == "6"
    assert table[("per_day", "2026-11-04", "conversations")] == "2"
    assert table[("per_chat", "Store chat", "conversations")] == "4"
    assert table[("first_response", "all", "median_seconds")] == "120.00"
    assert table[("first_response", "all", "p90_seconds")] == "480.00"
    assert table[("resolution", "all", "median_seconds")] == "2700.00"
    assert table[("resolution", "all", "p90_seconds")] == "6120.00"
    assert table[("ratings", "all", "average")] == "3.50"
    assert table[("ratings", "1", "count")] == "0"
    assert table[("busiest_hours", "Mon 09:00", "conversations")] == "2"
    assert table[("per_agent", "Bob Other", "first_response_median_seconds")] == "165.00"
    assert table[("per_agent", "Nobody assigned", "average_rating")] == ""


def test_names_a_spreadsheet_would_run_are_defused(app, client, auth):
    with app.app_context():
        chat = make_chat("=HYPERLINK(1)")
        session = plugin_state().db.session
        now = datetime.now(UTC)
        session.add(Ticket(chat_id=chat.id, chat_name=chat.name, subject="s",
                           customer_name="c", customer_email="c@example.com",
                           created_at=now, last_message_at=now))
        session.commit()
    login_admin(auth)
    text = client.get("/chat/admin/reports/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text.replace(",=", "\n=")


def test_only_admins_see_reports(app, client, auth):
    assert client.get("/chat/admin/reports/").status_code == 302
    auth.login("alice@shop.test")
    assert client.get("/chat/admin/reports/").status_code == 403
    assert client.get("/chat/admin/reports/export.csv").status_code == 403
    assert "Reports</a>" not in client.get("/chat/inbox/").get_data(as_text=True)
    auth.logout()
    login_admin(auth)
    assert 'aria-current="page">Reports</a>' in client.get(
        "/chat/admin/reports/").get_data(as_text=True)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migration_backfills_the_first_response(request, make_app, tmp_path, database):
    """Tickets answered before the column existed get their first public agent reply's time;
    internal notes and unanswered tickets stay without one."""
    url = (f"sqlite:///{tmp_path}/b.db" if database == "sqlite"
           else request.getfixturevalue("postgres_url"))
    app = make_app(database_url=url, migrate=True)
    with app.app_context():
        migrations.downgrade("4d8f2b6e9a13")
        engine = app.extensions["responso_chat"].db.engine
        ticket = sa.table("responso_chat_ticket", *(sa.column(c) for c in (
            "id", "channel", "chat_name", "subject", "customer_name", "customer_email",
            "customer_email_verified", "status", "priority", "created_at", "updated_at",
            "last_message_at", "last_seq", "disable_next_autoresponder", "out_of_hours")))
        message = sa.table("responso_chat_message", *(sa.column(c) for c in (
            "ticket_id", "seq", "author_kind", "author_name", "body", "internal",
            "created_at")))
        base = datetime(2026, 11, 2, 8, 0)
        with engine.begin() as connection:
            for ticket_id in (1, 2):
                connection.execute(ticket.insert().values(
                    id=ticket_id, channel="chat", chat_name="Store", subject="s",
                    customer_name="c", customer_email="c@example.com",
                    customer_email_verified=False, status="open", priority="normal",
                    created_at=base, updated_at=base, last_message_at=base, last_seq=3,
                    disable_next_autoresponder=False, out_of_hours=False))
            rows = [(1, 1, "customer", False, 0), (1, 2, "agent", True, 60),
                    (1, 3, "agent", False, 120), (1, 4, "agent", False, 300),
                    (2, 1, "customer", False, 0), (2, 2, "agent", True, 30)]
            for ticket_id, seq, kind, internal, after in rows:
                connection.execute(message.insert().values(
                    ticket_id=ticket_id, seq=seq, author_kind=kind, author_name="x",
                    body="b", internal=internal, created_at=base + timedelta(seconds=after)))
        migrations.upgrade()
        session = plugin_state().db.session
        first = dict(session.execute(sa.select(Ticket.id, Ticket.first_response_at)).all())
    assert first == {1: (base + timedelta(seconds=120)).replace(tzinfo=UTC), 2: None}
