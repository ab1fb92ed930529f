"""The plugin's own Alembic tree, on SQLite and on real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import selectinload

from responso_chat import migrations, models
from responso_chat.cli import responso_chat_cli
from responso_chat.models import SEARCH_INDEXES, include_object, is_plugin_table


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, make_app, tmp_path):
    """A host app whose database has only the host's table (no plugin tables yet)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/m.db"
    else:
        url = request.getfixturevalue("postgres_url")
    app = make_app(database_url=url, migrate=True)
    with app.app_context():
        migrations.downgrade("base")
    return app


def table_names(app) -> set[str]:
    return set(sa.inspect(app.extensions["responso_chat"].db.engine).get_table_names())


def test_upgrade_from_empty_then_downgrade_to_base(empty_app):
    app = empty_app
    with app.app_context():
        assert migrations.current() is None
        assert {t for t in table_names(app) if is_plugin_table(t)} == {
            migrations.VERSION_TABLE
        }
        migrations.upgrade()
        assert migrations.current() == migrations.head()
        tables = table_names(app)
        assert {"responso_chat_chat", "responso_chat_ticket", "responso_chat_message"} <= tables
        assert "host_account" in tables
        migrations.downgrade("base")
        left = table_names(app)
    assert {t for t in left if is_plugin_table(t)} == {migrations.VERSION_TABLE}
    assert "host_account" in left
    with app.app_context():
        host = app.extensions["host_shop"]
        assert host.db.session.query(host.Account).count() == 4  # host rows untouched


def test_models_and_migrations_agree(empty_app):
    app = empty_app
    with app.app_context():
        migrations.upgrade()
        state = app.extensions["responso_chat"]
        with state.db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": include_object, "compare_type": True},
            )
            diff = compare_metadata(context, models.metadata)
    assert diff == []


@pytest.mark.postgres
def test_search_indexes_come_and_go_with_the_migrations_on_postgresql(postgres_url, make_app):
    """The PostgreSQL-only trigram indexes of the inbox search: made by upgrade (pg_trgm is
    installed on the way), dropped by downgrade; autogenerate does not see them."""
    app = make_app(database_url=postgres_url, migrate=True)
    state = app.extensions["responso_chat"]

    def search_indexes() -> set[str]:
        inspector = sa.inspect(state.db.engine)
        names = {
            index["name"]
            for table in ("responso_chat_message", "responso_chat_ticket")
            if inspector.has_table(table)
            for index in inspector.get_indexes(table)
        }
        return names & set(SEARCH_INDEXES)

    with app.app_context():
        assert search_indexes() == set(SEARCH_INDEXES)
        migrations.downgrade("c62069f67c2f")  # the initial schema, before the search indexes
        assert search_indexes() == set()
        migrations.upgrade()
        assert search_indexes() == set(SEARCH_INDEXES)


# Flask-Migrate's own env.py template (the host's file, not ours) still calls get_engine().
@pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")
def test_host_alembic_history_is_left_untouched(postgres_url, make_app, tmp_path):
    """A host with its own Flask-Migrate tree: our upgrade never reads or writes its history,
    and the host's autogenerate (with :func:`exclude_object`) never sees our tables."""
    from flask_migrate import Migrate
    from flask_migrate import init as fm_init
    from flask_migrate import migrate as fm_migrate
    from flask_migrate import upgrade as fm_upgrade

    from responso_chat.models import exclude_object

    app = make_app(database_url=postgres_url, migrate=True)
    state = app.extensions["responso_chat"]
    host_dir = tmp_path / "host_migrations"
    Migrate(app, state.db, directory=str(host_dir), include_object=exclude_object)
    with app.app_context():
        migrations.downgrade("base")  # start from nothing, as a brand-new shop would
        state.db.drop_all()
        with state.db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {migrations.VERSION_TABLE}"))
        fm_init(directory=str(host_dir))
        fm_migrate(directory=str(host_dir), message="host tables")
        fm_upgrade(directory=str(host_dir))
        host_scripts = sorted(p.name for p in (host_dir / "versions").iterdir())
        with state.db.engine.connect() as conn:
            host_rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        created = table_names(app)
        assert "host_account" in created
        assert not {t for t in created if is_plugin_table(t)}, "host autogenerate took ours"

        migrations.upgrade()
        migrations.downgrade("base")
        migrations.upgrade()

        with state.db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
                host_rev
            )
        assert sorted(p.name for p in (host_dir / "versions").iterdir()) == host_scripts
        assert migrations.current() == migrations.head()

        with state.db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": exclude_object, "compare_type": True}
            )
            assert compare_metadata(context, state.db.metadata) == []  # ours are not its to drop


