"""What connects the plugin to other systems: run-time settings, API tokens and webhooks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UserId, UTCDateTime, new_secret, utcnow


class Setting(Base):
    """A plugin setting an admin changes at run time (e.g. the Base API token)."""

    __tablename__ = "responso_chat_setting"
    key = mapped_column(sa.String(64), primary_key=True)
    value = mapped_column(sa.Text, nullable=False, default="")
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class ApiToken(Base):
    """An agent's token for the JSON API; only its SHA-256 is stored (shown once)."""

    __tablename__ = "responso_chat_api_token"
    id = mapped_column(sa.Integer, primary_key=True)
    user_id = mapped_column(UserId, nullable=False, index=True)
    name = mapped_column(sa.String(100), nullable=False)
    token_hash = mapped_column(sa.String(64), nullable=False, unique=True)
    last_four = mapped_column(sa.String(4), nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at = mapped_column(UTCDateTime, nullable=True)
    revoked_at = mapped_column(UTCDateTime, nullable=True)


class Webhook(Base):
    """A URL an admin registered to receive signed JSON events."""

    __tablename__ = "responso_chat_webhook"
    id = mapped_column(sa.Integer, primary_key=True)
    url = mapped_column(sa.String(2000), nullable=False)
    events = mapped_column(sa.JSON, nullable=False, default=list)
    secret = mapped_column(sa.String(64), nullable=False, default=new_secret)
    enabled = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WebhookDelivery(Base):
    """One event sent (or being retried) to a webhook: the delivery log's row."""

    __tablename__ = "responso_chat_webhook_delivery"
    __table_args__ = (
        sa.Index("ix_responso_chat_webhook_delivery_log", "webhook_id", "created_at"),
        sa.Index("ix_responso_chat_webhook_delivery_event", "webhook_id", "event_id", unique=True),
    )
    id = mapped_column(sa.Integer, primary_key=True)
    webhook_id = mapped_column(
        sa.Integer,
        sa.ForeignKey("responso_chat_webhook.id", ondelete="CASCADE"),
        nullable=False,
    )
    event = mapped_column(sa.String(40), nullable=False)
    #: The event's id (its payload's ``event_id``): one delivery per webhook and event, however
    #: many times the event's job runs.
    event_id = mapped_column(sa.String(32), nullable=True)
    payload = mapped_column(sa.JSON, nullable=False)
    status_code = mapped_column(sa.Integer, nullable=True)
    error = mapped_column(sa.Text, nullable=False, default="")
    attempt = mapped_column(sa.Integer, nullable=False, default=0)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    delivered_at = mapped_column(UTCDateTime, nullable=True)

