"""The customer's rating of a conversation: one per ticket, given when the chat ended."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UTCDateTime, utcnow
from responso_chat.vocab import RATING_COMMENT_MAX


class TicketRating(Base):
    """How the customer rated a ticket's conversation (1 to 5) and their optional comment.

    ``created_at`` is when it was first given: the customer may change it until
    ``RESPONSO_CHAT_RATING_CHANGE_WINDOW`` after that, then it is read-only."""

    __tablename__ = "responso_chat_ticket_rating"
    __table_args__ = (
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_responso_chat_ticket_rating_score"),
    )

    ticket_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
        primary_key=True,
    )
    score = mapped_column(sa.SmallInteger, nullable=False)
    comment = mapped_column(sa.String(RATING_COMMENT_MAX), nullable=False, default="")
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
