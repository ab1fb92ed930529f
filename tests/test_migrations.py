"""The plugin's own Alembic tree, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from responso_chat import migrations
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
            diff = compare_metadata(context, state.db.metadata)
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
    """A host with its own Flask-Migrate tree: our upgrade never reads or writes its history."""
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
        state.db.drop_all()  # start the host from nothing, as a brand-new shop would
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
