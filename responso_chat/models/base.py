"""The declarative base and metadata of the plugin's own, and the column types its models share.

The models live on this base, not on the host's ``db.Model``: the host's ``create_all()`` and
its Alembic autogenerate never see them, and the plugin's migrations see nothing else. They are
used through the host's ``db.session``, which binds a foreign metadata to the default engine.
Every table name starts with :data:`TABLE_PREFIX`. Times are stored in UTC and come back as
timezone-aware UTC datetimes. Host users are referenced by ``user.get_id()`` strings, since the
host's user table is not ours to point foreign keys at.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

TABLE_PREFIX = "responso_chat_"
#: The plugin's own Alembic version table, beside the host's ``alembic_version``.
VERSION_TABLE = "responso_chat_alembic_version"
#: Trigram (``pg_trgm``) indexes that serve the inbox search on PostgreSQL: name -> (table,
#: columns). A migration creates them when the extension can be installed; they are not in the
#: models (no other database has them), so autogenerate leaves them alone.
SEARCH_INDEXES = {
    "ix_responso_chat_message_body_trgm": ("responso_chat_message", ("body",)),
    "ix_responso_chat_ticket_search_trgm": (
        "responso_chat_ticket", ("subject", "customer_name", "customer_email")
    ),
}

metadata = sa.MetaData()

#: A host user's id, as ``user.get_id()`` gives it.
UserId = sa.String(64)


class Base(DeclarativeBase):
    """The plugin's declarative base, on :data:`metadata`."""

    metadata = metadata


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (what every column stores)."""
    return datetime.now(UTC)


def new_public_key() -> str:
    """A random, URL-safe public key for a chat's embed code."""
    return secrets.token_urlsafe(16)


def new_secret() -> str:
    """A random secret a shop uses to sign a logged-in customer's e-mail for the widget."""
    return secrets.token_hex(32)


class UTCDateTime(TypeDecorator):
    """A datetime stored as UTC and always returned timezone-aware, on SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class seconds_between(FunctionElement):  # noqa: N801 (a SQL function, named like one)
    """``later - earlier`` in seconds (a float), as the database computes it."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date_part('epoch', {later} - {earlier})"


@compiles(seconds_between)
def _seconds_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    # julianday() is a float of days: to the millisecond, the seconds come out exact
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


def one_of(column: str, values: tuple[str, ...], name: str, nullable: bool = False):
    """A check constraint keeping ``column`` within ``values`` (and NULL when ``nullable``)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    test = f"{column} IN ({quoted})"
    if nullable:
        test = f"{column} IS NULL OR {test}"
    return sa.CheckConstraint(test, name=name)


def is_plugin_table(name: str | None) -> bool:
    """True for the plugin's own tables, its Alembic version table included."""
    return bool(name) and name.startswith(TABLE_PREFIX)


def _table_of(obj, name, type_) -> str | None:
    return name if type_ == "table" else getattr(getattr(obj, "table", None), "name", name)


def include_object(obj, name, type_, reflected, compare_to):
    """Alembic ``include_object`` filter of the plugin's migrations: only the plugin's tables
    (and not the PostgreSQL-only :data:`SEARCH_INDEXES`)."""
    if type_ == "index" and name in SEARCH_INDEXES:
        return False
    table = _table_of(obj, name, type_)
    return is_plugin_table(table) and table != VERSION_TABLE


def exclude_object(obj, name, type_, reflected, compare_to):
    """Alembic ``include_object`` filter for a host's own ``Migrate``: all but the plugin's."""
    return not is_plugin_table(_table_of(obj, name, type_))
