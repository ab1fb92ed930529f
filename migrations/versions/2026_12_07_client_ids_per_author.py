"""client message ids scoped to their author

A message's idempotency key was its client message id, unique per ticket across all authors:
a customer who sent the id of an agent's or an automation's message got that message back,
internal notes included. The key is now the id scoped to its author (``client_key``).

Revision ID: 3c7a9e5d1f20
Revises: 8d41f0a6b2e3
Create Date: 2026-12-07 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '3c7a9e5d1f20'
down_revision = '8d41f0a6b2e3'
branch_labels = None
depends_on = None

MESSAGE = 'responso_chat_message'


def upgrade():
    with op.batch_alter_table(MESSAGE) as batch:
        batch.add_column(sa.Column('client_key', sa.String(length=200), nullable=True))
    message = sa.table(MESSAGE, sa.column('client_key'), sa.column('author_kind'),
                       sa.column('author_id'), sa.column('client_msg_id'))
    op.execute(
        message.update()
        .where(message.c.client_msg_id.isnot(None))
        .values(client_key=message.c.author_kind + ':'
                + sa.func.coalesce(message.c.author_id, '') + ':' + message.c.client_msg_id)
    )
    with op.batch_alter_table(MESSAGE) as batch:
        batch.drop_constraint('uq_responso_chat_message_client_id', type_='unique')
        batch.create_unique_constraint('uq_responso_chat_message_client_key',
                                       ['ticket_id', 'client_key'])


def downgrade():
    with op.batch_alter_table(MESSAGE) as batch:
        batch.drop_constraint('uq_responso_chat_message_client_key', type_='unique')
    message = sa.table(MESSAGE, sa.column('id'), sa.column('ticket_id'),
                       sa.column('client_msg_id'))
    # Two authors may now share an id in one ticket: the older keeps it, as before.
    later = sa.alias(message, 'later')
    op.execute(
        message.update()
        .where(sa.exists().where(
            (later.c.ticket_id == message.c.ticket_id)
            & (later.c.client_msg_id == message.c.client_msg_id)
            & (later.c.id < message.c.id)))
        .values(client_msg_id=None)
    )
    with op.batch_alter_table(MESSAGE) as batch:
        batch.create_unique_constraint('uq_responso_chat_message_client_id',
                                       ['ticket_id', 'client_msg_id'])
        batch.drop_column('client_key')
