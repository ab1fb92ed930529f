"""trigram indexes for the inbox search (PostgreSQL with pg_trgm)

The inbox searches subjects, customer names, e-mails and message text for any substring
(``ILIKE '%...%'``); trigram GIN indexes let PostgreSQL find the few rows that hold a rare
string without reading every message. ``pg_trgm`` ships with PostgreSQL and is a trusted
extension (since PostgreSQL 13): a database owner may install it. Where it cannot be installed
the search still works, by reading the tables; a warning says so.

Revision ID: 5b0e2d7c9a14
Revises: c62069f67c2f
Create Date: 2026-11-25 07:00:00
"""

import logging

import sqlalchemy as sa
from alembic import op

from responso_chat.models import SEARCH_INDEXES

revision = '5b0e2d7c9a14'
down_revision = 'c62069f67c2f'
branch_labels = None
depends_on = None

log = logging.getLogger("responso_chat.migrations")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        log.warning("inbox search indexes skipped: pg_trgm cannot be installed (%s)",
                    exc.orig)
        return
    for name, (table, columns) in SEARCH_INDEXES.items():
        op.create_index(
            name, table, list(columns), postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops" for column in columns},
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, _columns) in SEARCH_INDEXES.items():
        op.drop_index(name, table_name=table, if_exists=True)
