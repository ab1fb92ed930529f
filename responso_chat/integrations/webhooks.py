"""Outgoing webhooks: admins register URLs that receive the tickets' events as signed JSON.

Events (:data:`responso_chat.vocab.WEBHOOK_EVENTS`) come from the tickets' event jobs
(:mod:`.events`), written to the outbox with their change. For each enabled webhook subscribed
to the event a :class:`WebhookDelivery` row is written (the delivery log, holding the payload),
with the outbox row of a background job (:func:`deliver`) that POSTs it::

    POST <url>
    Content-Type: application/json
    X-Responso-Event: ticket.created
    X-Responso-Delivery: 42
    X-Responso-Signature: sha256=<HMAC-SHA256 of the raw body with the webhook's secret, hex>

    {"event": "ticket.created", "event_id": "...", "created_at": "...", "data": {...}}

A 2xx answer delivers it. Anything else (another status, a timeout, a refused connection) is
recorded on the delivery and tried again later, after :data:`RETRY_DELAYS`; after the last
attempt the delivery stays failed in the log. Redirects are not followed. ``event_id`` is the
event's own: a receiver may use it to drop an event it already has.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import uuid
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from responso_chat.files import attachments
from responso_chat.infra import outbox
from responso_chat.models import (
    Message,
    Ticket,
    Webhook,
    WebhookDelivery,
    new_secret,
    ticket_details,
    utcnow,
)
from responso_chat.schemas.api_output import ApiMessageSchema, ApiTicketSchema
from responso_chat.state import plugin_state
from responso_chat.version import __version__

log = logging.getLogger(__name__)

#: Seconds before each new attempt of a failed delivery (so 1 + len() attempts in all).
RETRY_DELAYS = (10, 60, 300, 1800, 7200)
TIMEOUT = 10
#: How many deliveries each webhook's log keeps (older ones are deleted).
LOG_KEPT = 200
DELIVER = "responso_chat.integrations.webhooks.deliver"


def max_attempts() -> int:
    """How many times a delivery is tried before it is left failed."""
    return len(RETRY_DELAYS) + 1


def sign(secret: str, body: bytes) -> str:
    """The ``X-Responso-Signature`` of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- the admin pages' services -----------------------------------------------------------------


def list_webhooks() -> list:
    """Every webhook, oldest first."""
    state = plugin_state()
    return list(state.db.session.scalars(sa.select(Webhook).order_by(Webhook.id)))


def get_webhook(webhook_id: int):
    """The webhook ``webhook_id``, or None."""
    state = plugin_state()
    return state.db.session.get(Webhook, webhook_id)


