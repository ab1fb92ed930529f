"""Tickets and their messages, with the teams, tags and watchers a ticket has."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column, relationship, selectinload

from responso_chat.models.base import (
    Base,
    UserId,
    UTCDateTime,
    metadata,
    one_of,
    seconds_between,
    utcnow,
)
from responso_chat.vocab import (
    AUTHOR_KINDS,
    FINISHED_STATUSES,
    MESSAGE_SOURCES,
    SENTIMENTS,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)


class Team(Base):
    """A group of agents a ticket can be assigned to."""

    __tablename__ = "responso_chat_team"
    id = mapped_column(sa.Integer, primary_key=True)
    name = mapped_column(sa.String(100), nullable=False, unique=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    member_rows = relationship("TeamMember", cascade="all, delete-orphan", passive_deletes=True)


class TeamMember(Base):
    """An agent's membership of a team."""

    __tablename__ = "responso_chat_team_member"
    team_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_team.id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id = mapped_column(UserId, primary_key=True, index=True)


class Tag(Base):
    """A label put on tickets."""

    __tablename__ = "responso_chat_tag"
    id = mapped_column(sa.Integer, primary_key=True)
    name = mapped_column(sa.String(50), nullable=False, unique=True)


ticket_tag = sa.Table(
    "responso_chat_ticket_tag",
    metadata,
    sa.Column(
        "ticket_id",
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "tag_id",
        sa.Integer,
        sa.ForeignKey("responso_chat_tag.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


#: What the reports read of a ticket besides its creation time (see ``reports.figures``).
REPORT_COLUMNS = (
    "id", "chat_id", "status", "assignee_id",
    "first_response_seconds", "resolution_seconds", "rating_score",
)


class Ticket(Base):
    """A conversation: a standard helpdesk ticket of the ``chat`` channel, or of the ``email``
    channel when an e-mail that matched no ticket opened it."""

    __tablename__ = "responso_chat_ticket"
    __table_args__ = (
        one_of("status", TICKET_STATUSES, "ck_responso_chat_ticket_status"),
        one_of("priority", TICKET_PRIORITIES, "ck_responso_chat_ticket_priority"),
        one_of("channel", TICKET_CHANNELS, "ck_responso_chat_ticket_channel"),
        one_of("last_sender", AUTHOR_KINDS, "ck_responso_chat_ticket_last_sender", nullable=True),
        one_of("sentiment", SENTIMENTS, "ck_responso_chat_ticket_sentiment", nullable=True),
        # Inbox views: newest activity first, keyset on (last_message_at, id).
        sa.Index("ix_responso_chat_ticket_activity", "last_message_at", "id"),
        sa.Index("ix_responso_chat_ticket_status_activity", "status", "last_message_at", "id"),
        sa.Index(
            "ix_responso_chat_ticket_assignee_activity",
            "assignee_id",
            "status",
            "last_message_at",
            "id",
        ),
        sa.Index("ix_responso_chat_ticket_chat_activity", "chat_id", "last_message_at", "id"),
        sa.Index("ix_responso_chat_ticket_email", "customer_email"),
        # Reports: the tickets created in a date range, with every column a report reads
        # (PostgreSQL reads them from the index alone).
        sa.Index(
            "ix_responso_chat_ticket_report",
            "created_at",
            postgresql_include=REPORT_COLUMNS,
        ),
    )

    id = mapped_column(sa.Integer, primary_key=True)
    channel = mapped_column(sa.String(20), nullable=False, default="chat")
    chat_id = mapped_column(
        sa.Integer, sa.ForeignKey("responso_chat_chat.id", ondelete="SET NULL"), nullable=True
    )
    # Kept when the chat is deleted, so the ticket still says where it came from.
    chat_name = mapped_column(sa.String(100), nullable=False)
    subject = mapped_column(sa.String(200), nullable=False)
    customer_name = mapped_column(sa.String(100), nullable=False)
    customer_email = mapped_column(sa.String(254), nullable=False)
    customer_email_verified = mapped_column(sa.Boolean, nullable=False, default=False)
    status = mapped_column(sa.String(10), nullable=False, default="open")
    priority = mapped_column(sa.String(10), nullable=False, default="normal")
    assignee_id = mapped_column(UserId, nullable=True)
    team_id = mapped_column(
        sa.Integer, sa.ForeignKey("responso_chat_team.id", ondelete="SET NULL"), nullable=True
    )
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    last_message_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_sender = mapped_column(sa.String(12), nullable=True)
    last_seq = mapped_column(sa.Integer, nullable=False, default=0)
    sentiment = mapped_column(sa.String(10), nullable=True)
    context = mapped_column(sa.String(20), nullable=True)
    disable_next_autoresponder = mapped_column(sa.Boolean, nullable=False, default=False)
    out_of_hours = mapped_column(sa.Boolean, nullable=False, default=False)
    #: When the ticket was last solved, closed or marked spam (None while it is not): a
    #: customer's message reopens it within RESPONSO_CHAT_REOPEN_WINDOW of this time.
    ended_at = mapped_column(UTCDateTime, nullable=True)
    #: When an agent first replied to the customer (None until one did): the reports' first
    #: response time.
    first_response_at = mapped_column(UTCDateTime, nullable=True)
    #: The reports' two times, in seconds from creation, kept by the database itself: the
    #: first response (None until it came) and the resolution (None unless solved or closed).
    #: A report reads them as they are, instead of working each out again.
    first_response_seconds = mapped_column(
        sa.Float,
        sa.Computed(
            seconds_between(sa.column("first_response_at"), sa.column("created_at")),
            persisted=True,
        ),
    )
    resolution_seconds = mapped_column(
        sa.Float,
        sa.Computed(sa.case(
            (sa.column("status").in_(FINISHED_STATUSES),
             seconds_between(sa.column("ended_at"), sa.column("created_at"))),
        ), persisted=True),
    )
    #: The score of the ticket's rating (None without one): a copy the database keeps from
    #: ``TicketRating.score`` (see ``models.reports``), for the reports. Never written here.
    rating_score = mapped_column(sa.SmallInteger, nullable=True)
    page_url = mapped_column(sa.String(2000), nullable=True)
    page_title = mapped_column(sa.String(300), nullable=True)
    language = mapped_column(sa.String(4), nullable=True)
    #: The last sequence number the customer was told about by e-mail (replies gathered up to
    #: there), so a message is never mailed twice.
    mail_seq = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    #: Written into every visitor token of the ticket; a token of another version no longer
    #: reaches it. Verifying the e-mail moves it on, so tokens issued before stop working.
    token_version = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")

    chat = relationship("Chat")
    team = relationship("Team")
    tags = relationship("Tag", secondary=ticket_tag, order_by="Tag.name")
    watcher_rows = relationship(
        "TicketWatcher", cascade="all, delete-orphan", passive_deletes=True
    )
    tasks = relationship("Task", back_populates="ticket")
    rating = relationship("TicketRating", uselist=False, passive_deletes=True)
    #: The Base orders attached to it (the customer's requests, the agents' links), in order.
    order_links = relationship("TicketOrder", order_by="TicketOrder.id", passive_deletes=True)

    @property
    def watcher_ids(self) -> list[str]:
        """Ids of the users notified of this ticket's new messages."""
        return sorted(row.user_id for row in self.watcher_rows)

    def __repr__(self):
        return f"<Ticket {self.id} {self.status}>"


def ticket_details() -> tuple:
    """Loader options for what a ticket's page, its API form and the changes made to it read
    beside its row: its chat, tags, watchers, rating and attached orders."""
    return (
        selectinload(Ticket.chat),
        selectinload(Ticket.rating),
        selectinload(Ticket.tags),
        selectinload(Ticket.watcher_rows),
        selectinload(Ticket.order_links),
    )


class TicketWatcher(Base):
    """A user who follows a ticket."""

    __tablename__ = "responso_chat_ticket_watcher"
    ticket_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id = mapped_column(UserId, primary_key=True, index=True)


class Message(Base):
    """One line of a conversation, numbered per ticket so clients resume by sequence."""

    __tablename__ = "responso_chat_message"
    __table_args__ = (
        one_of("author_kind", AUTHOR_KINDS, "ck_responso_chat_message_author_kind"),
        one_of("source", MESSAGE_SOURCES, "ck_responso_chat_message_source", nullable=True),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_responso_chat_message_seq"),
        sa.UniqueConstraint(
            "ticket_id", "client_key", name="uq_responso_chat_message_client_key"
        ),
    )

    id = mapped_column(sa.Integer, primary_key=True)
    ticket_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
        nullable=False,
    )
    seq = mapped_column(sa.Integer, nullable=False)
    author_kind = mapped_column(sa.String(12), nullable=False)
    author_id = mapped_column(UserId, nullable=True)
    author_name = mapped_column(sa.String(100), nullable=False, default="")
    body = mapped_column(sa.Text, nullable=False)
    internal = mapped_column(sa.Boolean, nullable=False, default=False)
    client_msg_id = mapped_column(sa.String(64), nullable=True)
    #: The idempotency key: the client message id scoped to its author, so one author's
    #: id can never reach another author's message (see messages.client_key).
    client_key = mapped_column(sa.String(200), nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    seen_at = mapped_column(UTCDateTime, nullable=True)
    sentiment = mapped_column(sa.String(10), nullable=True)
    context = mapped_column(sa.String(20), nullable=True)
    #: The agent who corrected the classifier's sentiment or context, and when (None while
    #: nobody did): corrected messages are the classifier's evaluation set from real use.
    analysis_corrected_by = mapped_column(UserId, nullable=True)
    analysis_corrected_at = mapped_column(UTCDateTime, nullable=True)
    # How many files it carries (responso_chat.files): a message without any costs no look-up.
    attachment_count = mapped_column(sa.SmallInteger, nullable=False, default=0)
    #: Where it came from (:data:`~responso_chat.vocab.MESSAGE_SOURCES`): None when typed in
    #: the widget, the inbox or the API.
    source = mapped_column(sa.String(10), nullable=True)

    ticket = relationship("Ticket")
