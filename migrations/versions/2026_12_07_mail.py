"""e-mail continuity: the mail log, the e-mail channel and the mailed sequence number

``responso_chat_mail`` keeps every e-mail sent or received (unique ``Message-ID``); a ticket
may now be of the ``email`` channel, and remembers up to which message its customer was told
by e-mail (``mail_seq``).

Revision ID: 9a4d2e7b1c58
Revises: 6e2b8c4f0a37
Create Date: 2026-12-08 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '9a4d2e7b1c58'
down_revision = '6e2b8c4f0a37'
branch_labels = None
depends_on = None

MAIL = 'responso_chat_mail'
TICKET = 'responso_chat_ticket'
CHANNEL = 'ck_responso_chat_ticket_channel'


def upgrade():
    op.create_table(MAIL,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('up_to_seq', sa.Integer(), nullable=True),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', responso_chat.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('new_ticket', 'unseen', 'transcript', 'notify', 'test', "
                       "'reply')", name='ck_responso_chat_mail_kind'),
    sa.CheckConstraint("state IN ('queued', 'sent', 'failed', 'received', 'ignored')",
                       name='ck_responso_chat_mail_state'),
    sa.ForeignKeyConstraint(['ticket_id'], ['responso_chat_ticket.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_responso_chat_mail_message_id', MAIL, ['message_id'], unique=True)
    op.create_index('ix_responso_chat_mail_ticket', MAIL, ['ticket_id', 'created_at'],
                    unique=False)
    op.create_index('ix_responso_chat_mail_log', MAIL, ['created_at'], unique=False)
    with op.batch_alter_table(TICKET) as batch:
        batch.add_column(sa.Column('mail_seq', sa.Integer(), server_default='0', nullable=False))
        batch.drop_constraint(CHANNEL, type_='check')
        batch.create_check_constraint(CHANNEL, "channel IN ('chat', 'email')")


def downgrade():
    op.execute(f"DELETE FROM {TICKET} WHERE channel = 'email'")
    with op.batch_alter_table(TICKET) as batch:
        batch.drop_constraint(CHANNEL, type_='check')
        batch.create_check_constraint(CHANNEL, "channel = 'chat'")
        batch.drop_column('mail_seq')
    op.drop_index('ix_responso_chat_mail_log', table_name=MAIL)
    op.drop_index('ix_responso_chat_mail_ticket', table_name=MAIL)
    op.drop_index('ix_responso_chat_mail_message_id', table_name=MAIL)
    op.drop_table(MAIL)
