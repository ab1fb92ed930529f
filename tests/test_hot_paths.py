"""Hot paths built from values in hand: the statements Start chat, a send, a resume and a
visitor token cost, and the agents read from the host's user model (a host written as the
README's snippet, which names no user model)."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_login import LoginManager, UserMixin, login_user
from flask_sqlalchemy import SQLAlchemy

from responso_chat import ResponsoChat, models
from responso_chat.config import ConfigurationError
from responso_chat.conversation.visitor import ticket_for_token
from responso_chat.users import Agent, agent_by_id, forget_agents, list_agents
from tests.conftest import _dispose
from tests.factories import make_chat


def _shape(statement: str) -> str:
    """``"SELECT responso_chat_chat"``: the verb and the first table of a statement."""
    verb = statement.split(None, 1)[0].upper()
    where = {"SELECT": r"\bFROM\s+(\w+)", "INSERT": r"\bINTO\s+(\w+)"}.get(verb, r"^\w+\s+(\w+)")
    match = re.search(where, statement.strip(), re.IGNORECASE)
    return f"{verb} {match.group(1) if match else '?'}"


@contextmanager
def statements_of_this_thread(engine):
    """Record the statements this thread sends (not the in-process jobs' threads)."""
    recorded, me = [], threading.get_ident()

    def record(conn, cursor, statement, *args):
        if threading.get_ident() == me:
            recorded.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield recorded
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _own(statements) -> list[str]:
    """The shapes of the statements, one for a run of the same one (the outbox rows of a
    change go in one statement where the database batches them, one each on SQLite)."""
    shapes = [_shape(s) for s in statements]
    return [s for i, s in enumerate(shapes) if i == 0 or shapes[i - 1] != s]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """The test host app on SQLite, then on PostgreSQL."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


START = {"name": "Ann", "email": "ann@example.com", "subject": "Parcel",
         "message": "Where is my parcel?", "client_msg_id": "c-0"}


def test_the_conversation_costs_the_statements_it_needs(any_app):
    app = any_app
    with app.app_context():
        key = make_chat().public_key
        engine = app.extensions["responso_chat"].db.engine
    client = app.test_client()

    with statements_of_this_thread(engine) as start:
        response = client.post(f"/chat/widget/{key}/tickets", json=START)
    assert response.status_code == 201
    assert _own(start) == [
        "SELECT responso_chat_chat",
        "INSERT responso_chat_ticket",
        "UPDATE responso_chat_ticket",  # the sequence number, RETURNING it
        "INSERT responso_chat_message",
        "INSERT responso_chat_outbox",  # the order sync, ticket_created, message_created
    ]  # the rules and webhooks are looked up by the event's job, never here
    body = response.json
    assert [m["body"] for m in body["messages"]] == ["Where is my parcel?"]
    assert body["ticket"]["agent_name"] is None and body["ticket"]["status"] == "open"
    headers = {"Authorization": "Bearer " + body["token"]}

    with statements_of_this_thread(engine) as send:
        response = client.post("/chat/widget/tickets/messages", headers=headers,
                               json={"body": "Any news?", "client_msg_id": "c-1"})
    assert response.status_code == 201 and response.json["message"]["seq"] == 2
    assert _own(send) == [
        "SELECT responso_chat_ticket",  # the token's ticket and chat, joined
        "UPDATE responso_chat_ticket",
        "INSERT responso_chat_message",
        "INSERT responso_chat_outbox",  # message_created
    ]

    with statements_of_this_thread(engine) as resume:
        response = client.get("/chat/widget/tickets/messages?after=0", headers=headers)
    assert [m["seq"] for m in response.json["messages"]] == [1, 2]
    assert _own(resume) == ["SELECT responso_chat_ticket", "SELECT responso_chat_message"]

    with app.test_request_context():
        for _known_or_not in range(2):  # a ticket the session holds is read the same way
            with statements_of_this_thread(engine) as check:
                ticket = ticket_for_token(body["token"])
                assert ticket.chat.enabled and ticket.chat.public_key == key
            assert len(check) == 1 and re.search(r"\bJOIN responso_chat_chat\b", check[0])


# --- a host written as the README's snippet --------------------------------------------------


def readme_host(database_url: str, user_model: bool = True, **config) -> Flask:
    """The README's integration, with a user model of the documented attributes and a login."""
    db = SQLAlchemy()
    app = Flask(__name__)
    app.config.update(SECRET_KEY="readme-secret", SQLALCHEMY_DATABASE_URI=database_url,
                      TESTING=True, **config)
    db.init_app(app); LoginManager(app)  # noqa: E702 - as the README writes it
    chat = ResponsoChat(app, db=db)  # noqa: F841

    if user_model:
        class User(UserMixin, db.Model):
            id = sa.Column(sa.Integer, primary_key=True)
            email = sa.Column(sa.String(200), nullable=False)
            name = sa.Column(sa.String(100), nullable=False)
            is_admin = sa.Column(sa.Boolean, nullable=False, default=False)
            is_agent = sa.Column(sa.Boolean, nullable=False, default=False)

        app.login_manager.user_loader(lambda user_id: db.session.get(User, int(user_id)))

        @app.get("/login/<int:user_id>")
        def login(user_id):
            login_user(db.session.get(User, user_id))
            return "signed in"

        app.extensions["readme_user"] = User

    with app.app_context():
        db.create_all()
        models.metadata.create_all(db.engine)
        if user_model:
            db.session.add_all([
                User(id=1, email="owner@shop.test", name="Olga Owner", is_admin=True),
                User(id=2, email="agent@shop.test", name="Adam Agent", is_agent=True),
                *(User(id=n, email=f"c{n}@shop.test", name=f"Customer {n}")
                  for n in range(3, 13)),
            ])
            db.session.commit()
    return app


@pytest.fixture
def make_readme_host(tmp_path):
    """Factory of README hosts on fresh SQLite files."""
    apps = []

    def make(**kwargs):
        apps.append(readme_host(f"sqlite:///{tmp_path / f'readme-{len(apps)}.db'}", **kwargs))
        return apps[-1]

    yield make
    for app in apps:
        _dispose(app)


def test_a_host_written_as_the_readme_shows_the_admin_page_and_the_inbox(make_readme_host):
    app = make_readme_host()
    client = app.test_client()
    client.get("/login/1")
    assert client.get("/chat/admin/").status_code == 200
    form = client.get("/chat/admin/chats/new")
    assert form.status_code == 200
    assert "Olga Owner" in form.get_data(as_text=True)
    assert "Adam Agent" in form.get_data(as_text=True)
    assert "Customer 3" not in form.get_data(as_text=True)
    assert client.get("/chat/inbox/").status_code == 200


def test_agents_are_filtered_in_sql_reading_three_columns_and_cached(make_readme_host):
    app = make_readme_host()
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        with statements_of_this_thread(engine) as read:
            agents = list_agents()
        assert agents == [Agent("2", "Adam Agent", "agent@shop.test"),
                          Agent("1", "Olga Owner", "owner@shop.test")]
        assert len(read) == 1
        columns = re.search(r"SELECT (.*?)\s+FROM", read[0], re.S).group(1)
        assert {c.strip().split(".")[-1] for c in columns.split(",")} == {"id", "name", "email"}
        assert "WHERE" in read[0]
        with statements_of_this_thread(engine) as again:
            assert list_agents() == agents and agent_by_id("1").name == "Olga Owner"
        assert again == []  # cached for RESPONSO_CHAT_AGENTS_CACHE_SECONDS

        forget_agents()
        with statements_of_this_thread(engine) as one:
            assert agent_by_id("2") == Agent("2", "Adam Agent", "agent@shop.test")
            assert agent_by_id("3") is None  # a customer
            assert agent_by_id("nobody") is None
        assert len(one) == 2 and all("WHERE" in s for s in one)


def test_agents_are_re_read_every_time_without_a_cache(make_readme_host):
    app = make_readme_host(RESPONSO_CHAT_AGENTS_CACHE_SECONDS=0)
    with app.app_context():
        user = app.extensions["readme_user"]
        app.extensions["sqlalchemy"].session.get(user, 3).is_agent = True
        app.extensions["sqlalchemy"].session.commit()
        assert [a.name for a in list_agents()] == ["Adam Agent", "Customer 3", "Olga Owner"]


def test_roles_computed_in_python_are_filtered_in_python(make_readme_host):
    app = make_readme_host(RESPONSO_CHAT_IS_AGENT=lambda user: user.email.startswith("c3@"))
    with app.app_context():
        assert [a.name for a in list_agents()] == ["Customer 3", "Olga Owner"]


def test_a_host_without_a_user_model_is_told_which_setting_to_set(make_readme_host):
    app = make_readme_host(user_model=False)
    with app.app_context(), pytest.raises(ConfigurationError, match="RESPONSO_CHAT_USER_MODEL"):
        list_agents()
