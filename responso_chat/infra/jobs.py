"""Background jobs: the enqueue wrapper, and the RQ job class that runs jobs in the app.

Services never call :func:`enqueue` themselves: they write their jobs to the outbox in the
transaction of their change (:mod:`responso_chat.infra.outbox`), whose relay calls it once the
change is committed. Jobs take ids, never objects.

With ``RESPONSO_CHAT_REDIS_URL`` set, the call goes to RQ (queue ``RESPONSO_CHAT_QUEUE_NAME``)
with retries and backoff; an ``rq`` worker started by ``flask responso-chat worker`` runs it.
Without Redis, the job runs in this process on a small thread pool, inside the app context,
so the embedded mode behaves the same.

Periodic jobs (:data:`PERIODIC_JOBS`) run through :func:`run_periodic`, which schedules the
next run when one ends: with RQ at the next multiple of the interval through RQ's scheduler
(the worker started by ``flask responso-chat worker`` schedules the first run; the job id
names the time slot, so several workers never schedule one run twice); without Redis on a
timer thread that the in-process runner starts on its first job.

Both runners list their recent failures (:meth:`RQJobs.failed_jobs`) for the admins' "Failed
jobs" page. While Redis is unreachable :meth:`RQJobs.enqueue` raises: the outbox rows stay and
go once it is back. Jobs are written to be run more than once safely.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from werkzeug.utils import import_string

from responso_chat.infra import outbox
from responso_chat.infra.outbox import RELAY_DUE
from responso_chat.state import plugin_state

log = logging.getLogger(__name__)

RETRY_INTERVALS = [10, 30, 60]

#: The job that runs a periodic job (see :func:`run_periodic`).
RUN_PERIODIC = "responso_chat.infra.jobs.run_periodic"
#: Jobs run again and again: (dotted path, setting holding the seconds between two runs).
PERIODIC_JOBS = (
    ("responso_chat.orders.sync.sync_open_tickets", "ORDER_SYNC_INTERVAL"),
    (RELAY_DUE, "OUTBOX_RELAY_INTERVAL"),
    ("responso_chat.mail.mailbox.poll_mailbox", "IMAP_POLL_INTERVAL"),
    ("responso_chat.privacy.retention.delete_expired_tickets", "RETENTION_INTERVAL"),
)


def enqueue(func_path: str, *args, **kwargs):
    """Run ``func_path(*args, **kwargs)`` in the background (RQ or in-process)."""
    return plugin_state().jobs.enqueue(func_path, *args, **kwargs)


def run_periodic(func_path: str) -> None:
    """Run the periodic job ``func_path``, then schedule its next run (even if it failed)."""
    try:
        import_string(func_path)()
    finally:
        plugin_state().jobs.schedule_next(func_path)


#: How many failures the in-process runner remembers for the "Failed jobs" page.
FAILED_JOBS_KEPT = 100


class QueueUnreachable(Exception):
    """The job queue (Redis) cannot be reached right now."""


@dataclass(frozen=True)
class FailedJob:
    """A job that failed for good (with RQ: after its retries), as the admins' page shows it."""

    id: str
    func_name: str
    args: tuple
    failed_at: datetime | None
    error: str  # the exception's last line
    traceback: str


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _periodic_intervals(app: Flask, jobs=PERIODIC_JOBS) -> dict[str, int]:
    return {path: int(app.config["RESPONSO_CHAT_" + name]) for path, name in jobs}


