"""The transactional outbox: background work is written in the transaction of its change.

A service that needs a job calls :func:`add` *before* its commit::

    outbox.add("responso_chat.orders.sync.sync_ticket_orders", ticket.id)

The job's row (table ``responso_chat_outbox``) commits with the change or not at all, already
claimed by the committing session (for :data:`OWN_CLAIM_SECONDS`). Right after the commit
:func:`relay_committed` hands the session's new rows to the job runner with the values in hand
(no statement to claim or read them): RQ when ``RESPONSO_CHAT_REDIS_URL`` is set, else the
in-process pool. A row is marked dispatched once RQ accepted its job (in-process: once the job
ran), never before; a row left behind (the process died after its commit, Redis was away) goes
with a periodic run of :func:`relay_due`, every ``RESPONSO_CHAT_OUTBOX_RELAY_INTERVAL`` seconds
(a periodic job in the RQ worker, a timer in the embedded mode), once its claim is free. With
RQ the hand-over runs in the committing thread (one ``UPDATE`` marks the session's rows once
RQ has their jobs); in-process it is a submission to the job pool, and each job marks its row
when it ends. A delayed row (``add(..., delay=60)``) goes with a relay run the commit schedules
for its due time (RQ's scheduler, or a timer), else with the first periodic run after it is due.

Rows are claimed before they are handed over (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, then an ``UPDATE`` that only takes free rows, atomic on every database), so relays
of several processes never hand over one row twice at once. A claim is a lease: a relay that
dies while holding rows leaves them to the next one after :data:`CLAIM_SECONDS`. Delivery is
at least once, so every job is written to be run twice safely.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa

from responso_chat.models import OutboxEntry, utcnow
from responso_chat.state import plugin_state

log = logging.getLogger(__name__)

#: The periodic job that relays the rows left behind and the delayed rows now due.
RELAY_DUE = "responso_chat.infra.outbox.relay_due"
#: Seconds a claim holds its rows (RQ: until accepted; in-process: until the job ran).
CLAIM_SECONDS = 300
#: Seconds the committing session holds the rows it wrote: it hands them over right after its
#: commit; if its process dies first, the periodic relay takes them once this has passed.
OWN_CLAIM_SECONDS = 30
#: Hours a dispatched row is kept (to look into) before :func:`relay_due` deletes it.
KEPT_HOURS = 24
#: ``session.info`` key of the rows the current transaction added (a :class:`_Pending`).
_PENDING = "responso_chat_outbox"
#: ``session.info`` key of the rows committed, relayed once the session let go of its
#: connection.
_COMMITTED = "responso_chat_outbox_committed"


class RunnerStopped(Exception):
    """The job runner takes no more jobs: its process is stopping."""


@dataclass(frozen=True)
class Row:
    """An outbox row as the relay hands it over."""

    id: int
    job: str
    args: list


@dataclass
class _Pending:
    """The rows a transaction added to relay at its commit (claimed by ``token``), and the
    soonest delay of its delayed rows."""

    state: object
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    rows: list = field(default_factory=list)
    soonest_delay: float | None = None


def add(job: str, *args, delay: float = 0.0) -> int:
    """Write the job ``job(*args)`` (a dotted path and JSON arguments: ids, never objects)
    into the current transaction; it runs once committed (after ``delay`` seconds). One
    ``INSERT`` at once (no unit of work at the commit); returns the row's id."""
    state = plugin_state()
    session = state.db.session()
    now = utcnow()
    if not sa.event.contains(session, "after_commit", _after_commit):
        sa.event.listen(session, "after_commit", _after_commit)
        sa.event.listen(session, "after_rollback", _after_rollback)
        sa.event.listen(session, "after_transaction_end", _after_transaction_end)
    pending = session.info.setdefault(_PENDING, _Pending(state))
    own = delay <= 0  # handed over by this session right after its commit
    args = list(args)
    row_id = session.execute(
        sa.insert(OutboxEntry.__table__)
        .values(
            job=job,
            args=args,
            created_at=now,
            available_at=now + timedelta(seconds=max(0.0, delay)),
            attempts=1 if own else 0,
            claimed_by=pending.token if own else None,
            claimed_until=now + timedelta(seconds=OWN_CLAIM_SECONDS) if own else None,
        )
        .returning(OutboxEntry.__table__.c.id)
    ).scalar_one()
    if own:
        pending.rows.append(Row(row_id, job, args))
    else:
        soonest = pending.soonest_delay
        pending.soonest_delay = delay if soonest is None else min(soonest, delay)
    return row_id


def _after_rollback(session) -> None:
    session.info.pop(_PENDING, None)


def _after_commit(session) -> None:
    """The rows are committed: relay them once the transaction ends (the session still holds
    its connection here, and a relay taking a second one could wait on a full pool)."""
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        session.info[_COMMITTED] = pending