def refused_address(url: str) -> str | None:
    """The loopback, private, link-local, reserved or multicast address ``url``'s host resolves
    to, if any (None when it resolves only to public ones, or not at all).

    Webhooks go to the public internet only, so a request the shop sends never reaches its own
    database, cache or cloud metadata service; ``WEBHOOK_PRIVATE_NETWORKS`` allows a receiver
    on the shop's own network.
    """
    if plugin_state().setting("WEBHOOK_PRIVATE_NETWORKS"):
        return None
    try:
        infos = socket.getaddrinfo(urlsplit(url).hostname, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            return str(address)
    return None


def _check_address(values: dict) -> dict:
    address = refused_address(values.get("url", ""))
    if address is not None:
        raise ValidationError(
            {"url": [f"This address leads to {address}, a private network: use a public URL."]}
        )
    return values


def create_webhook(values: dict):
    """Register a webhook from :class:`WebhookSchema` values; it gets a new secret.

    Raises ``ValidationError`` when the URL leads to a private network."""
    state = plugin_state()
    webhook = Webhook(**_check_address(values))
    state.db.session.add(webhook)
    state.db.session.commit()
    return webhook


def update_webhook(webhook, values: dict) -> None:
    """Change a webhook's URL, events and enabled flag (``ValidationError`` as on create)."""
    for name, value in _check_address(values).items():
        setattr(webhook, name, value)
    plugin_state().db.session.commit()


def rotate_secret(webhook) -> None:
    """Give the webhook a new signing secret (the old one stops being used at once)."""
    webhook.secret = new_secret()
    plugin_state().db.session.commit()


def delete_webhook(webhook) -> None:
    """Delete a webhook and its delivery log (payloads included, on every database)."""
    state = plugin_state()
    session = state.db.session
    session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    session.delete(webhook)
    session.commit()


def recent_deliveries(webhook, limit: int = 50) -> list:
    """The webhook's latest deliveries, newest first."""
    state = plugin_state()
    query = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(state.db.session.scalars(query))


def delivery_state(delivery) -> str:
    """``delivered``, ``failed`` (no attempt left) or ``pending`` (waiting for an attempt)."""
    if delivery.delivered_at is not None:
        return "delivered"
    return "failed" if delivery.attempt >= max_attempts() else "pending"


# --- events ------------------------------------------------------------------------------------


def _subscribers(event: str) -> list:
    state = plugin_state()
    enabled = state.db.session.scalars(sa.select(Webhook).where(Webhook.enabled.is_(True)))
    return [webhook for webhook in enabled if event in (webhook.events or [])]


def _prune(webhook_id: int) -> None:
    """Keep the :data:`LOG_KEPT` latest deliveries of a webhook."""
    state = plugin_state()
    oldest_kept = state.db.session.scalar(
        sa.select(WebhookDelivery.id)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .offset(LOG_KEPT - 1)
        .limit(1)
    )
    if oldest_kept is not None:
        state.db.session.execute(
            sa.delete(WebhookDelivery).where(
                WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.id < oldest_kept
            )
        )


def emit(event: str, data, event_id: str | None = None) -> list[int]:
    """Queue ``event`` for every enabled webhook subscribed to it; returns the new deliveries'
    ids.

    ``data`` is the event's ``data`` object, or a callable making it (only called when some
    webhook listens). Emitting an ``event_id`` again adds no delivery to a webhook that has
    one for it (a job run twice delivers once).
    """
    webhooks = _subscribers(event)
    if not webhooks:
        return []
    state = plugin_state()
    session = state.db.session
    event_id = event_id or uuid.uuid4().hex
    done = set(
        session.scalars(
            sa.select(WebhookDelivery.webhook_id).where(WebhookDelivery.event_id == event_id)
        )
    )
    webhooks = [webhook for webhook in webhooks if webhook.id not in done]
    if not webhooks:
        return []
    payload = {
        "event": event,
        "event_id": event_id,
        "created_at": utcnow().isoformat(),
        "data": data() if callable(data) else data,
    }
    deliveries = [
        WebhookDelivery(webhook_id=webhook.id, event=event, event_id=event_id, payload=payload)
        for webhook in webhooks
    ]
    try:
        session.add_all(deliveries)
        session.flush()
    except IntegrityError:  # another run of the same event's job wrote them meanwhile
        session.rollback()
        return []
    for webhook in webhooks:
        _prune(webhook.id)
    for delivery in deliveries:
        outbox.add(DELIVER, delivery.id)
    ids = [delivery.id for delivery in deliveries]
    session.commit()
    return ids


def deliver(delivery_id: int) -> None:
    """Background job: POST one delivery, record the outcome, schedule a retry on failure."""
    state = plugin_state()
    session = state.db.session
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.delivered_at is not None:
        return  # deleted with its webhook, or delivered by an earlier run
    webhook = session.get(Webhook, delivery.webhook_id)
    if not webhook.enabled:
        delivery.error = "Not sent: the webhook is disabled."
        session.commit()
        return
    address = refused_address(webhook.url)  # again: a name may resolve elsewhere by now
    if address is not None:
        delivery.error = f"Not sent: the URL leads to {address}, a private network."
        session.commit()
        return
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Responso-Chat-Webhook/{__version__}",
        "X-Responso-Event": delivery.event,
        "X-Responso-Delivery": str(delivery.id),
        "X-Responso-Signature": sign(webhook.secret, body),
    }
    delivery.attempt += 1
    try:
        response = requests.post(
            webhook.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        delivery.status_code, delivery.error = None, _short(exc)
    else:
        response.close()
        delivery.status_code = response.status_code
        ok = 200 <= response.status_code < 300
        delivery.error = "" if ok else f"The URL answered {response.status_code}."
        if ok:
            delivery.delivered_at = utcnow()
    if delivery.delivered_at is None and delivery.attempt < max_attempts():
        outbox.add(DELIVER, delivery.id, delay=RETRY_DELAYS[delivery.attempt - 1])
    session.commit()


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:499] + "…"


# --- event data --------------------------------------------------------------------------------


def event_data(ticket_id: int, message_id: int | None = None, **extra):
    """A callable building an event's ``data``: the ticket (and message) as the API shows
    them, and ``extra``."""

    def build() -> dict:
        state = plugin_state()
        session = state.db.session
        ticket = session.get(Ticket, ticket_id, options=ticket_details())
        data = {"ticket": ApiTicketSchema().dump(ticket)}
        if message_id is not None:
            message = session.get(Message, message_id)
            if message is not None:
                attachments.describe_messages([message], absolute=True)
            data["message"] = ApiMessageSchema().dump(message)
        return {**data, **extra}

    return build
