"""Canned responses: texts agents insert in their replies by typing ``/`` and a shortcut."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UserId, UTCDateTime, utcnow


class CannedResponse(Base):
    """A reply template: shared with the team (``owner_id`` NULL, admins manage it) or one
    agent's own. Its shortcut is unique among the shared ones, and among each agent's own."""

    __tablename__ = "responso_chat_canned_response"
    __table_args__ = (
        sa.Index(
            "uq_responso_chat_canned_response_shared",
            "shortcut",
            unique=True,
            sqlite_where=sa.text("owner_id IS NULL"),
            postgresql_where=sa.text("owner_id IS NULL"),
        ),
        sa.Index(
            "uq_responso_chat_canned_response_personal",
            "owner_id",
            "shortcut",
            unique=True,
            sqlite_where=sa.text("owner_id IS NOT NULL"),
            postgresql_where=sa.text("owner_id IS NOT NULL"),
        ),
    )
    id = mapped_column(sa.Integer, primary_key=True)
    title = mapped_column(sa.String(100), nullable=False)
    shortcut = mapped_column(sa.String(40), nullable=False)
    body = mapped_column(sa.Text, nullable=False)
    owner_id = mapped_column(UserId, nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def shared(self) -> bool:
        """Whether the whole team uses it (else it is its owner's own)."""
        return self.owner_id is None