#: The head revision of the release whose databases shops run today.
RELEASED_HEAD = "3c7a9e5d1f20"
_T0 = datetime(2026, 11, 30, 9, 15, 30, 250000, tzinfo=UTC)
#: One row for every plugin table, as the released code wrote them (values in column terms).
#: Tables created after the released head (they have no released rows).
NEW_TABLES = {
    "responso_chat_outbox",
    "responso_chat_mail",
    "responso_chat_refused_origin",
    "responso_chat_agent_availability",
    "responso_chat_privacy_record",
    "responso_chat_ticket_rating",
    "responso_chat_canned_response",
    "responso_chat_ticket_order",
    "responso_chat_order_code",
    "responso_chat_attachment",
    "responso_chat_ticket_context",
    "responso_chat_proactive_message",
    "responso_chat_report_count",
}
RELEASED_ROWS = {
    "responso_chat_chat": {
        "id": 1, "name": "Store chat", "welcome_message": "Hello!", "alignment": "left",
        "vertical_spacing": 40, "path_rule_type": "whitelist", "paths": ["/shop", "/p*/sale"],
        "opening_hours": {"mon": [["09:00", "17:00"]], "sun": []},
        "timezone": "Europe/Paris", "out_of_hours_behaviour": "hide_widget",
        "out_of_hours_message": "Closed.", "public_key": "pk-released-0001",
        "secret": "s" * 64, "enabled": True, "language": "fr", "color": "#112233",
        "allowed_origins": ["https://shop.example"], "created_at": _T0, "updated_at": _T0,
    },
    "responso_chat_chat_agent": {"chat_id": 1, "user_id": "2"},
    "responso_chat_team": {"id": 1, "name": "Returns", "created_at": _T0},
    "responso_chat_team_member": {"team_id": 1, "user_id": "3"},
    "responso_chat_tag": {"id": 1, "name": "vip"},
    "responso_chat_ticket": {
        "id": 1, "channel": "chat", "chat_id": 1, "chat_name": "Store chat",
        "subject": "Where is my order?", "customer_name": "Zoe", "customer_email": "zoe@x.test",
        "customer_email_verified": True, "status": "pending", "priority": "high",
        "assignee_id": "2", "team_id": 1, "created_at": _T0, "updated_at": _T0,
        "last_message_at": _T0, "last_sender": "agent", "last_seq": 2, "sentiment": "negative",
        "context": "shipping", "disable_next_autoresponder": True, "out_of_hours": False,
        "page_url": "https://shop.example/cart", "page_title": "Cart", "language": "fr",
    },
    "responso_chat_ticket_tag": {"ticket_id": 1, "tag_id": 1},
    "responso_chat_ticket_watcher": {"ticket_id": 1, "user_id": "3"},
    "responso_chat_message": {
        "id": 1, "ticket_id": 1, "seq": 1, "author_kind": "customer", "author_id": None,
        "author_name": "Zoe", "body": "Où est ma commande ?", "internal": False,
        "client_msg_id": "c-1", "client_key": "customer::c-1", "created_at": _T0,
        "seen_at": _T0, "sentiment": "negative", "context": "shipping",
    },
    "responso_chat_project": {
        "id": 1, "name": "Returns 2026", "description": "All returns", "created_at": _T0,
    },
    "responso_chat_task": {
        "id": 1, "title": "Call Zoe", "description": "About the parcel", "assignee_id": "2",
        "due_date": date(2026, 12, 1), "done": False, "project_id": 1, "ticket_id": 1,
        "created_at": _T0,
    },
    "responso_chat_contact": {
        "id": 1, "name": "Zoe", "email": "zoe@x.test", "phone": "+33 1 23", "notes": "VIP",
        "created_at": _T0,
    },
    "responso_chat_automation_rule": {
        "id": 1, "name": "Greet", "enabled": True, "trigger": "no_agent_reply",
        "trigger_minutes": 30, "match": "any",
        "conditions": [{"field": "sentiment", "operator": "is", "value": "negative"}],
        "actions": [{"type": "set_priority", "value": "urgent"}], "position": 3,
        "created_at": _T0, "last_run_at": _T0,
    },
    "responso_chat_automation_run": {
        "id": 1, "rule_id": 1, "ticket_id": 1, "message_id": 1, "created_at": _T0,
        "outcome": [["set_priority", "done"]],
    },
    "responso_chat_order_status": {
        "id": 7001, "name": "Shipped", "name_for_customer": "On its way", "color": "#00ff00",
    },
    "responso_chat_order": {
        "id": 1, "base_order_id": 9_000_000_001, "shop_order_id": "A-17", "status_id": 7001,
        "date_add": _T0, "date_confirmed": _T0, "date_in_status": _T0, "email": "zoe@x.test",
        "phone": "+33 1 23", "currency": "EUR", "total": Decimal("129.90"),
        "products": [{"name": "Lamp", "quantity": 1}], "payment_method": "Card",
        "payment_done": Decimal("129.90"), "delivery_method": "Courier",
        "delivery_price": Decimal("9.90"), "delivery_fullname": "Zoe Z",
        "delivery_address": "1 rue X", "delivery_city": "Paris", "delivery_postcode": "75001",
        "delivery_country_code": "FR", "delivery_package_nr": "PKG1",
        "order_page": "https://shop.example/o/1", "synced_at": _T0,
    },
    "responso_chat_order_sync": {
        "email": "zoe@x.test", "synced_at": _T0, "error": "timeout", "error_at": _T0,
    },
    "responso_chat_setting": {"key": "base_api_token", "value": "tok", "updated_at": _T0},
    "responso_chat_api_token": {
        "id": 1, "user_id": "2", "name": "CLI", "token_hash": "h" * 64, "last_four": "abcd",
        "created_at": _T0, "last_used_at": _T0, "revoked_at": None,
    },
    "responso_chat_webhook": {
        "id": 1, "url": "https://hooks.example/x", "events": ["ticket.created"],
        "secret": "w" * 64, "enabled": False, "created_at": _T0,
    },
    "responso_chat_webhook_delivery": {
        "id": 1, "webhook_id": 1, "event": "ticket.created", "payload": {"ticket": {"id": 1}},
        "status_code": 500, "error": "HTTP 500", "attempt": 2, "created_at": _T0,
        "delivered_at": None,
    },
    "responso_chat_kept_job": {
        "id": 1, "func_path": "responso_chat.integrations.webhooks.deliver", "args": [1],
        "kwargs": {}, "run_at": _T0, "created_at": _T0,
    },
}


