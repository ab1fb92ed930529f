"""The host's own pages while customers hold idle sockets, under the production command.

A websocket holds what serves it for as long as it is open. Under gunicorn's threads
(``gthread``) that is a thread: as many idle widget tabs as threads and the host's pages have
nothing left to run on. The README's production command runs gevent workers, where an idle
socket is a sleeping greenlet. This section starts the server with that command (the same
worker class, workers and connections: :data:`PRODUCTION`), measures the home page's latency
alone, then again while ``sockets`` idle customer sockets are open (loopback only), and reports
the ratio of the two p99s (target: at most 2).
"""

from __future__ import annotations

import asyncio
import os
import resource
from pathlib import Path

from bench.data import bulk_tickets
from bench.env import SERVER_CONFIG, Environment
from bench.relay import hold_idle
from bench.report import ratio
from bench.throughput import WARM_UP_SECONDS, run_threads
from tests.appserver import AppServer

#: The README's production command: ``gunicorn --worker-class gevent --workers <CPUs>
#: --worker-connections 4000``.
PRODUCTION = {"worker_class": "gevent", "workers": os.cpu_count() or 1, "connections": 4000}
TARGET_RATIO = 2.0
OPEN_FILES_SPARE = 1024  # for everything but the sockets: PostgreSQL, Redis, logs, libraries


def raise_open_files(needed: int) -> int:
    """Raise this process's open-files limit (its servers inherit it) towards ``needed``, as
    far as the hard limit allows; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        return wanted
    return soft


def run(env: Environment, *, sockets: int, seconds: float, connections: int, logs: Path
        ) -> dict:
    """Home page p50/p99 without, then with ``sockets`` idle customer sockets open."""
    open_files = raise_open_files(2 * sockets + OPEN_FILES_SPARE)  # both ends live here
    shop = env.shop()
    first, last = bulk_tickets(shop, sockets, 1, status="open")
    tokens = shop.tokens(range(first, last + 1))
    env.flush_redis()
    server = AppServer(shop.database_url, env.redis.url, worker_class=PRODUCTION["worker_class"],
                       workers=PRODUCTION["workers"], connections=PRODUCTION["connections"],
                       config=SERVER_CONFIG, log_path=logs / "host-pages.log").start()

    def home(n):
        return "GET", "/", None, {}

    def measure() -> dict:
        return run_threads(server.url, home, seconds=seconds, connections=connections)

    try:
        run_threads(server.url, home, seconds=min(WARM_UP_SECONDS, seconds),
                    connections=connections)
        alone = measure()
        connected, during = asyncio.run(
            hold_idle(f"{server.ws_url}/chat/ws/visitor?after=1", tokens, measure))
    finally:
        server.stop()
    return {
        "command": {**PRODUCTION, "redis": True},
        "sockets": sockets,
        "connected": connected,
        "open_files_limit": open_files,
        "connections": connections,
        "seconds": seconds,
        "alone": alone,
        "with_idle_sockets": during,
        "p99_ratio": ratio(during["p99_ms"], alone["p99_ms"]),
        "target_ratio": TARGET_RATIO,
    }
