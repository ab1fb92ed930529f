"""Admin pages of outgoing webhooks: register URLs for ticket events, see each one's
delivery log, rotate its signing secret. Admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from responso_chat.integrations import webhooks
from responso_chat.schemas.admin import WebhookSchema, webhook_form_input
from responso_chat.users import admin_required
from responso_chat.vocab import WEBHOOK_EVENT_LABELS

bp = Blueprint("webhooks", __name__)


@bp.before_request
@admin_required
def _admins_only():
    """Every webhook page needs an admin; anonymous users go to the host's login."""


def _webhook_or_404(webhook_id: int):
    return webhooks.get_webhook(webhook_id) or abort(404)


def _form(values: dict, errors: dict, webhook=None, status: int = 200):
    return (
        render_template(
            "responso_chat/webhooks/webhook_form.html",
            webhook=webhook,
            values=values,
            errors=errors,
            events=WEBHOOK_EVENT_LABELS,
            deliveries=webhooks.recent_deliveries(webhook) if webhook else [],
            delivery_state=webhooks.delivery_state,
            max_attempts=webhooks.max_attempts(),
        ),
        status,
    )


@bp.get("/")
def webhook_list():
    """Every webhook with its events and the outcome of its latest delivery."""
    rows = [
        (webhook, next(iter(webhooks.recent_deliveries(webhook, 1)), None))
        for webhook in webhooks.list_webhooks()
    ]
    return render_template(
        "responso_chat/webhooks/webhook_list.html",
        rows=rows,
        events=WEBHOOK_EVENT_LABELS,
        delivery_state=webhooks.delivery_state,
    )


@bp.route("/new", methods=["GET", "POST"])
def webhook_create():
    """Register a webhook: its URL and the events it receives."""
    if request.method == "GET":
        return _form({"url": "", "events": list(WEBHOOK_EVENT_LABELS), "enabled": True}, {})
    values = webhook_form_input(request.form)
    try:
        webhook = webhooks.create_webhook(WebhookSchema().load(values))
    except ValidationError as exc:
        return _form(values, exc.messages, status=422)
    flash("Webhook added. Its signing secret is below.", "success")
    return redirect(url_for(".webhook_edit", webhook_id=webhook.id), 303)


@bp.route("/<int:webhook_id>", methods=["GET", "POST"])
def webhook_edit(webhook_id: int):
    """A webhook's settings, signing secret and delivery log."""
    webhook = _webhook_or_404(webhook_id)
    if request.method == "GET":
        values = {"url": webhook.url, "events": webhook.events, "enabled": webhook.enabled}
        return _form(values, {}, webhook)
    values = webhook_form_input(request.form)
    try:
        webhooks.update_webhook(webhook, WebhookSchema().load(values))
    except ValidationError as exc:
        return _form(values, exc.messages, webhook, 422)
    flash("Webhook saved.", "success")
    return redirect(url_for(".webhook_edit", webhook_id=webhook.id), 303)


@bp.post("/<int:webhook_id>/secret")
def webhook_secret(webhook_id: int):
    """Give the webhook a new signing secret."""
    webhooks.rotate_secret(_webhook_or_404(webhook_id))
    flash("New signing secret made: update the receiving side.", "success")
    return redirect(url_for(".webhook_edit", webhook_id=webhook_id), 303)


@bp.post("/<int:webhook_id>/delete")
def webhook_delete(webhook_id: int):
    """Delete the webhook and its delivery log."""
    webhooks.delete_webhook(_webhook_or_404(webhook_id))
    flash("Webhook deleted.", "success")
    return redirect(url_for(".webhook_list"), 303)
