"""The inbox at volume: every view's first and a deep page, search and counts, on PostgreSQL.

The data (:mod:`bench.data`) is written by the server in seconds. Each query is timed through
``services.inbox`` as the inbox page calls it, for an agent (Alice, who sees the chat: the
visibility clause is part of every query), after a warm-up; the first page of the ``all``
view is also timed over HTTP through gunicorn. ``EXPLAIN`` of each query names the indexes
its plan uses and any sequential scan of the ticket or message table.
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from bench import reports
from bench.data import bulk_tickets
from bench.env import SERVER_CONFIG, Environment
from bench.relay import percentile
from responso_chat.inbox import paging
from responso_chat.inbox import queries as inbox
from responso_chat.models import utcnow
from responso_chat.reports.query import report_for
from responso_chat.vocab import INBOX_VIEWS
from tests.appserver import AppServer

DEEP_FRACTION = 0.5  # the deep page starts half way down the view's list
SEARCHES = {"search_common_word": "refund", "search_order_number": "order 424242"}


def _time(call, samples: int) -> dict:
    call()  # warm-up: plan cached, pages in memory
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return {"p50_ms": round(percentile(durations, 0.5) * 1000, 2),
            "p95_ms": round(percentile(durations, 0.95) * 1000, 2)}


def _plan(session, query) -> dict:
    """Index names and sequentially scanned tables of ``query``'s plan (EXPLAIN, no ANALYZE)."""
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect,
                             compile_kwargs={"render_postcompile": True})
    row = connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    ).scalar_one()
    plan = row if isinstance(row, list) else json.loads(row)
    indexes, seq_scans = set(), set()

    def walk(node):
        if node.get("Index Name"):
            indexes.add(node["Index Name"])
        if node.get("Node Type") == "Seq Scan":
            seq_scans.add(node.get("Relation Name"))
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan[0]["Plan"])
    return {"indexes": sorted(indexes), "seq_scans": sorted(seq_scans)}


def _deep_cursor(session, user, filters) -> str | None:
    """The cursor of the row half way down the view's list (None if the view is short)."""
    query = inbox.page_query(user, filters, None, 10**9).with_only_columns(sa.func.count())
    total = session.execute(query.order_by(None).limit(None)).scalar_one()
    offset = int(total * DEEP_FRACTION)
    if offset == 0:
        return None
    row = session.execute(
        inbox.page_query(user, filters, None, 1).offset(offset)
    ).unique().scalars().first()
    return paging.encode_cursor(row.last_message_at, row.id)


def run(env: Environment, *, tickets: int, messages: int, samples: int, logs) -> dict:
    """Fill a shop with ``tickets`` tickets and ``messages`` messages, then time the inbox."""
    shop = env.shop()
    started = time.perf_counter()
    first, last = bulk_tickets(shop, tickets, max(1, messages // tickets))
    reports.prepare(shop, first, last)
    fill_seconds = time.perf_counter() - started
    app = shop.app()
    results = {"tickets": tickets, "messages": max(1, messages // tickets) * tickets,
               "fill_seconds": round(fill_seconds, 1), "queries": {}}
    with app.app_context():
        state = app.extensions["responso_chat"]
        session = state.db.session
        Account = app.extensions["host_shop"].Account
        user = session.get(Account, 2)  # Alice, an agent who sees the chat
        cases = {}
        for view in INBOX_VIEWS:
            filters = inbox.InboxFilters(view=view)
            cases[f"{view}_first_page"] = (filters, None)
            cursor = _deep_cursor(session, user, filters)
            if cursor:
                cases[f"{view}_deep_page"] = (filters, cursor)
        for name, text in SEARCHES.items():
            cases[name] = (inbox.InboxFilters(q=text), None)
        for name, (filters, cursor) in cases.items():
            def call(filters=filters, cursor=cursor):
                inbox.list_tickets(user, filters, cursor)
                session.rollback()

            results["queries"][name] = {
                **_time(call, samples),
                **_plan(session, inbox.page_query(user, filters, cursor, inbox.PAGE_SIZE + 1)),
            }
        results["queries"]["view_counts"] = _time(
            lambda: (inbox.view_counts(user), session.rollback()), samples
        )
        report_cases = reports.cases(shop, utcnow().date().isoformat())
        results["reports"] = {"queries": {
            name: _time(lambda args=args: report_for(args), samples)
            for name, args in report_cases.items()
        }}
        conversations = report_for({})[0].conversations
        state.db.engine.dispose()
    state.broker.close()
    server = AppServer(shop.database_url, threads=8, config=SERVER_CONFIG,
                       log_path=logs / "inbox.log").start()
    try:
        agent = server.login("alice@shop.test")
        results["queries"]["http_inbox_page"] = _time(
            lambda: agent.get(server.url + "/chat/inbox/", timeout=30).raise_for_status(), samples
        )
        admin = server.login("admin@shop.test")
        results["reports"]["queries"]["http_reports_page"] = _time(
            lambda: admin.get(server.url + "/chat/admin/reports/", timeout=30).raise_for_status(),
            samples,
        )
    finally:
        server.stop()
    slowest = max(q["p95_ms"] for q in results["queries"].values())
    results["slowest_p95_ms"] = slowest
    results["target_p95_ms"] = 50
    results["target_met"] = slowest < 50
    report_slowest = max(q["p95_ms"] for q in results["reports"]["queries"].values())
    results["reports"].update(conversations=conversations, slowest_p95_ms=report_slowest,
                              target_p95_ms=reports.TARGET_P95_MS,
                              target_met=report_slowest < reports.TARGET_P95_MS)
    return results
