"""The baseline relays: the least a Python websocket relay can cost, on the ``websockets`` library.

``python -m bench.baseline PORT [DATABASE]`` serves ``/visitor?conv=N`` and ``/agent?conv=N``:
every frame a visitor sends goes back to that visitor (as the plugin echoes a sent message) and
to the agents of conversation ``N``. One asyncio process, no broker.

Without ``DATABASE`` nothing is stored: the bare relay. With a PostgreSQL ``DATABASE`` (a libpq
URL) each frame is first committed as a row, as the plugin commits every message before it
relays it: the least a relay that loses nothing can cost. ``python -m bench.baseline PORT
DATABASE FIRST_TICKET`` stores each frame as the plugin must, in a database with its tables:
conversation ``N`` is ticket ``FIRST_TICKET + N``, whose next sequence number a message takes
before its row is inserted, the inbox's indexes kept up to date; in one statement (a
PostgreSQL ``WITH ... UPDATE ... RETURNING`` feeding the ``INSERT``), one round trip: the least
a relay on the plugin's data model can cost.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

AGENTS: dict[str, set] = defaultdict(set)
DATABASE_CONNECTIONS = 8  # frames of different conversations are stored in parallel
TABLE = """CREATE TABLE IF NOT EXISTS bench_relay_message (
    id bigserial PRIMARY KEY, conversation text NOT NULL, body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())"""
STORE_MESSAGE = """WITH ticket AS (
    UPDATE responso_chat_ticket SET last_seq = last_seq + 1, updated_at = now(),
        last_message_at = now(), last_sender = 'customer'
    WHERE id = %s RETURNING id, last_seq)
INSERT INTO responso_chat_message (ticket_id, seq, author_kind, author_name, body, internal,
    client_msg_id, created_at)
SELECT ticket.id, ticket.last_seq, 'customer', 'Customer', %s, false, %s, now() FROM ticket"""


class Store:
    """A few autocommit connections; :meth:`add` commits one message on a free one: a row of
    its own table, or (with ``first_ticket``) a message of the plugin's tables."""

    def __init__(self, first_ticket: int | None = None) -> None:
        self.free: asyncio.Queue = asyncio.Queue()
        self.first_ticket = first_ticket

    async def open(self, url: str) -> Store:
        import psycopg

        for _ in range(DATABASE_CONNECTIONS):
            await self.free.put(await psycopg.AsyncConnection.connect(url, autocommit=True))
        if self.first_ticket is None:
            connection = await self.free.get()
            await connection.execute(TABLE)
            await self.free.put(connection)
        return self

    async def add(self, conversation: str, body) -> None:
        """Commit one message."""
        text = body if isinstance(body, str) else body.decode()
        connection = await self.free.get()
        try:
            if self.first_ticket is None:
                await connection.execute(
                    "INSERT INTO bench_relay_message (conversation, body) VALUES (%s, %s)",
                    (conversation, text),
                )
                return
            frame = json.loads(text)
            ticket_id = self.first_ticket + int(conversation)
            cursor = await connection.execute(
                STORE_MESSAGE, (ticket_id, frame["body"], frame["client_msg_id"])
            )
            if cursor.rowcount != 1:  # not stored: the relay must not pretend it was
                raise LookupError(f"no ticket {ticket_id} to store conversation {conversation} in")
        finally:
            await self.free.put(connection)


def make_handler(store: Store | None):
    """The connection handler: relay a visitor's frames (stored first when there is a
    ``store``) to its conversation's agents; agents only listen."""

    async def handler(connection) -> None:
        parts = urlsplit(connection.request.path)
        conversation = parse_qs(parts.query).get("conv", [""])[0]
        if parts.path == "/agent":
            AGENTS[conversation].add(connection)
            try:
                await connection.wait_closed()
            finally:
                AGENTS[conversation].discard(connection)
            return
        async for frame in connection:
            if store is not None:
                await store.add(conversation, frame)
            broadcast([connection, *AGENTS[conversation]], frame)

    return handler


async def main(port: int, database: str | None = None, first_ticket: int | None = None) -> None:
    """Serve on 127.0.0.1:``port`` until killed."""
    store = await Store(first_ticket).open(database) if database else None
    async with serve(make_handler(store), "127.0.0.1", port, ping_interval=None,
                     max_queue=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    asyncio.run(main(int(arguments[0]), arguments[1] if len(arguments) > 1 else None,
                     int(arguments[2]) if len(arguments) > 2 else None))
