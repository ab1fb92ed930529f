"""The data model on SQLite and PostgreSQL: UTC times, constraints, message numbering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from responso_chat import models
from responso_chat.conversation.chats import delete_chat
from responso_chat.conversation.messages import add_message, find_by_client_id, messages_after
from responso_chat.models import Chat, Message
from tests.factories import make_chat, make_ticket
from tests.hostapp import create_host_app


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request, app):
    """The test runs on SQLite and on PostgreSQL (tables made by the migrations)."""
    return app if request.param == "sqlite" else request.getfixturevalue("pg_app")


def test_every_table_is_prefixed():
    assert len(models.metadata.tables) == 34
    assert all(name.startswith(models.TABLE_PREFIX) for name in models.metadata.tables)


def test_the_hosts_metadata_and_create_all_never_see_the_plugins_tables(tmp_path):
    app = create_host_app(f"sqlite:///{tmp_path / 'host.db'}")
    state = app.extensions["responso_chat"]
    assert list(state.db.metadata.tables) == ["host_account"]
    with app.app_context():
        state.db.create_all()
        assert sa.inspect(state.db.engine).get_table_names() == ["host_account"]
        state.db.engine.dispose()
    state.jobs.close()
    state.broker.close()


def test_times_are_stored_in_utc_and_come_back_aware(any_app):
    with any_app.app_context():
        chat = make_chat()
        ticket = make_ticket(chat)
        warsaw = timezone(timedelta(hours=1))
        ticket.created_at = datetime(2026, 3, 1, 12, 0, tzinfo=warsaw)
        state = any_app.extensions["responso_chat"]
        state.db.session.commit()
        state.db.session.expire_all()
        assert ticket.created_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
        assert ticket.created_at.tzinfo is not None
        ticket.created_at = datetime(2026, 3, 1, 12, 0)  # naive: refused
        with pytest.raises(StatementError, match="naive datetime"):
            state.db.session.commit()
        state.db.session.rollback()


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "archived"), ("priority", "critical"), ("channel", "fax")],
)
def test_check_constraints_refuse_unknown_values(any_app, field, value):
    with any_app.app_context():
        ticket = make_ticket(make_chat())
        state = any_app.extensions["responso_chat"]
        setattr(ticket, field, value)
        with pytest.raises(IntegrityError):
            state.db.session.commit()
        state.db.session.rollback()


def test_chat_spacing_and_unique_names(any_app):
    with any_app.app_context():
        state = any_app.extensions["responso_chat"]
        make_chat("Main")
        state.db.session.add(Chat(name="Main"))
        with pytest.raises(IntegrityError):
            state.db.session.commit()
        state.db.session.rollback()
        state.db.session.add(Chat(name="Far", vertical_spacing=5000))
        with pytest.raises(IntegrityError):
            state.db.session.commit()
        state.db.session.rollback()


def test_messages_are_numbered_per_ticket_and_client_ids_are_unique(any_app):
    with any_app.app_context():
        state = any_app.extensions["responso_chat"]
        chat = make_chat()
        first, second = make_ticket(chat), make_ticket(chat, subject="Another")
        add_message(first, author_kind="agent", body="Hi", author_id="2", client_msg_id="a1")
        add_message(first, author_kind="customer", body="Thanks", client_msg_id="c1")
        add_message(second, author_kind="customer", body="Hello?", client_msg_id="a1")
        state.db.session.commit()
        assert [m.seq for m in messages_after(first.id)] == [1, 2, 3]
        assert [m.seq for m in messages_after(second.id)] == [1, 2]
        assert [m.body for m in messages_after(first.id, after_seq=2)] == ["Thanks"]
        assert first.last_seq == 3 and first.last_sender == "customer"
        assert find_by_client_id(first.id, "customer", None, "c1").body == "Thanks"
        assert find_by_client_id(first.id, "customer", None, "a1") is None  # the agent's id
        with pytest.raises(IntegrityError):
            add_message(first, author_kind="customer", body="again", client_msg_id="c1")
        state.db.session.rollback()
        # Another author may use the same id: keys are scoped to their author.
        add_message(first, author_kind="agent", body="Mine", author_id="3", client_msg_id="a1")
        add_message(first, author_kind="customer", body="Also", client_msg_id="a1")
        state.db.session.commit()
        assert find_by_client_id(first.id, "agent", "2", "a1").body == "Hi"
        assert find_by_client_id(first.id, "agent", "3", "a1").body == "Mine"


def test_internal_notes_do_not_move_the_conversation(any_app):
    with any_app.app_context():
        state = any_app.extensions["responso_chat"]
        ticket = make_ticket(make_chat())
        before = ticket.last_message_at
        add_message(ticket, author_kind="agent", body="note", author_id="2", internal=True)
        state.db.session.commit()
        assert ticket.last_message_at == before and ticket.last_sender == "customer"
        assert [m.body for m in messages_after(ticket.id)] == ["Hello, my parcel has not arrived."]
        assert len(messages_after(ticket.id, include_internal=True)) == 2


def test_deleting_a_chat_keeps_its_tickets(any_app):
    with any_app.app_context():
        state = any_app.extensions["responso_chat"]
        chat = make_chat("Old chat")
        ticket = make_ticket(chat)
        delete_chat(chat)
        state.db.session.expire_all()
        assert ticket.chat_id is None and ticket.chat_name == "Old chat"
        assert state.db.session.scalar(sa.select(sa.func.count(Message.id))) == 1
