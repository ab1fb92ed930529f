"""visitor tokens carry their ticket's token version

A ticket's ``token_version`` is written into every visitor token issued for it; a token of
another version no longer reaches the ticket. Opening an e-mail's link verifies the ticket's
address and moves the version on, so a token handed out before (to whoever typed that address
into the pre-chat form) stops working.

Revision ID: 5b8e1f3a9c62
Revises: 9a4d2e7b1c58
Create Date: 2026-12-09 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '5b8e1f3a9c62'
down_revision = '9a4d2e7b1c58'
branch_labels = None
depends_on = None

TICKET = 'responso_chat_ticket'


def upgrade():
    with op.batch_alter_table(TICKET) as batch:
        batch.add_column(
            sa.Column('token_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table(TICKET) as batch:
        batch.drop_column('token_version')
