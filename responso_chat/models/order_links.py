"""Orders attached to tickets, and the one-time codes that let a customer see their orders."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UTCDateTime, one_of, utcnow
from responso_chat.vocab import ORDER_REQUESTS


class TicketOrder(Base):
    """A Base order attached to a ticket: by the customer's request from "My orders" (with
    what they asked for and the message that asked), or linked by an agent."""

    __tablename__ = "responso_chat_ticket_order"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "base_order_id", name="uq_responso_chat_ticket_order"),
        sa.Index("ix_responso_chat_ticket_order_order", "base_order_id"),
        one_of("request", ORDER_REQUESTS, "ck_responso_chat_ticket_order_request", nullable=True),
    )
    id = mapped_column(sa.Integer, primary_key=True)
    ticket_id = mapped_column(
        sa.Integer, sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"), nullable=False
    )
    base_order_id = mapped_column(sa.BigInteger, nullable=False)
    #: What the customer asked for (ask, cancel, return); None for an agent's link.
    request = mapped_column(sa.String(10), nullable=True)
    #: The customer's message that asked (automations act on it).
    message_id = mapped_column(
        sa.Integer, sa.ForeignKey("responso_chat_message.id", ondelete="SET NULL"), nullable=True
    )
    #: The agent who linked it (host user id); None when the customer's request attached it.
    linked_by = mapped_column(sa.String(64), nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OrderCode(Base):
    """A one-time code e-mailed to an address typed in the widget: stored hashed, it expires,
    serves once and takes a few attempts only."""

    __tablename__ = "responso_chat_order_code"
    __table_args__ = (sa.Index("ix_responso_chat_order_code_email", "email", "created_at"),)
    id = mapped_column(sa.Integer, primary_key=True)
    chat_id = mapped_column(
        sa.Integer, sa.ForeignKey("responso_chat_chat.id", ondelete="CASCADE"), nullable=False
    )
    email = mapped_column(sa.String(254), nullable=False)  # lower-cased
    code_hash = mapped_column(sa.String(64), nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    attempts = mapped_column(sa.Integer, nullable=False, default=0)
    #: When it was used, or replaced by a newer code; None while it may still be used.
    used_at = mapped_column(UTCDateTime, nullable=True)
