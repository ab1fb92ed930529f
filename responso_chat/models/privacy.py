"""The privacy log: who exported or erased a contact's data, and what retention deleted."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UserId, UTCDateTime, one_of, utcnow

#: What a privacy record says happened: a contact's data exported or erased, or closed
#: tickets deleted by the retention job.
PRIVACY_ACTIONS = ("export", "erase", "retention")


class PrivacyRecord(Base):
    """One export, erasure or retention run: who (an admin, or None for the retention job),
    which contact, when and how many rows of each kind. It never holds what was exported or
    erased (no name, no address, no text), so it may outlive the data it speaks of."""

    __tablename__ = "responso_chat_privacy_record"
    __table_args__ = (
        one_of("action", PRIVACY_ACTIONS, "ck_responso_chat_privacy_record_action"),
        sa.Index("ix_responso_chat_privacy_record_contact", "contact_id", "created_at"),
        sa.Index("ix_responso_chat_privacy_record_log", "action", "created_at"),
    )

    id = mapped_column(sa.Integer, primary_key=True)
    action = mapped_column(sa.String(10), nullable=False)
    contact_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_contact.id", ondelete="SET NULL"),
        nullable=True,
    )
    actor_id = mapped_column(UserId, nullable=True)
    actor_name = mapped_column(sa.String(100), nullable=False, default="")
    #: Rows concerned, by kind: ``{"tickets": 2, "messages": 14, "orders": 1, ...}``.
    counts = mapped_column(sa.JSON, nullable=False, default=dict)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
