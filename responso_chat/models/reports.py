"""What the database keeps for the reports beside the tickets, by triggers of its own.

- :class:`ReportCount`: the conversations (tickets, spam excluded) begun in each UTC quarter
  hour, per chat. Every timezone's offset is a whole number of quarter hours, so a report
  finds any local day and hour in it, and counts a month from a few thousand rows instead of
  every ticket.
- ``Ticket.rating_score``: the score of the ticket's rating, copied from
  ``responso_chat_ticket_rating``, so the report's pass over the tickets needs no join.

Both are kept by the database's own triggers (:func:`trigger_statements`), whatever writes
the tickets and ratings: the ORM, a bulk statement, a retention job or a foreign key's action.
A ticket's count moves only when its chat, its creation time or whether it is spam
changes: the status changes of every answer and solve leave the counts untouched. On
PostgreSQL the counts are added as the transaction commits. ``create_all`` makes the
triggers after the tables (``drop_all`` removes them); the migrations use the same
statements.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, metadata

#: ``chat_key`` of the conversations without a chat (e-mail tickets, deleted chats).
NO_CHAT_KEY = 0
#: A quarter hour in seconds: ``quarter`` counts them since 1970-01-01 UTC.
QUARTER_SECONDS = 900


class ReportCount(Base):
    """The number of conversations begun in one UTC quarter hour, in one chat."""

    __tablename__ = "responso_chat_report_count"

    #: Whole quarter hours from 1970-01-01 00:00 UTC to the ticket's creation.
    quarter = mapped_column(sa.Integer, primary_key=True)
    #: The ticket's chat id, or :data:`NO_CHAT_KEY`.
    chat_key = mapped_column(sa.Integer, primary_key=True)
    conversations = mapped_column(sa.Integer, nullable=False, default=0)


_TICKET = "responso_chat_ticket"
_RATING = "responso_chat_ticket_rating"
_COUNT = ReportCount.__tablename__


def _quarter(dialect: str, column: str) -> str:
    """The quarter hour of the time in ``column``, in SQL."""
    if dialect == "postgresql":
        return f"floor(date_part('epoch', {column}) / {QUARTER_SECONDS})::integer"
    return f"CAST(strftime('%s', {column}) AS INTEGER) / {QUARTER_SECONDS}"


def _count_upsert(dialect: str, row: str, delta: int) -> str:
    """Add ``delta`` conversations at ``row``'s (OLD or NEW) quarter and chat."""
    return (
        f"INSERT INTO {_COUNT} (quarter, chat_key, conversations) "
        f"SELECT {_quarter(dialect, row + '.created_at')}, "
        f"coalesce({row}.chat_id, {NO_CHAT_KEY}), {delta} "
        f"WHERE {row}.status <> 'spam' "
        f"ON CONFLICT (quarter, chat_key) DO UPDATE "
        f"SET conversations = {_COUNT}.conversations + excluded.conversations"
    )


#: The counts are added when the transaction commits (deferred triggers): a new ticket's
#: transaction holds its quarter hour's row for the commit only, not while it writes the rest.
_AT_COMMIT = "DEFERRABLE INITIALLY DEFERRED"


