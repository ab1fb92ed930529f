"""Alembic environment of the plugin: the host's engine, the plugin's own metadata only."""

from alembic import context
from flask import current_app
from responso_chat.migrations import VERSION_TABLE

from responso_chat.models import include_object, metadata

state = current_app.extensions["responso_chat"]


def run_migrations_online() -> None:
    """Run the migrations on the app's database connection."""
    with state.db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them on a database.")
run_migrations_online()
