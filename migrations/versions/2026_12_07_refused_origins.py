"""websites a chat's widget refused

The latest websites that asked for a chat's widget without being among its allowed websites,
a few per chat, for the admin's "Allow this website".

Revision ID: 2f6b9d3a7c41
Revises: 9a4d2f7c1e58
Create Date: 2026-12-09 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '2f6b9d3a7c41'
down_revision = '9a4d2f7c1e58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'responso_chat_refused_origin',
        sa.Column('chat_id', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=300), nullable=False),
        sa.Column('first_seen_at', responso_chat.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('last_seen_at', responso_chat.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('times', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['chat_id'], ['responso_chat_chat.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('chat_id', 'origin'),
    )


def downgrade():
    op.drop_table('responso_chat_refused_origin')
