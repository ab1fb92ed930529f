"""Bulk test data on PostgreSQL, written by the server itself (``generate_series``): fast.

Tickets spread over statuses, assignees (nobody, Alice, Bob) and last senders, their activity
one every few seconds back from now; each has ``per_ticket`` messages alternating customer and
agent, with bodies drawn from a small vocabulary plus a number, so searches hit and miss.
"""

from __future__ import annotations

import psycopg

from bench.env import Shop, psycopg_url

WORDS = ("parcel", "refund", "invoice", "delivery", "size", "colour", "payment", "return",
         "discount", "warranty", "address", "tracking")

TICKETS_SQL = """
INSERT INTO responso_chat_ticket (
    channel, chat_id, chat_name, subject, customer_name, customer_email,
    customer_email_verified, status, priority, assignee_id, created_at, updated_at,
    last_message_at, last_sender, last_seq, disable_next_autoresponder, out_of_hours)
SELECT 'chat', %(chat_id)s, 'Bench chat',
    'Question about my ' || (%(words)s::text[])[1 + g %% 12] || ' #' || g,
    'Customer ' || g, 'customer' || (g %% 20000) || '@example.com', false,
    coalesce(%(status)s::text, (ARRAY['open','open','open','pending','solved','closed','open',
        'closed','spam','open'])[1 + g %% 10]),
    (ARRAY['normal','normal','high','low','urgent'])[1 + g %% 5],
    (ARRAY[NULL,'2','3'])[1 + (g / 7) %% 3],
    now() - (%(tickets)s - g) * interval '7 seconds' - interval '1 day',
    now() - (%(tickets)s - g) * interval '7 seconds',
    now() - (%(tickets)s - g) * interval '7 seconds',
    (ARRAY['customer','agent','system','agent'])[1 + g %% 4],
    %(per_ticket)s, false, false
FROM generate_series(1, %(tickets)s) AS g
"""

MESSAGES_SQL = """
INSERT INTO responso_chat_message (
    ticket_id, seq, author_kind, author_id, author_name, body, internal, created_at)
SELECT t.id, s,
    CASE WHEN s %% 2 = 1 THEN 'customer' ELSE 'agent' END,
    CASE WHEN s %% 2 = 1 THEN NULL ELSE '2' END,
    CASE WHEN s %% 2 = 1 THEN t.customer_name ELSE 'Alice Agent' END,
    'About the ' || (%(words)s::text[])[1 + (t.id + s) %% 12] || ' of order ' || (t.id * 10 + s),
    false,
    t.last_message_at - (%(per_ticket)s - s) * interval '1 minute'
FROM responso_chat_ticket AS t CROSS JOIN generate_series(1, %(per_ticket)s) AS s
WHERE t.id > %(after_id)s
"""


def bulk_tickets(
    shop: Shop, tickets: int, per_ticket: int, status: str | None = None
) -> tuple[int, int]:
    """Add ``tickets`` tickets with ``per_ticket`` messages each (all with ``status`` if given,
    else a realistic mix); returns the first and last new ticket ids."""
    params = {"chat_id": shop.chat_id, "tickets": tickets, "per_ticket": per_ticket,
              "words": list(WORDS), "status": status}
    with psycopg.connect(psycopg_url(shop.database_url), autocommit=True) as conn:
        after_id = conn.execute(
            "SELECT coalesce(max(id), 0) FROM responso_chat_ticket"
        ).fetchone()[0]
        conn.execute(TICKETS_SQL, params)
        conn.execute(MESSAGES_SQL, {**params, "after_id": after_id})
        # What autovacuum does to a table filled over months: statistics, and the trigram
        # indexes' pending entries merged (a bulk fill leaves them all pending).
        conn.execute("VACUUM ANALYZE responso_chat_ticket")
        conn.execute("VACUUM ANALYZE responso_chat_message")
        last_id = conn.execute("SELECT max(id) FROM responso_chat_ticket").fetchone()[0]
    return after_id + 1, last_id
