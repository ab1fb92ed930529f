"""agents' corrections of a message's sentiment and context

Who corrected the classifier's verdict on a customer message, and when: corrected messages
are the classifier's evaluation set from real use.

Revision ID: 7c3e1a9b5d62
Revises: 2f6b9d3a7c41
Create Date: 2026-12-09 13:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '7c3e1a9b5d62'
down_revision = '2f6b9d3a7c41'
branch_labels = None
depends_on = None

MESSAGE = 'responso_chat_message'


def upgrade():
    with op.batch_alter_table(MESSAGE) as batch:
        batch.add_column(sa.Column('analysis_corrected_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('analysis_corrected_at',
                                   responso_chat.models.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table(MESSAGE) as batch:
        batch.drop_column('analysis_corrected_at')
        batch.drop_column('analysis_corrected_by')
