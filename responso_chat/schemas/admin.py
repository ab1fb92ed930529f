"""What admins' settings pages send: the Base integration and webhooks (the chat form and
automation rules have modules of their own)."""

from __future__ import annotations

from marshmallow import fields, post_load, pre_load, validate

from responso_chat.schemas.common import Trimmed, TrimmedForm
from responso_chat.vocab import WEBHOOK_EVENTS


class BaseSettingsSchema(TrimmedForm):
    """The "Integrations → Base" form: API URL and a new token (blank keeps the stored one)."""

    api_url = fields.Url(
        required=True,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=500),
        error_messages={
            "required": "Enter the API URL.",
            "invalid": "Enter a web address starting with https://.",
        },
    )
    api_token = fields.String(
        load_default="",
        validate=[
            validate.Length(max=200),
            validate.Regexp(
                r"^[\x21-\x7e]*$", error="An API token has no spaces or accented letters."
            ),
        ],
    )
    clear_token = fields.Boolean(load_default=False)


class WebhookSchema(Trimmed):
    """A webhook as the admin's form sends it: the URL, its events, enabled or not."""

    url = fields.Url(
        required=True,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=2000, error="Use at most 2000 characters."),
        error_messages={
            "required": "Enter the URL.",
            "invalid": "Enter a web address starting with https:// (or http://).",
        },
    )
    events = fields.List(
        fields.String(),
        required=True,
        validate=[
            validate.Length(min=1, error="Choose at least one event."),
            validate.ContainsOnly(WEBHOOK_EVENTS, error="Choose events from the list."),
        ],
        error_messages={"required": "Choose at least one event."},
    )
    enabled = fields.Boolean(load_default=True)

    @pre_load
    def _blank_url_is_missing(self, data, **_kwargs):
        if isinstance(data, dict) and data.get("url") == "":
            data = {k: v for k, v in data.items() if k != "url"}
        return data

    @post_load
    def _events_in_order(self, data, **_kwargs):
        data["events"] = [event for event in WEBHOOK_EVENTS if event in data["events"]]
        return data


def webhook_form_input(form) -> dict:
    """The webhook form (a MultiDict) as :class:`WebhookSchema` input, also what the form
    shows again after an error."""
    return {
        "url": form.get("url", ""),
        "events": form.getlist("events"),
        "enabled": "enabled" in form,
    }