class InProcessJobs:
    """Runs jobs on a thread pool of this process, each inside the app context."""

    def __init__(self, app: Flask, max_workers: int = 2):
        self._app = app
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._futures: set[Future] = set()
        self._lock = threading.Lock()
        self._intervals = _periodic_intervals(app)
        self._timers: dict[str, threading.Timer] = {}
        self._relay_timers: set[threading.Timer] = set()
        self._failures: deque[FailedJob] = deque(maxlen=FAILED_JOBS_KEPT)
        self._closed = False

    def enqueue(self, func_path: str, *args, **kwargs) -> Future:
        """Schedule the job on the pool and return its future (the first one starts the timers
        of the periodic jobs)."""
        return self._submit(func_path, args, kwargs, None)

    def hand_over(self, func_path: str, args, done) -> bool:
        """The outbox relay's call: run the job on the pool, then ``done()`` in the job's own
        thread, failed or not (its row counts as dispatched once the job ran); False: not
        dispatched yet."""
        self._submit(func_path, args, {}, done)
        return False

    def _submit(self, func_path: str, args, kwargs, done) -> Future:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._max_workers, "responso-chat-job")
                for path in self._intervals:
                    self._start_timer(path)
            try:
                future = self._executor.submit(self._run, func_path, args, kwargs, done)
            except RuntimeError as exc:  # the interpreter is shutting down
                raise outbox.RunnerStopped(str(exc)) from exc
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _run(self, func_path, args, kwargs, done=None):
        try:
            return self._run_in_app(func_path, args, kwargs)
        finally:
            if done is not None:
                done()

    def _run_in_app(self, func_path, args, kwargs):
        with self._app.app_context():
            try:
                return import_string(func_path)(*args, **kwargs)
            except Exception as exc:
                log.exception("job %s failed", func_path)
                self._failures.appendleft(
                    FailedJob(
                        id=uuid.uuid4().hex,
                        func_name=func_path,
                        args=tuple(args),
                        failed_at=datetime.now(UTC),
                        error=_last_line("".join(traceback.format_exception_only(exc))),
                        traceback=traceback.format_exc(),
                    )
                )
                raise
            finally:
                self._app.extensions["sqlalchemy"].session.remove()

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def join(self, timeout: float = 10.0) -> None:
        """Wait until every scheduled job has finished, the jobs those jobs scheduled included
        (used by tests and at shutdown)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            with self._lock:
                pending = list(self._futures)
            if not pending:
                return
            wait(pending, timeout=left)

    def relay_in(self, seconds: float) -> None:
        """Run the outbox relay after ``seconds``, on a timer thread (the delayed rows then
        due go; if this process stops first, the periodic relay of the next one sends them)."""
        with self._lock:
            if self._closed:
                return
            timer = threading.Timer(seconds, self._relay_now)
            timer.daemon = True
            timer.name = "responso-chat-relay"
            self._relay_timers.add(timer)
        timer.start()

    def _relay_now(self) -> None:
        with self._lock:
            self._relay_timers.discard(threading.current_thread())
        self._when_due(RELAY_DUE)

    def _when_due(self, func_path: str, *args) -> None:
        """A timer's job: queued, unless the runner stopped meanwhile (a timer that fired
        just as :meth:`close` ran; the next process schedules it again)."""
        try:
            if not self._closed:
                self.enqueue(func_path, *args)
        except outbox.RunnerStopped:
            log.info("the process stops: %s waits for the next start", func_path)

    def failed_jobs(self, limit: int = 50) -> list[FailedJob]:
        """The most recent failures of this process's jobs, newest first."""
        return list(self._failures)[:limit]

    def schedule_next(self, func_path: str) -> None:
        """Run the periodic job ``func_path`` again after its interval, on a timer thread."""
        with self._lock:
            self._start_timer(func_path)

    def _start_timer(self, func_path: str) -> None:
        if self._closed:
            return
        timer = threading.Timer(
            self._intervals[func_path], self._when_due, (RUN_PERIODIC, func_path)
        )
        timer.daemon = True
        timer.name = "responso-chat-periodic"
        self._timers[func_path] = timer
        timer.start()

    def close(self) -> None:
        """Stop the periodic timers and let the pool's threads end once their jobs are done."""
        with self._lock:
            self._closed = True
            timers, self._timers = list(self._timers.values()), {}
            timers += list(self._relay_timers)
            self._relay_timers.clear()
            executor = self._executor
        for timer in timers:
            timer.cancel()
        if executor is not None:
            executor.shutdown(wait=False)


def _retry():
    """RQ's retry policy of every job: 3 more tries, 10 s, 30 s then 60 s later."""
    from rq import Retry

    return Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)