def _after_transaction_end(session, transaction) -> None:
    """Hand the rows the ended transaction committed to the job runner, on connections of the
    relay's own. Never raises: the change is committed."""
    if transaction.parent is not None:
        return
    pending = session.info.pop(_COMMITTED, None)
    if pending is None:
        return
    if pending.soonest_delay is not None:
        pending.state.jobs.relay_in(pending.soonest_delay)
    if pending.rows:
        relay_committed(pending.state, pending.token, pending.rows)


def relay_committed(state, token: str, rows) -> None:
    """Hand the rows a commit just wrote (claimed by its session's ``token``) to the job
    runner. Never raises: rows it could not hand over wait for the next relay run."""
    try:
        _hand_over(state, token, rows)
    except Exception:
        log.exception("the outbox rows %s wait for the next relay run", [row.id for row in rows])


def _free(table, now: datetime):
    """Rows waiting for a relay: not dispatched, due, and not held by a live claim."""
    return sa.and_(
        table.c.dispatched_at.is_(None),
        table.c.available_at <= now,
        sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
    )


def claim(state, ids=None, limit: int = 500) -> tuple[str, list]:
    """Take up to ``limit`` free rows (of ``ids`` if given), oldest first, for this relay run;
    returns the claim's token and the rows (``id``, ``job``, ``args``)."""
    table = OutboxEntry.__table__
    token, now = uuid.uuid4().hex, utcnow()
    with state.db.engine.begin() as connection:
        query = sa.select(table.c.id).where(_free(table, now)).order_by(table.c.id).limit(limit)
        if ids is not None:
            query = query.where(table.c.id.in_(list(ids)))
        chosen = connection.scalars(query.with_for_update(skip_locked=True)).all()
        if not chosen:
            return token, []
        connection.execute(
            table.update()
            .where(table.c.id.in_(chosen), _free(table, now))
            .values(
                claimed_by=token,
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=table.c.attempts + 1,
            )
        )
        rows = connection.execute(
            sa.select(table.c.id, table.c.job, table.c.args)
            .where(table.c.claimed_by == token)
            .order_by(table.c.id)
        ).all()
    return token, [Row(*row) for row in rows]


def _settle(engine, token: str, ids, dispatched: bool) -> None:
    """Mark the claimed rows ``ids`` dispatched, or give them back to the next relay (runs
    outside the app context too: in-process jobs settle their row when they end)."""
    table = OutboxEntry.__table__
    values = {"dispatched_at": utcnow()} if dispatched else {"claimed_until": None}
    with engine.begin() as connection:
        connection.execute(
            table.update()
            .where(table.c.id.in_(list(ids)), table.c.claimed_by == token)
            .values(claimed_by=None, **values)
        )


def relay(state, ids=None, limit: int = 500) -> int:
    """Hand free rows (of ``ids`` if given) to the job runner; returns how many went.

    Rows RQ refuses (Redis away) are given back and the error raised: they go later. Rows a
    stopping process can no longer run are given back too, to the next process's relay.
    """
    token, rows = claim(state, ids, limit)
    return _hand_over(state, token, rows)


def _hand_over(state, token: str, rows) -> int:
    """Give the claimed ``rows`` to the job runner; returns how many went. Rows it accepted at
    once (RQ) are marked dispatched in one statement, the others when their job ends."""
    engine = state.db.engine
    handed, accepted = set(), []
    try:
        for row in rows:
            if state.jobs.hand_over(
                row.job, row.args, partial(_settle, engine, token, [row.id], True)
            ):
                accepted.append(row.id)
            handed.add(row.id)
    except RunnerStopped:
        _settle(engine, token, [row.id for row in rows if row.id not in handed], False)
        log.info("the process stops: outbox rows wait for the next relay")
    except Exception:
        _settle(engine, token, [row.id for row in rows if row.id not in handed], False)
        raise
    finally:
        if accepted:
            _settle(engine, token, accepted, True)
    return len(handed)


def relay_due(limit: int = 500) -> int:
    """Periodic job: relay the rows left behind and the delayed rows now due, oldest first,
    and delete the rows dispatched more than :data:`KEPT_HOURS` ago."""
    state = plugin_state()
    table = OutboxEntry.__table__
    sent = relay(state, limit=limit)
    if sent:
        log.info("the outbox relay handed over %d job(s)", sent)
    with state.db.engine.begin() as connection:
        connection.execute(
            table.delete().where(
                table.c.dispatched_at < utcnow() - timedelta(hours=KEPT_HOURS)
            )
        )
    return sent


def backlog() -> tuple[int, datetime | None]:
    """How many rows wait for the relay (due now), and since when the oldest does."""
    count, oldest = plugin_state().db.session.execute(
        sa.select(sa.func.count(OutboxEntry.id), sa.func.min(OutboxEntry.created_at)).where(
            OutboxEntry.dispatched_at.is_(None), OutboxEntry.available_at <= utcnow()
        )
    ).one()
    return count, oldest