def _postgresql() -> list[str]:
    def upsert(row, delta):
        return _count_upsert("postgresql", row, delta)

    return [
        f"""CREATE OR REPLACE FUNCTION {_COUNT}_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {upsert('OLD', -1)}; END IF;
    IF TG_OP <> 'DELETE' THEN {upsert('NEW', 1)}; END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
        f"""CREATE CONSTRAINT TRIGGER {_COUNT}_keep AFTER INSERT OR DELETE ON {_TICKET}
{_AT_COMMIT} FOR EACH ROW EXECUTE FUNCTION {_COUNT}_keep()""",
        f"""CREATE CONSTRAINT TRIGGER {_COUNT}_move AFTER UPDATE OF status, chat_id, created_at
ON {_TICKET} {_AT_COMMIT} FOR EACH ROW
WHEN ((OLD.status = 'spam') IS DISTINCT FROM (NEW.status = 'spam')
      OR OLD.chat_id IS DISTINCT FROM NEW.chat_id OR OLD.created_at IS DISTINCT FROM NEW.created_at)
EXECUTE FUNCTION {_COUNT}_keep()""",
        f"""CREATE OR REPLACE FUNCTION {_TICKET}_rating_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE {_TICKET} SET rating_score = NULL WHERE id = OLD.ticket_id;
    ELSE
        UPDATE {_TICKET} SET rating_score = NEW.score WHERE id = NEW.ticket_id;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER {_TICKET}_rating_keep AFTER INSERT OR DELETE OR UPDATE OF score
ON {_RATING} FOR EACH ROW EXECUTE FUNCTION {_TICKET}_rating_keep()""",
    ]


def _sqlite() -> list[str]:
    def upsert(row, delta):
        return _count_upsert("sqlite", row, delta)

    moved = ("(OLD.status = 'spam') IS NOT (NEW.status = 'spam') "
             "OR OLD.chat_id IS NOT NEW.chat_id OR OLD.created_at IS NOT NEW.created_at")
    return [
        f"""CREATE TRIGGER {_COUNT}_insert AFTER INSERT ON {_TICKET}
BEGIN {upsert('NEW', 1)}; END""",
        f"""CREATE TRIGGER {_COUNT}_delete AFTER DELETE ON {_TICKET}
BEGIN {upsert('OLD', -1)}; END""",
        f"""CREATE TRIGGER {_COUNT}_move AFTER UPDATE OF status, chat_id, created_at
ON {_TICKET} WHEN {moved}
BEGIN {upsert('OLD', -1)}; {upsert('NEW', 1)}; END""",
        f"""CREATE TRIGGER {_TICKET}_rating_insert AFTER INSERT ON {_RATING}
BEGIN UPDATE {_TICKET} SET rating_score = NEW.score WHERE id = NEW.ticket_id; END""",
        f"""CREATE TRIGGER {_TICKET}_rating_update AFTER UPDATE OF score ON {_RATING}
BEGIN UPDATE {_TICKET} SET rating_score = NEW.score WHERE id = NEW.ticket_id; END""",
        f"""CREATE TRIGGER {_TICKET}_rating_delete AFTER DELETE ON {_RATING}
BEGIN UPDATE {_TICKET} SET rating_score = NULL WHERE id = OLD.ticket_id; END""",
    ]


def trigger_statements(dialect: str) -> list[str]:
    """The statements that create the reports' triggers on ``dialect`` (``postgresql`` or
    ``sqlite``)."""
    return _postgresql() if dialect == "postgresql" else _sqlite()


def drop_statements(dialect: str) -> list[str]:
    """The statements that remove them."""
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS {_COUNT}_keep() CASCADE",
                f"DROP FUNCTION IF EXISTS {_TICKET}_rating_keep() CASCADE"]
    names = [statement.split()[2] for statement in _sqlite()]  # CREATE TRIGGER <name>
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def fill_statements(dialect: str) -> list[str]:
    """The statements that count the tickets and copy the scores already there (a database
    upgraded to the triggers)."""
    return [
        f"DELETE FROM {_COUNT}",
        f"""INSERT INTO {_COUNT} (quarter, chat_key, conversations)
SELECT quarter, chat_key, count(*) FROM (
    SELECT {_quarter(dialect, 'created_at')} AS quarter,
        coalesce(chat_id, {NO_CHAT_KEY}) AS chat_key
    FROM {_TICKET} WHERE status <> 'spam') AS t
GROUP BY quarter, chat_key""",
        f"""UPDATE {_TICKET} SET rating_score = (
    SELECT score FROM {_RATING} WHERE {_RATING}.ticket_id = {_TICKET}.id)""",
    ]


@sa.event.listens_for(metadata, "after_create")
def _create_triggers(target, connection, tables=(), **kw) -> None:
    if ReportCount.__table__ not in tables:  # made before: its triggers too
        return
    for statement in trigger_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


@sa.event.listens_for(metadata, "before_drop")
def _drop_triggers(target, connection, tables=(), **kw) -> None:
    if ReportCount.__table__ not in tables:
        return
    for statement in drop_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
