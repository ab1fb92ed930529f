"""when a ticket ended

A customer's message reopens a solved or closed ticket within RESPONSO_CHAT_REOPEN_WINDOW of
the time it ended, kept in ``ended_at``. Tickets that had already ended take their last
change's time.

Revision ID: 9a4d2f7c1e58
Revises: 5b8e1f3a9c62
Create Date: 2026-12-09 11:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '9a4d2f7c1e58'
down_revision = '5b8e1f3a9c62'
branch_labels = None
depends_on = None

TICKET = 'responso_chat_ticket'


def upgrade():
    with op.batch_alter_table(TICKET) as batch:
        batch.add_column(
            sa.Column('ended_at', responso_chat.models.UTCDateTime(timezone=True), nullable=True)
        )
    ticket = sa.table(TICKET, sa.column('ended_at'), sa.column('updated_at'),
                      sa.column('status'))
    op.execute(
        ticket.update()
        .where(ticket.c.status.in_(('solved', 'closed', 'spam')))
        .values(ended_at=ticket.c.updated_at)
    )


def downgrade():
    with op.batch_alter_table(TICKET) as batch:
        batch.drop_column('ended_at')
