"""The admins' reports on the inbox section's data (:mod:`bench.inbox`), on PostgreSQL.

:func:`prepare` gives the bulk tickets what the reports read: a first agent reply a few
minutes after creation (most tickets), the end of solved and closed ones, and a rating on a
third of those. :func:`run` times the report as the page computes it (every figure of
:func:`responso_chat.reports.query.report_for`), for every chat and for the bench chat, over
the default 30 days (every bulk ticket) and over one day, then the page over HTTP. Target: p95
under 200 ms.
"""

from __future__ import annotations

import psycopg

from bench.env import Shop, psycopg_url

TARGET_P95_MS = 200

FIELDS_SQL = """
UPDATE responso_chat_ticket SET
    first_response_at = CASE WHEN id %% 10 <> 0
        THEN created_at + (30 + id %% 900) * interval '1 second' END,
    ended_at = CASE WHEN status IN ('solved', 'closed', 'spam')
        THEN created_at + (600 + id %% 20000) * interval '1 second' END
WHERE id >= %(first)s AND id <= %(last)s
"""

RATINGS_SQL = """
INSERT INTO responso_chat_ticket_rating (ticket_id, score, comment, created_at, updated_at)
SELECT id, 1 + (id / 3) %% 5, '', ended_at, ended_at FROM responso_chat_ticket
WHERE status IN ('solved', 'closed') AND id %% 3 = 0 AND id >= %(first)s AND id <= %(last)s
"""


def prepare(shop: Shop, first: int, last: int) -> None:
    """Response and resolution times and ratings on tickets ``first`` to ``last``."""
    with psycopg.connect(psycopg_url(shop.database_url), autocommit=True) as conn:
        conn.execute(FIELDS_SQL, {"first": first, "last": last})
        conn.execute(RATINGS_SQL, {"first": first, "last": last})
        conn.execute("VACUUM ANALYZE responso_chat_ticket")
        conn.execute("VACUUM ANALYZE responso_chat_ticket_rating")


def cases(shop: Shop, today: str) -> dict[str, dict]:
    """The query strings timed, by name."""
    return {
        "report_all_chats_30_days": {},
        "report_one_chat_30_days": {"chat": str(shop.chat_id)},
        "report_all_chats_one_day": {"from": today, "to": today},
    }
