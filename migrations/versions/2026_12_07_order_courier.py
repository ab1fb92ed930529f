"""an order's courier code

Base names the courier of an order's parcel in ``delivery_package_module``; with the tracking
number it gives the carrier's tracking link (``responso_chat.orders.tracking``). Cached orders
get it at their next refresh.

Revision ID: 6e2b9d4a7c31
Revises: 4d8f2b6e9a13
Create Date: 2026-12-07 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '6e2b9d4a7c31'
down_revision = '4d8f2b6e9a13'
branch_labels = None
depends_on = None

ORDER = 'responso_chat_order'


def upgrade():
    with op.batch_alter_table(ORDER) as batch:
        batch.add_column(
            sa.Column('delivery_package_module', sa.String(50), nullable=False,
                      server_default='')
        )


def downgrade():
    with op.batch_alter_table(ORDER) as batch:
        batch.drop_column('delivery_package_module')
