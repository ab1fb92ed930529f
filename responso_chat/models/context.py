"""The shop's context of a chat (the customer's cart, the pages they saw, the events the shop
tracked) and the proactive greetings a chat's widget may show."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UserId, UTCDateTime, utcnow


class TicketContext(Base):
    """What the shop knows of a chat's customer, one row per ticket, replaced as it changes:
    the cart from the host's callable, the visit's trail and the events the shop tracked."""

    __tablename__ = "responso_chat_ticket_context"
    ticket_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
        primary_key=True,
    )
    #: {"items": [{"name", "quantity", "price"}], "total": str, "currency": str} or None
    cart = mapped_column(sa.JSON, nullable=True)
    #: [{"path", "title", "at"}], oldest first, at most 20
    trail = mapped_column(sa.JSON, nullable=False, default=list)
    #: [{"event", "data", "at"}], oldest first, at most 20
    events = mapped_column(sa.JSON, nullable=False, default=list)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class ProactiveMessage(Base):
    """A greeting the widget shows by itself when its triggers hold (every trigger set must
    hold: path, seconds on the page, cart value, a tracked event), with its counts."""

    __tablename__ = "responso_chat_proactive_message"
    __table_args__ = (
        sa.CheckConstraint("delay_seconds >= 0", name="ck_responso_chat_proactive_delay"),
    )

    id = mapped_column(sa.Integer, primary_key=True)
    chat_id = mapped_column(
        sa.Integer, sa.ForeignKey("responso_chat_chat.id", ondelete="CASCADE"), nullable=False,
        index=True,
    )
    enabled = mapped_column(sa.Boolean, nullable=False, default=True)
    #: A path rule as in the chat's path list (prefix and * wildcard); "" = any page
    path = mapped_column(sa.String(300), nullable=False, default="")
    delay_seconds = mapped_column(sa.Integer, nullable=False, default=0)
    min_cart_value = mapped_column(sa.Numeric(12, 2), nullable=True)
    event = mapped_column(sa.String(40), nullable=False, default="")
    text = mapped_column(sa.String(500), nullable=False)
    sender_id = mapped_column(UserId, nullable=False)
    shown_count = mapped_column(sa.Integer, nullable=False, default=0)
    opened_count = mapped_column(sa.Integer, nullable=False, default=0)
    started_count = mapped_column(sa.Integer, nullable=False, default=0)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
