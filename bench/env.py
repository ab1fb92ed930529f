"""What every benchmark section runs on: the machine, PostgreSQL and Redis, a prepared shop."""

from __future__ import annotations

import os
import platform
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

from responso_chat.conversation.visitor import issue_token
from tests.factories import make_chat
from tests.hostapp import create_host_app, seed_accounts
from tests.servers import PostgresServer, RedisServer

ORIGIN = "https://shop.example"
#: Settings of the servers under load: rate limits out of the way, enough database connections.
SERVER_CONFIG = {
    "RESPONSO_CHAT_START_CHAT_RATE_LIMIT": "1000000 per minute",
    "RESPONSO_CHAT_SEND_RATE_LIMIT": "1000000 per minute",
    "RESPONSO_CHAT_PUBLIC_RATE_LIMIT": "1000000 per minute",
    # Every client of the benchmarks comes from the one loopback address.
    "RESPONSO_CHAT_WS_MAX_SOCKETS_PER_ADDRESS": 1000000,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 20, "pool_timeout": 60},
}


def machine() -> dict:
    """The machine the figures come from: CPU count and model, memory, Python."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "memory_gb": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
    }


@dataclass
class Shop:
    """A database with the plugin's tables, the test accounts and one chat Alice answers."""

    database_url: str
    chat_id: int
    public_key: str

    def app(self):
        """A host app on this database (no Redis), for preparing data and calling services."""
        return create_host_app(self.database_url)

    @cached_property
    def _signer(self):
        """The host app whose secret signs visitor tokens (it never opens the database)."""
        return self.app()

    def tokens(self, ticket_ids) -> list[str]:
        """Visitor tokens of the given tickets of this shop's chat (new tickets: their token
        version is still the first)."""
        with self._signer.app_context():
            return [issue_token(SimpleNamespace(id=i, chat_id=self.chat_id, token_version=0))
                    for i in ticket_ids]


def _dispose(app) -> None:
    with app.app_context():
        app.extensions["responso_chat"].db.engine.dispose()
    app.extensions["responso_chat"].broker.close()


class Environment:
    """PostgreSQL and Redis on loopback for one run (or the ones a caller already has)."""

    def __init__(self, postgres: PostgresServer | None = None, redis: RedisServer | None = None):
        self._own = postgres is None
        self.postgres = postgres or PostgresServer().start()
        self.redis = redis or RedisServer().start()

    def shop(self, origins: tuple[str, ...] = (ORIGIN,)) -> Shop:
        """A fresh database prepared like a production one (migrations, accounts, a chat
        whose widget the given site origins may use)."""
        url = self.postgres.create_database(f"bench_{uuid.uuid4().hex[:10]}")
        app = create_host_app(url)
        with app.app_context():
            from responso_chat import migrations

            state = app.extensions["responso_chat"]
            migrations.upgrade()
            app.extensions["host_shop"].Account.__table__.create(state.db.engine)
            seed_accounts(app)
            chat = make_chat("Bench chat", allowed_origins=list(origins))
            shop = Shop(url, chat.id, chat.public_key)
        _dispose(app)
        return shop

    def flush_redis(self) -> None:
        """Empty Redis between two runs."""
        import redis

        with redis.Redis.from_url(self.redis.url) as connection:
            connection.flushall()

    def close(self) -> None:
        """Stop the servers this environment started."""
        if self._own:
            self.postgres.stop()
            self.redis.stop()


def psycopg_url(database_url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL."""
    return sa.engine.make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