class RQJobs:
    """Enqueues jobs to RQ by dotted path, with retries and backoff."""

    def __init__(self, app: Flask, redis_url: str):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(app.config["RESPONSO_CHAT_QUEUE_NAME"], connection=self.connection)
        self._intervals = _periodic_intervals(app)
        self._unreachable = False  # the last try to reach Redis failed

    def enqueue(self, func_path: str, *args, **kwargs):
        """Put the job on the RQ queue; it is retried 3 times (10 s, 30 s, 60 s). Raises
        ``redis.RedisError`` while Redis is unreachable (the outbox keeps the job meanwhile)."""
        from redis import RedisError

        try:
            job = self.queue.enqueue(func_path, *args, retry=_retry(), **kwargs)
        except RedisError:
            self._unreachable = True
            raise
        if self._unreachable:
            self._back_after_outage()
        return job

    def hand_over(self, func_path: str, args, done) -> bool:
        """The outbox relay's call: put the job on the queue; True: RQ accepted it (the relay
        marks it dispatched, ``done`` is not called). Raises ``redis.RedisError`` while Redis
        is away."""
        self.enqueue(func_path, *args)
        return True

    def relay_in(self, seconds: float) -> None:
        """Put a run of the outbox relay on RQ's schedule after ``seconds`` (the delayed rows
        then due go); while Redis is away the periodic relay sends them later."""
        from redis import RedisError

        try:
            self.queue.enqueue_in(timedelta(seconds=seconds), RELAY_DUE, retry=_retry())
        except RedisError:
            log.warning("Redis is unreachable: the delayed outbox rows go with a later relay")

    def _back_after_outage(self) -> None:
        """Redis answers again after an outage: relay the outbox rows left meanwhile now rather
        than at the next periodic run, and schedule the periodic jobs again (a Redis that
        restarted empty lost their schedule)."""
        from redis import RedisError

        self._unreachable = False
        try:
            self.queue.enqueue(RELAY_DUE, retry=_retry())
            self.start_periodic()
        except RedisError:
            self._unreachable = True

    def failed_jobs(self, limit: int = 50) -> list[FailedJob]:
        """The queue's failed job registry (jobs whose retries are spent), newest first;
        raises :class:`QueueUnreachable` while Redis is away."""
        from redis import RedisError
        from rq.job import Job

        try:
            ids = self.queue.failed_job_registry.get_job_ids(0, limit - 1, desc=True)
            jobs = Job.fetch_many(ids, connection=self.connection)
        except RedisError as exc:
            raise QueueUnreachable(str(exc)) from exc
        failed = []
        for job in jobs:
            if job is None:  # expired meanwhile
                continue
            result = job.latest_result()
            text = (result.exc_string if result is not None else "") or ""
            failed.append(
                FailedJob(
                    id=job.id,
                    func_name=job.func_name or "",
                    args=tuple(job.args),
                    failed_at=job.ended_at.replace(tzinfo=UTC) if job.ended_at else None,
                    error=_last_line(text),
                    traceback=text,
                )
            )
        return failed

    def join(self, timeout: float = 10.0) -> None:
        """Nothing to wait for here: RQ workers run the jobs."""

    def schedule_next(self, func_path: str):
        """Schedule the periodic job ``func_path`` at the next multiple of its interval.

        The job id names that time slot: when it is already scheduled (another worker did it),
        nothing is added. Returns the job id.
        """
        from rq.job import Job

        interval = self._intervals[func_path]
        slot = int(time.time() // interval) + 1
        job_id = re.sub(r"[^A-Za-z0-9_-]", "_", f"{self.queue.name}-{func_path}-{slot}")
        if not Job.exists(job_id, connection=self.connection):
            self.queue.enqueue_at(
                datetime.fromtimestamp(slot * interval, UTC),
                RUN_PERIODIC,
                func_path,
                job_id=job_id,
            )
        return job_id

    def start_periodic(self) -> None:
        """Make sure every periodic job has its next run scheduled (workers call it)."""
        for func_path in self._intervals:
            self.schedule_next(func_path)

    def close(self) -> None:
        """Close the Redis connections."""
        self.connection.close()


def create_job_runner(app: Flask, redis_url: str):
    """The job runner for a configuration: RQ when Redis is set, else an in-process pool."""
    return RQJobs(app, redis_url) if redis_url else InProcessJobs(app)


def job_class_for(app: Flask):
    """An RQ ``Job`` class that runs every job inside ``app``'s context (Flask-RQ2's FlaskJob)."""
    from rq.job import Job

    class AppContextJob(Job):
        def perform(self):
            with app.app_context():
                try:
                    return super().perform()
                finally:
                    app.extensions["sqlalchemy"].session.remove()

    return AppContextJob


def worker_for(app: Flask):
    """An RQ worker on the plugin's queue that runs jobs in ``app``'s context and, at each of
    its maintenance rounds (on start, then every 10 minutes), makes sure the periodic jobs are
    scheduled: a Redis that restarted empty under a running worker lost their schedule."""
    from rq import Worker

    runner = app.extensions["responso_chat"].jobs
    if not isinstance(runner, RQJobs):
        raise RuntimeError(
            "RESPONSO_CHAT_REDIS_URL is empty: jobs run in-process, there is no queue to work."
        )

    class PluginWorker(Worker):
        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            runner.start_periodic()

    return PluginWorker([runner.queue], connection=runner.connection, job_class=job_class_for(app))


def run_worker(app: Flask, burst: bool = False) -> bool:
    """Run an RQ worker (with its scheduler) on the plugin's queue until stopped."""
    return worker_for(app).work(burst=burst, with_scheduler=True)