def _write_released_rows(engine) -> None:
    """Insert :data:`RELEASED_ROWS` through the tables as the database has them (reflected),
    not through the models."""
    reflected = sa.MetaData()
    reflected.reflect(engine, only=list(RELEASED_ROWS))
    with engine.begin() as connection:
        for table in reflected.sorted_tables:
            connection.execute(table.insert().values(RELEASED_ROWS[table.name]))


#: Released tables a later revision dropped (their rows moved elsewhere).
DROPPED = {"responso_chat_kept_job"}


def _all_rows(engine) -> dict[str, list]:
    """The released tables' rows that remain, in their released columns."""
    reflected = sa.MetaData()
    reflected.reflect(engine, only=[name for name in RELEASED_ROWS if name not in DROPPED])
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(*(table.c[name] for name in RELEASED_ROWS[table.name]))
                .order_by(*table.primary_key.columns)
            ).all()
            for table in reflected.sorted_tables
        }


def test_a_released_database_with_rows_in_every_table_keeps_them(empty_app):
    """A database at the released head, a row in each table: ``db upgrade`` with this code
    leaves every row as it was (a job kept while Redis was away moves to the outbox), and the
    models read each one back whole."""
    app = empty_app
    state = app.extensions["responso_chat"]
    assert set(RELEASED_ROWS) - DROPPED == set(models.metadata.tables) - NEW_TABLES
    with app.app_context():
        migrations.upgrade(RELEASED_HEAD)
        _write_released_rows(state.db.engine)
        before = _all_rows(state.db.engine)

        result = app.test_cli_runner().invoke(responso_chat_cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert migrations.current() == migrations.head() != RELEASED_HEAD
        assert _all_rows(state.db.engine) == before
        (kept,) = state.db.session.scalars(sa.select(models.OutboxEntry)).all()
        assert (kept.job, kept.args, kept.available_at) == (
            "responso_chat.integrations.webhooks.deliver", [1], _T0)
        assert kept.dispatched_at is None

        session = state.db.session
        mappers = models.Base.registry.mappers
        classes = {mapper.local_table.name: mapper.class_ for mapper in mappers}
        for name, row in RELEASED_ROWS.items():
            if name not in classes or name in DROPPED:  # tags: read below through the ticket
                continue
            table = models.metadata.tables[name]
            key = tuple(row[column.name] for column in table.primary_key.columns)
            read = session.get(classes[name], key)
            assert read is not None, name
            assert {column: getattr(read, column) for column in row} == row, name
        ticket = session.get(models.Ticket, 1, options=[selectinload(models.Ticket.tags)])
        assert [tag.name for tag in ticket.tags] == ["vip"]
        # the reports' counts start from the tickets already there
        quarter = int(_T0.timestamp()) // 900
        counts = session.execute(sa.select(
            models.ReportCount.quarter, models.ReportCount.chat_key,
            models.ReportCount.conversations)).all()
        assert counts == [(quarter, 1, 1)]
        session.rollback()
