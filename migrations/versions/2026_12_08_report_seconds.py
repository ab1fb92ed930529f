"""the reports' times kept on the ticket

A ticket's first response time and resolution time, in seconds from its creation, become
columns the database computes itself (generated columns: stored on PostgreSQL, computed on
read on SQLite, which cannot add a stored one to an existing table). The reports read them
from their covering index instead of working each out again.

Revision ID: 3f6a8d2c9b71
Revises: 5d7b2e9c4a16
Create Date: 2026-12-08 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '3f6a8d2c9b71'
down_revision = '5d7b2e9c4a16'
branch_labels = None
depends_on = None

TICKET = 'responso_chat_ticket'
INDEX = 'ix_responso_chat_ticket_report'
BEFORE = ['id', 'chat_id', 'status', 'assignee_id', 'first_response_at', 'ended_at']
AFTER = ['id', 'chat_id', 'status', 'assignee_id', 'first_response_seconds',
         'resolution_seconds']


def _seconds(later, earlier, postgres):
    if postgres:
        return f"date_part('epoch', {later} - {earlier})"
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    first = _seconds('first_response_at', 'created_at', postgres)
    resolution = (f"CASE WHEN (status IN ('solved', 'closed')) "
                  f"THEN {_seconds('ended_at', 'created_at', postgres)} END")
    for name, expression in (('first_response_seconds', first),
                             ('resolution_seconds', resolution)):
        op.add_column(TICKET, sa.Column(
            name, sa.Float(), sa.Computed(sa.text(expression), persisted=postgres or None)
        ))
    op.drop_index(INDEX, table_name=TICKET)
    op.create_index(INDEX, TICKET, ['created_at'], postgresql_include=AFTER)


def downgrade():
    op.drop_index(INDEX, table_name=TICKET)
    op.create_index(INDEX, TICKET, ['created_at'], postgresql_include=BEFORE)
    for name in ('resolution_seconds', 'first_response_seconds'):  # SQLite: 3.35 and later
        op.execute(f'ALTER TABLE {TICKET} DROP COLUMN {name}')
