"""The transactional outbox's rows (see :mod:`responso_chat.infra.outbox`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UTCDateTime, utcnow


class OutboxEntry(Base):
    """A background job written in the transaction of the change that needs it; the relay
    hands it to RQ (or the in-process runner) once committed."""

    __tablename__ = "responso_chat_outbox"
    __table_args__ = (sa.Index("ix_responso_chat_outbox_due", "dispatched_at", "available_at"),)
    id = mapped_column(sa.Integer, primary_key=True)
    job = mapped_column(sa.String(200), nullable=False)  # the job's dotted path
    args = mapped_column(sa.JSON, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    available_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)  # due from
    attempts = mapped_column(sa.Integer, nullable=False, default=0)  # claims so far
    claimed_by = mapped_column(sa.String(32), nullable=True)  # the relay run holding it
    claimed_until = mapped_column(UTCDateTime, nullable=True)  # ... until then
    dispatched_at = mapped_column(UTCDateTime, nullable=True)  # RQ accepted it (or it ran)
