"""agents' availability, and chats that close while no agent is online

Each agent's availability as set in the inbox (online, away, offline), and a chat setting to
behave as out of hours while no agent with access is online.

Revision ID: 4d8f2b6e9a13
Revises: 7c3e1a9b5d62
Create Date: 2026-12-09 14:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '4d8f2b6e9a13'
down_revision = '7c3e1a9b5d62'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'responso_chat_agent_availability',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('updated_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('online', 'away', 'offline')",
                           name='ck_responso_chat_agent_availability_status'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    with op.batch_alter_table('responso_chat_chat') as batch:
        batch.add_column(sa.Column('closed_without_agents', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('responso_chat_chat') as batch:
        batch.drop_column('closed_without_agents')
    op.drop_table('responso_chat_agent_availability')
