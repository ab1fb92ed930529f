"""where a message came from

A customer's message read from the shop's mailbox says so (``source`` "email"), and so does the
proactive greeting a chat began with ("greeting"); NULL for messages typed in the widget, the
inbox or the API.

Revision ID: 5d7b2e9c4a16
Revises: 8c3e5a1f7b92
Create Date: 2026-12-07 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '5d7b2e9c4a16'
down_revision = '8c3e5a1f7b92'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responso_chat_message') as batch:
        batch.add_column(sa.Column('source', sa.String(length=10), nullable=True))
        batch.create_check_constraint(
            'ck_responso_chat_message_source',
            "source IS NULL OR source IN ('email', 'greeting')",
        )


def downgrade():
    with op.batch_alter_table('responso_chat_message') as batch:
        batch.drop_constraint('ck_responso_chat_message_source', type_='check')
        batch.drop_column('source')
