"""The baseline relays: the least a Python websocket relay can cost, on the ``websockets`` library.

``python -m bench.baseline PORT [DATABASE]`` serves ``/visitor?conv=N`` and ``/agent?conv=N``:
every frame a visitor sends goes back to that visitor (as the plugin echoes a sent message) and
to the agents of conversation ``N``. One asyncio process, no broker.

Without ``DATABASE`` nothing is stored: the bare relay. With a PostgreSQL ``DATABASE`` (a libpq
URL) each frame is first committed as a row, as the plugin commits every message before it
relays it: the least a relay that loses nothing can cost.
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

AGENTS: dict[str, set] = defaultdict(set)
DATABASE_CONNECTIONS = 8  # frames of different conversations are stored in parallel
TABLE = """CREATE TABLE IF NOT EXISTS bench_relay_message (
    id bigserial PRIMARY KEY, conversation text NOT NULL, body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())"""


class Store:
    """A few autocommit connections; :meth:`add` commits one row on a free one."""

    def __init__(self) -> None:
        self.free: asyncio.Queue = asyncio.Queue()

    async def open(self, url: str) -> Store:
        import psycopg

        for _ in range(DATABASE_CONNECTIONS):
            await self.free.put(await psycopg.AsyncConnection.connect(url, autocommit=True))
        connection = await self.free.get()
        await connection.execute(TABLE)
        await self.free.put(connection)
        return self

    async def add(self, conversation: str, body) -> None:
        """Commit one message row."""
        connection = await self.free.get()
        try:
            await connection.execute(
                "INSERT INTO bench_relay_message (conversation, body) VALUES (%s, %s)",
                (conversation, body if isinstance(body, str) else body.decode()),
            )
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


async def main(port: int, database: str | None = None) -> None:
    """Serve on 127.0.0.1:``port`` until killed."""
    store = await Store().open(database) if database else None
    async with serve(make_handler(store), "127.0.0.1", port, ping_interval=None,
                     max_queue=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))
