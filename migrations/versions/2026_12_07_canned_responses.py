"""canned responses

Reply templates agents insert with ``/`` and a shortcut: shared ones (no owner) and each
agent's own, the shortcut unique within each.

Revision ID: 9a4c6e2f1b83
Revises: 6e2a9c4f8b17
Create Date: 2026-12-07 20:30:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '9a4c6e2f1b83'
down_revision = '6e2a9c4f8b17'
branch_labels = None
depends_on = None

TABLE = 'responso_chat_canned_response'


def upgrade():
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('shortcut', sa.String(length=40), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('owner_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'uq_responso_chat_canned_response_shared', TABLE, ['shortcut'], unique=True,
        sqlite_where=sa.text('owner_id IS NULL'), postgresql_where=sa.text('owner_id IS NULL'),
    )
    op.create_index(
        'uq_responso_chat_canned_response_personal', TABLE, ['owner_id', 'shortcut'],
        unique=True, sqlite_where=sa.text('owner_id IS NOT NULL'),
        postgresql_where=sa.text('owner_id IS NOT NULL'),
    )


def downgrade():
    op.drop_index('uq_responso_chat_canned_response_personal', table_name=TABLE)
    op.drop_index('uq_responso_chat_canned_response_shared', table_name=TABLE)
    op.drop_table(TABLE)
