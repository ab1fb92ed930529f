"""attachments of messages

Files carried by messages: their cleaned name, the type detected from their content, size,
image dimensions, and the keys of their bytes (and thumbnail) in the storage backend.

Revision ID: 9a2c5e7f1b34
Revises: 8c3e5a1f7d42
Create Date: 2026-12-07 20:15:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '9a2c5e7f1b34'
down_revision = '8c3e5a1f7d42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'responso_chat_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('uploader_kind', sa.String(length=12), nullable=False),
        sa.Column('uploader_id', sa.String(length=64), nullable=True),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('thumbnail_key', sa.String(length=200), nullable=True),
        sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "uploader_kind IN ('customer', 'agent', 'system', 'automation')",
            name='ck_responso_chat_attachment_uploader_kind',
        ),
        sa.ForeignKeyConstraint(['message_id'], ['responso_chat_message.id'],
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['responso_chat_ticket.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('storage_key'),
    )
    op.create_index('ix_responso_chat_attachment_message_id', 'responso_chat_attachment',
                    ['message_id'])
    op.create_index('ix_responso_chat_attachment_ticket_id', 'responso_chat_attachment',
                    ['ticket_id'])
    with op.batch_alter_table('responso_chat_message') as batch:
        batch.add_column(sa.Column('attachment_count', sa.SmallInteger(), server_default='0',
                                   nullable=False))


def downgrade():
    with op.batch_alter_table('responso_chat_message') as batch:
        batch.drop_column('attachment_count')
    op.drop_index('ix_responso_chat_attachment_ticket_id', table_name='responso_chat_attachment')
    op.drop_index('ix_responso_chat_attachment_message_id',
                  table_name='responso_chat_attachment')
    op.drop_table('responso_chat_attachment')
