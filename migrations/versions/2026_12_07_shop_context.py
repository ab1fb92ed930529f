"""the shop's context of a chat and proactive greetings

A ticket's cart, visited pages and tracked events (one row per ticket), and the greetings a
chat's widget shows by itself, with their shown / opened / chat-started counts.

Revision ID: 8c3e5a1f7b92
Revises: 9a2c5e7f1b34
Create Date: 2026-12-07 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '8c3e5a1f7b92'
down_revision = '9a2c5e7f1b34'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'responso_chat_ticket_context',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('cart', sa.JSON(), nullable=True),
        sa.Column('trail', sa.JSON(), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('updated_at', responso_chat.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['responso_chat_ticket.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id'),
    )
    op.create_table(
        'responso_chat_proactive_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('path', sa.String(length=300), nullable=False),
        sa.Column('delay_seconds', sa.Integer(), nullable=False),
        sa.Column('min_cart_value', sa.Numeric(12, 2), nullable=True),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('sender_id', sa.String(length=64), nullable=False),
        sa.Column('shown_count', sa.Integer(), nullable=False),
        sa.Column('opened_count', sa.Integer(), nullable=False),
        sa.Column('started_count', sa.Integer(), nullable=False),
        sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.CheckConstraint('delay_seconds >= 0', name='ck_responso_chat_proactive_delay'),
        sa.ForeignKeyConstraint(['chat_id'], ['responso_chat_chat.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_responso_chat_proactive_message_chat_id',
                    'responso_chat_proactive_message', ['chat_id'])


def downgrade():
    op.drop_index('ix_responso_chat_proactive_message_chat_id',
                  table_name='responso_chat_proactive_message')
    op.drop_table('responso_chat_proactive_message')
    op.drop_table('responso_chat_ticket_context')
