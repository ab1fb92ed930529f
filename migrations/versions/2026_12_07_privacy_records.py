"""the privacy log

Who exported or erased a contact's data and when, and how many closed tickets the retention
job deleted: counts only, never the data itself.

Revision ID: 8b1f4c7e2a95
Revises: 6e2b9d4a7c31
Create Date: 2026-12-07 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '8b1f4c7e2a95'
down_revision = '6e2b9d4a7c31'
branch_labels = None
depends_on = None

TABLE = 'responso_chat_privacy_record'


def upgrade():
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('actor_id', sa.String(length=64), nullable=True),
        sa.Column('actor_name', sa.String(length=100), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('export', 'erase', 'retention')",
                           name='ck_responso_chat_privacy_record_action'),
        sa.ForeignKeyConstraint(['contact_id'], ['responso_chat_contact.id'],
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_responso_chat_privacy_record_contact', TABLE,
                    ['contact_id', 'created_at'])
    op.create_index('ix_responso_chat_privacy_record_log', TABLE, ['action', 'created_at'])


def downgrade():
    op.drop_index('ix_responso_chat_privacy_record_log', table_name=TABLE)
    op.drop_index('ix_responso_chat_privacy_record_contact', table_name=TABLE)
    op.drop_table(TABLE)
