"""orders in the widget: orders attached to tickets, one-time codes, lookup by phone

``responso_chat_ticket_order`` attaches Base orders to tickets (a customer's request from the
widget's "My orders", or an agent's link); ``responso_chat_order_code`` keeps the hashed
one-time codes e-mailed to customers (mails of kind ``code``); cached orders get their phone
number's digits (``phone_digits``) and indexes to be found by phone and by the shop's number.

Revision ID: 8c3e5a1f7d42
Revises: 9a4c6e2f1b83
Create Date: 2026-12-07 21:00:00
"""

import re

import sqlalchemy as sa
from alembic import op

import responso_chat.models

revision = '8c3e5a1f7d42'
down_revision = '9a4c6e2f1b83'
branch_labels = None
depends_on = None

ORDER = 'responso_chat_order'
LINK = 'responso_chat_ticket_order'
CODE = 'responso_chat_order_code'
MAIL = 'responso_chat_mail'
MAIL_KIND = 'ck_responso_chat_mail_kind'
KINDS = "'new_ticket', 'unseen', 'transcript', 'notify', 'test', 'reply'"


def _digits(phone):
    """The phone's digits as ``orders.phones.normalize_phone`` gives them (kept here as it
    was when this migration was written)."""
    text = re.sub(r"[\s\-./()]+", "", (phone or "").strip())
    if text.startswith("+"):
        text = "00" + text[1:]
    if not text.isdigit() or not text.isascii():
        return ""
    if text.startswith("0048"):
        text = text[4:]
    if len(text) == 11 and text.startswith("48"):
        text = text[2:]
    return text if 6 <= len(text) <= 15 else ""


def upgrade():
    op.create_table(LINK,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('base_order_id', sa.BigInteger(), nullable=False),
    sa.Column('request', sa.String(length=10), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('linked_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("request IS NULL OR request IN ('ask', 'cancel', 'return')",
                       name='ck_responso_chat_ticket_order_request'),
    sa.ForeignKeyConstraint(['message_id'], ['responso_chat_message.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['responso_chat_ticket.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'base_order_id', name='uq_responso_chat_ticket_order')
    )
    op.create_index('ix_responso_chat_ticket_order_order', LINK, ['base_order_id'], unique=False)
    op.create_table(CODE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', responso_chat.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', responso_chat.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['chat_id'], ['responso_chat_chat.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_responso_chat_order_code_email', CODE, ['email', 'created_at'],
                    unique=False)
    with op.batch_alter_table(ORDER) as batch:
        batch.add_column(
            sa.Column('phone_digits', sa.String(40), nullable=False, server_default='')
        )
        batch.create_index('ix_responso_chat_order_phone', ['phone_digits'], unique=False)
        batch.create_index('ix_responso_chat_order_shop_number', ['shop_order_id'],
                           unique=False)
    orders = sa.table(ORDER, sa.column('id', sa.Integer), sa.column('phone', sa.String),
                      sa.column('phone_digits', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(orders.c.id, orders.c.phone)
                              .where(orders.c.phone != '')).all()
    for row in rows:
        connection.execute(orders.update().where(orders.c.id == row.id)
                           .values(phone_digits=_digits(row.phone)))
    with op.batch_alter_table(MAIL) as batch:
        batch.drop_constraint(MAIL_KIND, type_='check')
        batch.create_check_constraint(MAIL_KIND, f"kind IN ({KINDS}, 'code')")


def downgrade():
    op.execute(f"DELETE FROM {MAIL} WHERE kind = 'code'")
    with op.batch_alter_table(MAIL) as batch:
        batch.drop_constraint(MAIL_KIND, type_='check')
        batch.create_check_constraint(MAIL_KIND, f"kind IN ({KINDS})")
    with op.batch_alter_table(ORDER) as batch:
        batch.drop_index('ix_responso_chat_order_shop_number')
        batch.drop_index('ix_responso_chat_order_phone')
        batch.drop_column('phone_digits')
    op.drop_index('ix_responso_chat_order_code_email', table_name=CODE)
    op.drop_table(CODE)
    op.drop_index('ix_responso_chat_ticket_order_order', table_name=LINK)
    op.drop_table(LINK)
