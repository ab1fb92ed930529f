"""``flask responso-chat ...``: database migrations, demo data, the job worker, and the
classifier scored on the agents' corrections."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from responso_chat import migrations
from responso_chat.conversation import analysis
from responso_chat.demo.data import seed_demo_chat
from responso_chat.infra.jobs import run_worker

responso_chat_cli = AppGroup("responso-chat", help="Responso Chat: migrations, demo data, worker.")
db_cli = AppGroup("db", help="The plugin's own database migrations (its tables only).")
responso_chat_cli.add_command(db_cli)
classifier_cli = AppGroup("classifier", help="The sentiment and context classifier.")
responso_chat_cli.add_command(classifier_cli)


def _require_plugin():
    if "responso_chat" not in current_app.extensions:
        raise click.ClickException("This app does not register ResponsoChat(app, db=db).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision):
    """Create or upgrade the plugin's tables (default: to the newest revision)."""
    _require_plugin()
    migrations.upgrade(revision)
    click.echo(f"Responso Chat schema at {migrations.current()}.")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision):
    """Downgrade the plugin's tables (``base`` drops them all)."""
    _require_plugin()
    migrations.downgrade(revision)
    click.echo(f"Responso Chat schema at {migrations.current() or 'base (no tables)'}.")


@db_cli.command("current")
def db_current():
    """Show the plugin's schema revision in the database."""
    _require_plugin()
    current, head = migrations.current(), migrations.head()
    state = "up to date" if current == head else f"newest is {head}"
    click.echo(f"{current or 'base (no tables)'} ({state})")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
def db_revision(message):
    """Write a new migration from the models (plugin development, from a checkout)."""
    _require_plugin()
    migrations.revision(message)


@responso_chat_cli.command("seed-demo")
def seed_demo():
    """Add the demo chat and a sample conversation (idempotent)."""
    _require_plugin()
    summary = seed_demo_chat()
    click.echo(summary)


@responso_chat_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst):
    """Run an RQ worker (with scheduler) for the plugin's queue."""
    _require_plugin()
    try:
        run_worker(current_app._get_current_object(), burst=burst)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@classifier_cli.command("evaluate")
@click.option("--export", is_flag=True,
              help="Print the corrected messages as JSON lines instead (language, message, "
                   "sentiment, context), to add to an evaluation set.")
def classifier_evaluate(export):
    """Score the configured classifier on the messages agents corrected."""
    _require_plugin()
    rows = analysis.corrections()
    if export:
        for row in rows:
            click.echo(json.dumps(list(row), ensure_ascii=False))
        return
    score = analysis.evaluate(current_app.extensions["responso_chat"].classifier, rows)
    if not score["messages"]:
        click.echo("No corrected messages yet: agents correct a message's sentiment and "
                   "context on the ticket's page.")
        return
    click.echo(f"{score['messages']} corrected messages: sentiment right on "
               f"{score['sentiment']:.0%}, context right on {score['context']:.0%}.")
