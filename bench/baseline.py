"""The baseline relay: the least a Python websocket relay can cost, on the ``websockets`` library.

``python -m bench.baseline PORT`` serves ``/visitor?conv=N`` and ``/agent?conv=N``: every frame a
visitor sends goes back to that visitor (as the plugin echoes a sent message) and to the agents
of conversation ``N``. One asyncio process, no database, no broker.
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

AGENTS: dict[str, set] = defaultdict(set)


async def handler(connection) -> None:
    """Relay a visitor's frames to its conversation's agents; agents only listen."""
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
        broadcast([connection, *AGENTS[conversation]], frame)


async def main(port: int) -> None:
    """Serve on 127.0.0.1:``port`` until killed."""
    async with serve(handler, "127.0.0.1", port, ping_interval=None, max_queue=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
