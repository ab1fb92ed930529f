"""jobs kept in the database while Redis is unreachable

A job enqueued while Redis is away (stopped, restarting, unreachable) is written to this
table instead of being lost; a periodic job puts the kept jobs on the queue once Redis is back.

Revision ID: 8d41f0a6b2e3
Revises: 5b0e2d7c9a14
Create Date: 2026-12-06 05:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '8d41f0a6b2e3'
down_revision = '5b0e2d7c9a14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('responso_chat_kept_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('func_path', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('run_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('responso_chat_kept_job')
