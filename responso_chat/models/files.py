"""Attachments: files carried by messages, their bytes in a storage backend."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UserId, UTCDateTime, one_of, utcnow
from responso_chat.vocab import AUTHOR_KINDS


class Attachment(Base):
    """A file of a message: what it is (typed from its content), where its bytes are
    (``storage_key``, and ``thumbnail_key`` for images) and who sent it."""

    __tablename__ = "responso_chat_attachment"
    __table_args__ = (
        one_of("uploader_kind", AUTHOR_KINDS, "ck_responso_chat_attachment_uploader_kind"),
    )

    id = mapped_column(sa.Integer, primary_key=True)
    ticket_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    message_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_message.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    uploader_kind = mapped_column(sa.String(12), nullable=False)
    uploader_id = mapped_column(UserId, nullable=True)
    #: The client's file name, cleaned (no folders or control characters, the extension of
    #: the detected type).
    name = mapped_column(sa.String(255), nullable=False)
    #: Detected from the content, never taken from the client.
    content_type = mapped_column(sa.String(100), nullable=False)
    size = mapped_column(sa.Integer, nullable=False)
    width = mapped_column(sa.Integer, nullable=True)
    height = mapped_column(sa.Integer, nullable=True)
    storage_key = mapped_column(sa.String(200), nullable=False, unique=True)
    thumbnail_key = mapped_column(sa.String(200), nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return f"<Attachment {self.id} {self.content_type}>"
