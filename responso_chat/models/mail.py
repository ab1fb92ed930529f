"""E-mails the plugin sent or received, one row each: threading, deduplication and the log."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UTCDateTime, one_of, utcnow
from responso_chat.vocab import MAIL_KINDS, MAIL_STATES


class MailRecord(Base):
    """One e-mail: sent to a customer or an agent (with its attempts and last error), or
    received and matched to a ticket. Its ``Message-ID`` is unique: a mail fetched twice is
    stored once, and a reply's ``In-Reply-To`` finds the ticket of the mail it answers."""

    __tablename__ = "responso_chat_mail"
    __table_args__ = (
        one_of("kind", MAIL_KINDS, "ck_responso_chat_mail_kind"),
        one_of("state", MAIL_STATES, "ck_responso_chat_mail_state"),
        sa.Index("ix_responso_chat_mail_message_id", "message_id", unique=True),
        sa.Index("ix_responso_chat_mail_ticket", "ticket_id", "created_at"),
        sa.Index("ix_responso_chat_mail_log", "created_at"),
    )

    id = mapped_column(sa.Integer, primary_key=True)
    ticket_id = mapped_column(
        sa.Integer, sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"), nullable=True
    )
    kind = mapped_column(sa.String(12), nullable=False)
    state = mapped_column(sa.String(10), nullable=False, default="queued")
    message_id = mapped_column(sa.String(255), nullable=False)
    #: The address it went to, or came from.
    address = mapped_column(sa.String(254), nullable=False, default="")
    subject = mapped_column(sa.String(300), nullable=False, default="")
    #: Sent mails: the last sequence number of the ticket's messages they carry.
    up_to_seq = mapped_column(sa.Integer, nullable=True)
    #: A sent mail as it goes over SMTP (tried again from this after a failure).
    raw = mapped_column(sa.Text, nullable=False, default="")
    attempts = mapped_column(sa.Integer, nullable=False, default=0)
    error = mapped_column(sa.Text, nullable=False, default="")
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    done_at = mapped_column(UTCDateTime, nullable=True)
