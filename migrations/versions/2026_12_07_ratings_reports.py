"""ratings of conversations, and what the reports need

The customer's rating of a ticket (one per ticket), the time of the first agent reply on each
ticket (backfilled from the messages: the first public agent message), and the index the
reports read tickets from (by creation time, with the columns they read: on PostgreSQL an
index-only scan).

Revision ID: 6e2a9c4f8b17
Revises: 8b1f4c7e2a95
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '6e2a9c4f8b17'
down_revision = '8b1f4c7e2a95'
branch_labels = None
depends_on = None

TICKET = 'responso_chat_ticket'


def upgrade():
    op.create_table(
        'responso_chat_ticket_rating',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.SmallInteger(), nullable=False),
        sa.Column('comment', sa.String(length=1000), nullable=False),
        sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('score BETWEEN 1 AND 5', name='ck_responso_chat_ticket_rating_score'),
        sa.ForeignKeyConstraint(['ticket_id'], ['responso_chat_ticket.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id'),
    )
    with op.batch_alter_table(TICKET) as batch:
        batch.add_column(sa.Column('first_response_at',
                                   responso_chat.models.UTCDateTime(timezone=True),
                                   nullable=True))
    op.create_index('ix_responso_chat_ticket_report', TICKET, ['created_at'],
                    postgresql_include=['id', 'chat_id', 'status', 'assignee_id', 'first_response_at',
                                        'ended_at'])
    ticket = sa.table(TICKET, sa.column('id'), sa.column('first_response_at'))
    message = sa.table('responso_chat_message', sa.column('ticket_id'), sa.column('created_at'),
                       sa.column('author_kind'), sa.column('internal'))
    first_reply = (
        sa.select(sa.func.min(message.c.created_at))
        .where(message.c.ticket_id == ticket.c.id, message.c.author_kind == 'agent',
               message.c.internal == sa.false())
        .scalar_subquery()
    )
    op.execute(ticket.update().values(first_response_at=first_reply))


def downgrade():
    op.drop_index('ix_responso_chat_ticket_report', table_name=TICKET)
    with op.batch_alter_table(TICKET) as batch:
        batch.drop_column('first_response_at')
    op.drop_table('responso_chat_ticket_rating')
