"""Chat channels: the widgets a shop embeds, and the agents who answer each one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column, relationship

from responso_chat.models.base import (
    Base,
    UserId,
    UTCDateTime,
    new_public_key,
    new_secret,
    one_of,
    utcnow,
)
from responso_chat.vocab import (
    AGENT_AVAILABILITY,
    AUTO_LANGUAGE,
    CHAT_ALIGNMENTS,
    CHAT_LANGUAGES,
    OUT_OF_HOURS_BEHAVIOURS,
    PATH_RULE_TYPES,
)


class Chat(Base):
    """A chat channel: one widget a shop embeds, with its look, rules and opening hours."""

    __tablename__ = "responso_chat_chat"
    __table_args__ = (
        one_of("alignment", CHAT_ALIGNMENTS, "ck_responso_chat_chat_alignment"),
        one_of("path_rule_type", PATH_RULE_TYPES, "ck_responso_chat_chat_path_rule"),
        one_of(
            "out_of_hours_behaviour", OUT_OF_HOURS_BEHAVIOURS, "ck_responso_chat_chat_out_of_hours"
        ),
        one_of("language", CHAT_LANGUAGES, "ck_responso_chat_chat_language"),
        sa.CheckConstraint(
            "vertical_spacing BETWEEN 0 AND 1000", name="ck_responso_chat_chat_spacing"
        ),
    )

    id = mapped_column(sa.Integer, primary_key=True)
    name = mapped_column(sa.String(100), nullable=False, unique=True)
    welcome_message = mapped_column(sa.String(500), nullable=False, default="")
    alignment = mapped_column(sa.String(10), nullable=False, default="right")
    vertical_spacing = mapped_column(sa.Integer, nullable=False, default=25)
    path_rule_type = mapped_column(sa.String(10), nullable=False, default="blacklist")
    paths = mapped_column(sa.JSON, nullable=False, default=list)
    # {"mon": [["09:00", "17:00"], ...], ...}: [] closed, [["00:00", "24:00"]] all day;
    # an interval whose end is before its start runs past midnight (22:00-02:00).
    opening_hours = mapped_column(sa.JSON, nullable=False, default=dict)
    timezone = mapped_column(sa.String(64), nullable=False, default="Europe/Warsaw")
    out_of_hours_behaviour = mapped_column(sa.String(20), nullable=False, default="show_message")
    out_of_hours_message = mapped_column(sa.String(500), nullable=False, default="")
    public_key = mapped_column(sa.String(32), nullable=False, unique=True, default=new_public_key)
    secret = mapped_column(sa.String(64), nullable=False, default=new_secret)
    enabled = mapped_column(sa.Boolean, nullable=False, default=True)
    language = mapped_column(sa.String(4), nullable=False, default=AUTO_LANGUAGE)
    color = mapped_column(sa.String(7), nullable=False, default="#2563eb")
    allowed_origins = mapped_column(sa.JSON, nullable=False, default=list)
    #: Behave as out of hours (the out-of-hours behaviour) while no agent with access to the
    #: chat is online, even within the opening hours.
    closed_without_agents = mapped_column(sa.Boolean, nullable=False, default=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    agent_rows = relationship("ChatAgent", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def agent_ids(self) -> list[str]:
        """Ids of the host users given access to this chat's tickets."""
        return sorted(row.user_id for row in self.agent_rows)

    def __repr__(self):
        return f"<Chat {self.id} {self.name!r}>"


class ChatAgent(Base):
    """An agent given access to a chat's tickets."""

    __tablename__ = "responso_chat_chat_agent"
    chat_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_chat.id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id = mapped_column(UserId, primary_key=True)


class RefusedOrigin(Base):
    """A website whose page asked for this chat's widget and was refused (not among its
    allowed websites): the admin sees the latest ones on the chat's page. At most
    :data:`responso_chat.conversation.origins.MAX_REFUSED_PER_CHAT` rows per chat."""

    __tablename__ = "responso_chat_refused_origin"
    chat_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_chat.id", ondelete="CASCADE"),
        primary_key=True,
    )
    origin = mapped_column(sa.String(300), primary_key=True)
    first_seen_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Refusals counted, at most one a minute (see origins.record_refused).
    times = mapped_column(sa.Integer, nullable=False, default=1)


class AgentAvailability(Base):
    """The availability an agent set in the inbox: online, away or offline. An agent with no
    row is online; online only counts while one of their inbox pages is open."""

    __tablename__ = "responso_chat_agent_availability"
    __table_args__ = (
        one_of("status", tuple(AGENT_AVAILABILITY), "ck_responso_chat_agent_availability_status"),
    )
    user_id = mapped_column(UserId, primary_key=True)
    status = mapped_column(sa.String(10), nullable=False, default="online")
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
