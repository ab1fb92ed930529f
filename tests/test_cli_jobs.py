"""The ``flask responso-chat`` commands, the job runners and the brokers.

The group reaches ``flask`` through the ``flask.commands`` entry point (a test below checks
it); the other tests invoke it directly on the app's CLI runner.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from responso_chat import migrations
from responso_chat.cli import responso_chat_cli
from responso_chat.infra import outbox
from responso_chat.infra.broker import InProcessBroker, RedisBroker
from responso_chat.infra.jobs import RUN_PERIODIC, InProcessJobs, RQJobs, enqueue, worker_for
from responso_chat.infra.outbox import relay_due
from responso_chat.models import Chat, OutboxEntry, Ticket
from tests.conftest import AuthActions
from tests.factories import make_chat
from tests.servers import RedisServer


def test_db_commands_upgrade_current_downgrade(make_app):
    app = make_app(migrate=True)
    runner = app.test_cli_runner()
    result = runner.invoke(responso_chat_cli, ["db", "current"])
    assert result.exit_code == 0 and "(up to date)" in result.output
    result = runner.invoke(responso_chat_cli, ["db", "downgrade", "base"])
    assert result.exit_code == 0 and "base (no tables)" in result.output
    result = runner.invoke(responso_chat_cli, ["db", "current"])
    assert "base (no tables)" in result.output and "newest is" in result.output
    result = runner.invoke(responso_chat_cli, ["db", "upgrade"])
    assert result.exit_code == 0
    with app.app_context():
        assert f"schema at {migrations.head()}" in result.output


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(responso_chat_cli, ["seed-demo"])
    second = runner.invoke(responso_chat_cli, ["seed-demo"])
    assert first.exit_code == 0 and "Demo chat 'Shop chat' ready" in first.output
    assert second.output == first.output
    state = app.extensions["responso_chat"]
    with app.app_context():
        query = sa.select(Chat).options(selectinload(Chat.agent_rows))
        chat = state.db.session.scalars(query).one()
        assert chat.agent_ids == ["1", "2", "3"]
        assert state.db.session.query(Ticket).count() == 2  # Anna's and Maria's


def test_worker_without_redis_explains_itself(app):
    result = app.test_cli_runner().invoke(responso_chat_cli, ["worker", "--burst"])
    assert result.exit_code != 0
    assert "RESPONSO_CHAT_REDIS_URL is empty" in result.output


def test_in_process_jobs_run_in_the_app_context(app):
    state = app.extensions["responso_chat"]
    assert isinstance(state.jobs, InProcessJobs)
    with app.app_context():
        chat_id = make_chat("Before").id
        future = enqueue("tests.jobs_for_tests.rename_chat", chat_id, "After")
    assert future.result(timeout=10) == "After"
    with app.app_context():
        assert state.db.session.get(Chat, chat_id).name == "After"


def test_a_timer_that_fires_as_the_runner_stops_raises_nothing(app):
    """A periodic timer may fire while the runner closes: the job waits for the next start,
    and no thread dies with an exception."""
    runner = app.extensions["responso_chat"].jobs
    runner.enqueue("responso_chat.infra.outbox.relay_due").result(timeout=10)
    runner.close()
    runner._when_due(RUN_PERIODIC, "responso_chat.infra.outbox.relay_due")  # closed: skipped
    runner._closed = False  # the timer read the flag just before close() set it
    runner._when_due(RUN_PERIODIC, "responso_chat.infra.outbox.relay_due")  # no exception
    runner._closed = True


def test_rq_jobs_run_by_the_worker_command(make_app, postgres_url, redis_url):
    app = make_app(database_url=postgres_url, migrate=True, RESPONSO_CHAT_REDIS_URL=redis_url)
    state = app.extensions["responso_chat"]
    assert isinstance(state.jobs, RQJobs)
    with app.app_context():
        chat_id = make_chat("Queued").id
        job = enqueue("tests.jobs_for_tests.rename_chat", chat_id, "Worked")
    assert job.origin == "responso_chat" and job.retries_left == 3
    result = app.test_cli_runner().invoke(responso_chat_cli, ["worker", "--burst"])
    assert result.exit_code == 0, result.output
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "Worked"
    with app.app_context():
        state.db.session.expire_all()
        assert state.db.session.get(Chat, chat_id).name == "Worked"


@pytest.fixture
def outage(make_app, postgres_url):
    """An app on RQ with a Redis of its own to stop and start, a chat, and the outbox rows not
    dispatched yet."""
    redis_server = RedisServer().start()
    app = make_app(database_url=postgres_url, migrate=True,
                   RESPONSO_CHAT_REDIS_URL=redis_server.url)
    state = app.extensions["responso_chat"]
    Entry = OutboxEntry
    with app.app_context():
        chat_id = make_chat("Kept").id

    def waiting():
        state.db.session.expire_all()
        return state.db.session.scalars(
            sa.select(Entry).where(Entry.dispatched_at.is_(None)).order_by(Entry.id)
        ).all()

    def write(*args, delay=0.0):
        outbox.add("tests.jobs_for_tests.rename_chat", *args, delay=delay)
        state.db.session.commit()

    yield SimpleNamespace(app=app, state=state, redis=redis_server, chat_id=chat_id,
                          waiting=waiting, write=write)
    redis_server.stop()


def _work(app) -> None:
    result = app.test_cli_runner().invoke(responso_chat_cli, ["worker", "--burst"])
    assert result.exit_code == 0, result.output


def test_outbox_rows_written_while_redis_is_down_wait_then_go(outage):
    app, chat_id, waiting = outage.app, outage.chat_id, outage.waiting
    outage.redis.stop()
    with app.app_context():
        outage.write(chat_id, "Worked")  # the commit succeeds, the relay cannot queue it
        outage.write(chat_id, "Later", delay=3600)
        now, later = waiting()
        assert (now.job, now.args, now.attempts) == (
            "tests.jobs_for_tests.rename_chat", [chat_id, "Worked"], 1)
        assert now.claimed_by is None and now.claimed_until is None  # given back
        assert 3599 <= (later.available_at - now.available_at).total_seconds() <= 3601
        with pytest.raises(redis.RedisError):  # still down: both stay
            relay_due()
        assert len(waiting()) == 2
    outage.redis.start()
    with app.app_context():
        assert relay_due() == 1  # "Later" is not due yet
        assert [entry.args for entry in waiting()] == [[chat_id, "Later"]]
        assert relay_due() == 0
    queue = outage.state.jobs.queue  # with the relay run of a Redis back after an outage
    assert [job.func_name for job in queue.jobs] == [
        "tests.jobs_for_tests.rename_chat", "responso_chat.infra.outbox.relay_due"]
    _work(app)
    with app.app_context():
        assert outage.state.db.session.get(Chat, chat_id).name == "Worked"


def test_the_first_job_after_an_outage_relays_the_rows_left(outage):
    app, chat_id = outage.app, outage.chat_id
    outage.redis.stop()  # a Redis that restarts empty: the periodic schedule is gone too
    with app.app_context():
        outage.write(chat_id, "Kept")
    outage.redis.start()
    with app.app_context():
        outage.write(chat_id, "After")
    queue = outage.state.jobs.queue
    assert [job.func_name for job in queue.jobs] == [
        "tests.jobs_for_tests.rename_chat", "responso_chat.infra.outbox.relay_due"]
    assert queue.scheduled_job_registry.count == 4  # the periodic jobs, scheduled again
    _work(app)  # "After", then the relay's turn: "Kept" runs last
    with app.app_context():
        assert outage.state.db.session.get(Chat, chat_id).name == "Kept"
        assert outage.waiting() == []


def test_a_worker_schedules_the_periodic_jobs_again_after_redis_lost_them(make_app, redis_url):
    app = make_app(RESPONSO_CHAT_REDIS_URL=redis_url)
    runner = app.extensions["responso_chat"].jobs
    worker = worker_for(app)
    registry = runner.queue.scheduled_job_registry
    worker.run_maintenance_tasks()  # on start
    scheduled = sorted(registry.get_job_ids())
    assert [job_id.split("-")[1] for job_id in scheduled] == [
        "responso_chat_infra_outbox_relay_due", "responso_chat_mail_mailbox_poll_mailbox",
        "responso_chat_orders_sync_sync_open_tickets",
        "responso_chat_privacy_retention_delete_expired_tickets"]
    runner.connection.flushall()  # Redis restarted empty under the running worker
    assert registry.get_job_ids() == []
    worker.run_maintenance_tasks()  # its next round, 10 minutes later
    assert sorted(registry.get_job_ids()) == scheduled
    worker.run_maintenance_tasks()
    assert len(registry.get_job_ids()) == 4  # never twice


def test_the_failed_jobs_page_while_redis_is_away(outage):
    app, client = outage.app, outage.app.test_client()
    AuthActions(client).login("admin@shop.test")
    page = "/chat/admin/automations/failed-jobs"
    assert "waiting for Redis" not in client.get(page).get_data(as_text=True)
    outage.redis.stop()
    with app.app_context():
        for name in ("One", "Two"):
            outage.write(outage.chat_id, name)
    response = client.get(page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The job queue (Redis) cannot be reached right now" in html
    assert "2 jobs are waiting for Redis" in html and "No failed job" not in html
    outage.redis.start()
    html = client.get(page).get_data(as_text=True)
    assert "cannot be reached" not in html and "No failed job" in html
    assert "2 jobs are waiting for Redis" in html  # until the periodic relay queues them
    with app.app_context():
        relay_due()
    assert "waiting for Redis" not in client.get(page).get_data(as_text=True)


def test_in_process_broker_delivers_and_survives_a_broken_listener():
    broker = InProcessBroker()
    got = []

    def broken(event):
        raise RuntimeError("socket gone")

    broker.subscribe("ticket:1", broken)
    broker.subscribe("ticket:1", got.append)
    broker.publish("ticket:1", {"seq": 1})
    broker.publish("ticket:2", {"seq": 9})
    broker.unsubscribe("ticket:1", got.append)
    broker.publish("ticket:1", {"seq": 2})
    assert got == [{"seq": 1}]


@pytest.mark.timeout(30)
def test_redis_broker_fans_out_across_brokers(redis_url):
    """Two brokers stand for two server processes sharing one Redis."""
    first, second = RedisBroker(redis_url), RedisBroker(redis_url)
    received = []
    arrived = threading.Event()

    def listener(event):
        received.append(event)
        arrived.set()

    try:
        second.subscribe("ticket:7", listener)
        # The listener thread subscribes asynchronously: publish until it is listening.
        for _ in range(50):
            first.publish("ticket:7", {"seq": 1})
            if arrived.wait(0.1):
                break
        assert received and received[0] == {"seq": 1}
    finally:
        first.close()
        second.close()


def test_redis_broker_publish_survives_redis_down():
    broker = RedisBroker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    broker.publish("ticket:1", {"seq": 1})  # logged and dropped, never raised
    broker.close()


def test_group_is_published_as_a_flask_command_entry_point():
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="flask.commands") if e.name == "responso-chat"]
    assert entry.load() is responso_chat_cli
