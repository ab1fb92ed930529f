"""What the "Integrations → E-mail" page sends: the SMTP and IMAP settings, and the address
of a test e-mail."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from responso_chat.schemas.common import TrimmedForm
from responso_chat.vocab import MAIL_SECURITY

_HOST = validate.Regexp(
    r"^[A-Za-z0-9.-]{1,253}$|^\[?[0-9A-Fa-f:.]+\]?$",
    error="Enter a server name such as smtp.example.com, without http:// or a port.",
)
_PORT = {
    "validate": validate.Range(1, 65535, error="Enter a port between 1 and 65535."),
    "error_messages": {"invalid": "Enter a port number, such as 587."},
}
_SECURITY = validate.OneOf(MAIL_SECURITY, error="Choose a protection from the list.")
_EMAIL = {"error_messages": {"invalid": "Enter an e-mail address such as support@shop.example."}}
_SECRET = validate.Length(max=500, error="Use at most 500 characters.")


class MailSettingsSchema(TrimmedForm):
    """The settings form: a blank password keeps the stored one; blank servers turn sending
    or polling off."""

    smtp_host = fields.String(load_default="", validate=_HOST)
    smtp_port = fields.Integer(load_default=587, **_PORT)
    smtp_security = fields.String(load_default="starttls", validate=_SECURITY)
    smtp_user = fields.String(load_default="", validate=validate.Length(max=254))
    smtp_password = fields.String(load_default="", validate=_SECRET)
    clear_smtp_password = fields.Boolean(load_default=False)
    from_address = fields.Email(load_default="", validate=validate.Length(max=254), **_EMAIL)
    from_name = fields.String(load_default="", validate=validate.Length(max=100))
    shop_url = fields.Url(
        load_default="", require_tld=False, schemes={"http", "https"},
        validate=validate.Length(max=500),
        error_messages={"invalid": "Enter the shop's address, starting with https://."},
    )
    imap_host = fields.String(load_default="", validate=_HOST)
    imap_port = fields.Integer(load_default=993, **_PORT)
    imap_security = fields.String(load_default="tls", validate=_SECURITY)
    imap_user = fields.String(load_default="", validate=validate.Length(max=254))
    imap_password = fields.String(load_default="", validate=_SECRET)
    clear_imap_password = fields.Boolean(load_default=False)
    imap_folder = fields.String(load_default="INBOX", validate=validate.Length(min=1, max=200))
    test_to = fields.Email(load_default="", **_EMAIL)

    @validates_schema(skip_on_field_errors=False)
    def _complete(self, data, **_kwargs):
        if data.get("smtp_host") and not data.get("from_address"):
            raise ValidationError("Enter the address e-mails come from.", "from_address")
        if data.get("imap_host") and not data.get("imap_user"):
            raise ValidationError("Enter the mailbox's user name.", "imap_user")


#: The form's fields an admin types (what the page shows again after an error).
FORM_FIELDS = (
    "smtp_host", "smtp_port", "smtp_security", "smtp_user", "from_address", "from_name",
    "shop_url", "imap_host", "imap_port", "imap_security", "imap_user", "imap_folder", "test_to",
)
