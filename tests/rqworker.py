"""A real RQ worker for the tests, run in burst mode in the test's process."""

from __future__ import annotations

from rq import SimpleWorker

from responso_chat.infra.jobs import job_class_for


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel (shutdown and stop commands, which a
    burst run never gets): stopping, RQ's listener thread can keep it waiting up to a minute."""

    def subscribe(self) -> None:
        """No command channel."""


def work_burst(app) -> bool:
    """Run every job the app's queue holds, then stop; whether any job ran."""
    jobs = app.extensions["responso_chat"].jobs
    return BurstWorker([jobs.queue], connection=jobs.connection,
                       job_class=job_class_for(app)).work(burst=True)
