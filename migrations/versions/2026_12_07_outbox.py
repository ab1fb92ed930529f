"""transactional outbox, replacing the kept jobs

Background work is written to ``responso_chat_outbox`` in the transaction of the change that
needs it, and relayed to the job runner once committed; the table of the jobs kept while Redis
was away goes (its rows move to the outbox). A webhook delivery records its event's id, unique
per webhook, so an event's job run twice delivers once.

Revision ID: 6e2b8c4f0a37
Revises: 3c7a9e5d1f20
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '6e2b8c4f0a37'
down_revision = '3c7a9e5d1f20'
branch_labels = None
depends_on = None

OUTBOX = 'responso_chat_outbox'
KEPT = 'responso_chat_kept_job'
DELIVERY = 'responso_chat_webhook_delivery'


def upgrade():
    op.create_table(OUTBOX,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('available_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('claimed_until', responso_chat.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', responso_chat.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_responso_chat_outbox_due', OUTBOX, ['dispatched_at', 'available_at'],
                    unique=False)
    op.execute(
        f"INSERT INTO {OUTBOX} (job, args, created_at, available_at, attempts) "
        f"SELECT replace(func_path, 'responso_chat.jobs.', 'responso_chat.infra.jobs.'), "
        f"args, created_at, run_at, 0 FROM {KEPT} "
        f"WHERE func_path != 'responso_chat.jobs.queue_kept_jobs'"
    )
    op.drop_table(KEPT)
    with op.batch_alter_table(DELIVERY) as batch:
        batch.add_column(sa.Column('event_id', sa.String(length=32), nullable=True))
    op.create_index('ix_responso_chat_webhook_delivery_event', DELIVERY,
                    ['webhook_id', 'event_id'], unique=True)


def downgrade():
    op.drop_index('ix_responso_chat_webhook_delivery_event', table_name=DELIVERY)
    with op.batch_alter_table(DELIVERY) as batch:
        batch.drop_column('event_id')
    op.create_table(KEPT,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('func_path', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('run_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.drop_index('ix_responso_chat_outbox_due', table_name=OUTBOX)
    op.drop_table(OUTBOX)
