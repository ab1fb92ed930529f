"""messages that came by e-mail

A customer's message read from the shop's mailbox says so (``by_email``): the agent sees that
the customer answered from their mailbox, not in the widget.

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
        batch.add_column(sa.Column('by_email', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))


def downgrade():
    with op.batch_alter_table('responso_chat_message') as batch:
        batch.drop_column('by_email')
