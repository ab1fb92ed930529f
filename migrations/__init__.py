"""The plugin's own Alembic tree: its own version table, and only its own tables.

Migrations never run on import or at boot; ``flask responso-chat db upgrade`` (or these
functions, inside an app context) runs them. Scripts are found with ``importlib.resources`` so
they work from a wheel as from a checkout.
"""

from __future__ import annotations

from contextlib import contextmanager
from importlib.resources import as_file, files

from alembic import command
from alembic.config import Config

from responso_chat.models import VERSION_TABLE

__all__ = ["VERSION_TABLE", "upgrade", "downgrade", "current", "head", "revision"]


@contextmanager
def alembic_config():
    """An Alembic ``Config`` pointing at this package's scripts (use inside an app context)."""
    with as_file(files(__name__)) as location:
        config = Config()
        config.set_main_option("script_location", str(location))
        config.set_main_option("path_separator", "os")
        config.set_main_option(
            "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s"
        )
        yield config


def upgrade(revision: str = "head") -> None:
    """Upgrade the plugin's tables to ``revision`` (default: the newest)."""
    with alembic_config() as config:
        command.upgrade(config, revision)


def downgrade(revision: str = "-1") -> None:
    """Downgrade the plugin's tables to ``revision`` (``base`` removes them all)."""
    with alembic_config() as config:
        command.downgrade(config, revision)


def current() -> str | None:
    """The plugin's current schema revision in the database, or None before any upgrade."""
    from alembic.runtime.migration import MigrationContext
    from flask import current_app

    engine = current_app.extensions["responso_chat"].db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head() -> str:
    """The newest revision of the plugin's scripts."""
    from alembic.script import ScriptDirectory

    with alembic_config() as config:
        return ScriptDirectory.from_config(config).get_current_head()


def revision(message: str, autogenerate: bool = True) -> None:
    """Write a new revision script (for the plugin's developers, from a checkout)."""
    with alembic_config() as config:
        command.revision(config, message=message, autogenerate=autogenerate)
