"""the reports' counts and ratings kept by the database

Conversations per UTC quarter hour and chat (``responso_chat_report_count``) and a copy of
each ticket's rating score on the ticket (``rating_score``), both kept by triggers; the
tickets and ratings already there are counted and copied once. The reports' covering index
gains the score.

Revision ID: 7c2e5b9d4a13
Revises: 3f6a8d2c9b71
Create Date: 2026-12-08 03:00:00
"""

import sqlalchemy as sa
from alembic import op

from responso_chat.models.reports import drop_statements, fill_statements, trigger_statements

revision = '7c2e5b9d4a13'
down_revision = '3f6a8d2c9b71'
branch_labels = None
depends_on = None

TICKET = 'responso_chat_ticket'
COUNT = 'responso_chat_report_count'
INDEX = 'ix_responso_chat_ticket_report'
BEFORE = ['id', 'chat_id', 'status', 'assignee_id', 'first_response_seconds',
          'resolution_seconds']
AFTER = [*BEFORE, 'rating_score']


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        COUNT,
        sa.Column('quarter', sa.Integer(), nullable=False),
        sa.Column('chat_key', sa.Integer(), nullable=False),
        sa.Column('conversations', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('quarter', 'chat_key'),
    )
    op.add_column(TICKET, sa.Column('rating_score', sa.SmallInteger(), nullable=True))
    op.drop_index(INDEX, table_name=TICKET)
    op.create_index(INDEX, TICKET, ['created_at'], postgresql_include=AFTER)
    for statement in fill_statements(dialect) + trigger_statements(dialect):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(dialect):
        op.execute(statement)
    op.drop_index(INDEX, table_name=TICKET)
    op.create_index(INDEX, TICKET, ['created_at'], postgresql_include=BEFORE)
    op.drop_table(COUNT)
    op.execute(f'ALTER TABLE {TICKET} DROP COLUMN rating_score')  # SQLite 3.35 and later
