"""Background jobs: the enqueue wrapper, and the RQ job class that runs jobs in the app.

Services call :func:`enqueue` *after* their database commit, with ids, never objects:

    enqueue("responso_chat.services.orders.sync_customer_orders", ticket.id)

With ``RESPONSO_CHAT_REDIS_URL`` set, the call goes to RQ (queue ``RESPONSO_CHAT_QUEUE_NAME``)
with retries and backoff; an ``rq`` worker started by ``flask responso-chat worker`` runs it.
Without Redis, the job runs in this process on a small thread pool, inside the app context,
so the embedded mode behaves the same.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask
from werkzeug.utils import import_string

log = logging.getLogger(__name__)

RETRY_INTERVALS = [10, 30, 60]


def enqueue(func_path: str, *args, **kwargs):
    """Run ``func_path(*args, **kwargs)`` in the background (RQ or in-process)."""
    from . import current_chat

    return current_chat().jobs.enqueue(func_path, *args, **kwargs)


class InProcessJobs:
    """Runs jobs on a thread pool of this process, each inside the app context."""

    def __init__(self, app: Flask, max_workers: int = 2):
        self._app = app
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._futures: set[Future] = set()
        self._lock = threading.Lock()

    def enqueue(self, func_path: str, *args, **kwargs) -> Future:
        """Schedule the job on the pool and return its future."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._max_workers, "responso-chat-job")
            future = self._executor.submit(self._run, func_path, args, kwargs)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _run(self, func_path, args, kwargs):
        with self._app.app_context():
            try:
                return import_string(func_path)(*args, **kwargs)
            except Exception:
                log.exception("job %s failed", func_path)
                raise
            finally:
                self._app.extensions["sqlalchemy"].session.remove()

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def join(self, timeout: float = 10.0) -> None:
        """Wait until every scheduled job has finished (used by tests and at shutdown)."""
        with self._lock:
            pending = list(self._futures)
        wait(pending, timeout=timeout)


class RQJobs:
    """Enqueues jobs to RQ by dotted path, with retries and backoff."""

    def __init__(self, app: Flask, redis_url: str):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(app.config["RESPONSO_CHAT_QUEUE_NAME"], connection=self.connection)

    def enqueue(self, func_path: str, *args, **kwargs):
        """Put the job on the RQ queue; it is retried 3 times (10 s, 30 s, 60 s)."""
        from rq import Retry

        return self.queue.enqueue(
            func_path, *args, retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            **kwargs,
        )

    def join(self, timeout: float = 10.0) -> None:
        """Nothing to wait for here: RQ workers run the jobs."""


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


def run_worker(app: Flask, burst: bool = False) -> bool:
    """Run an RQ worker (with its scheduler) on the plugin's queue until stopped."""
    from rq import Worker

    runner = app.extensions["responso_chat"].jobs
    if not isinstance(runner, RQJobs):
        raise RuntimeError(
            "RESPONSO_CHAT_REDIS_URL is empty: jobs run in-process, there is no queue to work."
        )
    worker = Worker(
        [runner.queue], connection=runner.connection, job_class=job_class_for(app)
    )
    return worker.work(burst=burst, with_scheduler=True)
