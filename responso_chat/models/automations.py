"""Automation rules, and the record of which rule acted on which message."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column, relationship

from responso_chat.models.base import Base, UTCDateTime, one_of, utcnow
from responso_chat.vocab import AUTOMATION_MATCH, AUTOMATION_TRIGGERS


class AutomationRule(Base):
    """When (trigger + conditions) and what (actions) an automation does to chat tickets."""

    __tablename__ = "responso_chat_automation_rule"
    __table_args__ = (
        one_of("trigger", AUTOMATION_TRIGGERS, "ck_responso_chat_rule_trigger"),
        one_of("match", AUTOMATION_MATCH, "ck_responso_chat_rule_match"),
    )
    id = mapped_column(sa.Integer, primary_key=True)
    name = mapped_column(sa.String(100), nullable=False)
    enabled = mapped_column(sa.Boolean, nullable=False, default=True)
    trigger = mapped_column(sa.String(20), nullable=False, default="new_ticket")
    trigger_minutes = mapped_column(sa.Integer, nullable=True)
    match = mapped_column(sa.String(3), nullable=False, default="all")
    conditions = mapped_column(sa.JSON, nullable=False, default=list)
    actions = mapped_column(sa.JSON, nullable=False, default=list)
    position = mapped_column(sa.Integer, nullable=False, default=0, index=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_run_at = mapped_column(UTCDateTime, nullable=True)


class AutomationRun(Base):
    """One rule acting on one message: unique, so a retried job never acts twice."""

    __tablename__ = "responso_chat_automation_run"
    __table_args__ = (
        sa.UniqueConstraint("rule_id", "message_id", name="uq_responso_chat_run_rule_message"),
        sa.Index("ix_responso_chat_run_ticket", "ticket_id", "created_at"),
    )
    id = mapped_column(sa.Integer, primary_key=True)
    rule_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_automation_rule.id", ondelete="CASCADE"),
        nullable=False,
    )
    ticket_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
        nullable=False,
    )
    message_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_message.id", ondelete="CASCADE"),
        nullable=False,
    )
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    outcome = mapped_column(sa.JSON, nullable=False, default=list)

    rule = relationship("AutomationRule")
