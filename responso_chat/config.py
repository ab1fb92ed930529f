"""Defaults for every ``RESPONSO_CHAT_*`` setting, and the check that runs at start-up.

Each entry of :data:`SETTINGS` is ``name -> (default, one-line description)``. The README's
settings table and ``plugin.toml`` list the same names; a test keeps the three in step.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from responso_chat.vocab import AUTO_LANGUAGE, CHAT_LANGUAGES, MAIL_SECURITY

PREFIX = "RESPONSO_CHAT_"

SETTINGS: dict[str, tuple[object, str]] = {
    "URL_PREFIX": ("/chat", "URL prefix under which every page, endpoint and websocket lives."),
    "REDIS_URL": (
        "",
        "Redis URL for the realtime broker and RQ; empty = embedded in-process broker and jobs.",
    ),
    "QUEUE_NAME": ("responso_chat", "RQ queue the plugin's jobs are enqueued to."),
    "BASE_API_URL": (
        "https://api.baselinker.com/connector.php",
        "Base API endpoint (the admin page can override it per shop).",
    ),
    "BASE_API_TOKEN": ("", "Base API token used until an admin stores one on the Base page."),
    "BASE_TIMEOUT": (10.0, "Seconds before a Base API call times out."),
    "BASE_MAX_BLOCKED_WAIT": (
        60.0,
        "Longest wait, in seconds, for a Base token blocked by the rate limit before giving up.",
    ),
    "ORDER_SYNC_INTERVAL": (600, "Seconds between order refreshes for open tickets."),
    "WEBHOOK_PRIVATE_NETWORKS": (
        False,
        "Allow webhooks to loopback, private and link-local addresses (a receiver on the "
        "shop's own network); off, they only go to public addresses.",
    ),
    "OUTBOX_RELAY_INTERVAL": (
        10,
        "Seconds between two periodic runs of the outbox relay: it queues the jobs a process "
        "left behind (stopped after its commit, Redis away) and the delayed jobs now due.",
    ),
    "CLASSIFIER": (
        "responso_chat.conversation.classify:KeywordClassifier",
        "Import string of the sentiment and context classifier.",
    ),
    "IS_ADMIN": (
        "responso_chat.users:attribute_is_admin",
        "Import string of a callable(user) -> bool: may the user administer chats.",
    ),
    "IS_AGENT": (
        "responso_chat.users:attribute_is_agent",
        "Import string of a callable(user) -> bool: may the user answer chats.",
    ),
    "LIST_AGENTS": (
        "responso_chat.users:agents_from_user_model",
        "Import string of a callable() -> list of (id, name, e-mail) of every agent and admin.",
    ),
    "USER_MODEL": (
        "",
        "Import string of the host's user model, read by the default LIST_AGENTS; empty = the "
        "one model of the host's db with get_id and is_agent or is_admin.",
    ),
    "AGENTS_CACHE_SECONDS": (
        30,
        "Seconds the list of agents stays cached per app; 0 = read it on every use (the host "
        "may forget it sooner with responso_chat.users.forget_agents()).",
    ),
    "LOAD_USER": (
        "responso_chat.users:user_from_login_manager",
        "Import string of a callable(user_id) -> user or None: the host user an API token "
        "acts for.",
    ),
    "DEFAULT_TIMEZONE": (
        "Europe/Warsaw",
        "The shop's IANA timezone: preselected for a new chat; the reports of all chats use it.",
    ),
    "CART": (
        "",
        "Import string of a callable() -> the signed-in customer's cart for the current request "
        "(a dict: items of name, quantity, price; total; currency) or None; the agent sees it "
        "beside the chat. Called only for the shop's own pages (same-origin requests carry the "
        "host's session); empty = no cart.",
    ),
    "CART_TIMEOUT": (
        0.5,
        "Seconds the cart callable may take; a slower or failing one is skipped (the chat goes "
        "on without the cart).",
    ),
    "PROACTIVE_PER_DAY": (
        1,
        "Most proactive greetings the widget shows one visitor in a day; 0 = none at all.",
    ),
    "DEFAULT_LANGUAGE": (
        AUTO_LANGUAGE,
        f"Widget language preselected for a new chat: {', '.join(CHAT_LANGUAGES)}.",
    ),
    "VISITOR_TOKEN_MAX_AGE": (30 * 24 * 3600, "Seconds a customer's visitor token stays valid."),
    "START_CHAT_RATE_LIMIT": ("10 per minute", "Rate limit of 'Start chat' per client address."),
    "SEND_RATE_LIMIT": ("60 per minute", "Rate limit of customer messages per client address."),
    "PUBLIC_RATE_LIMIT": (
        "300 per minute",
        "Rate limit of other public widget endpoints per client address.",
    ),
    "TRUSTED_PROXIES": (
        0,
        "How many reverse proxies in front of the app to believe: the client address of rate "
        "limits and socket caps is that many entries from the right of X-Forwarded-For; 0 = "
        "the connection's own address.",
    ),
    "WS_MAX_FRAME_SIZE": (
        65536,
        "Largest websocket frame a client may send, in bytes; a larger one closes the socket "
        "(close code 1009).",
    ),
    "WS_MAX_SOCKETS_PER_VISITOR": (
        10,
        "Most customer sockets open at once for one conversation (visitor token); one more is "
        "closed (4429).",
    ),
    "WS_MAX_SOCKETS_PER_ADDRESS": (
        100,
        "Most customer sockets open at once from one client address; one more is closed "
        "(4429).",
    ),
    "WS_IDLE_TIMEOUT": (
        120,
        "Seconds a socket may stay without a frame from its client (the widget and the inbox "
        "answer every ping) before it is closed (4408).",
    ),
    "WS_FRAME_RATE_LIMIT": (
        "60 per second; 600 per minute",
        "Rate limit of the frames of one socket, every type counted (send, typing, seen, page, "
        "...); over it the socket is closed (4429).",
    ),
    "WS_ACCESS_CHECK_INTERVAL": (
        30,
        "Seconds between two checks that an open socket still has its rights (an agent still "
        "an agent, signed in, with access to each ticket; a customer's chat still enabled); "
        "sign-outs and changes of a chat's agents are checked at once.",
    ),
    "MAX_MESSAGE_LENGTH": (5000, "Longest message body, in characters."),
    "AUTORESPONDER_LIMIT": (3, "Most auto-responses one ticket may receive in an hour."),
    "SMTP_HOST": (
        "",
        "SMTP server of outgoing e-mail; empty = no e-mail is sent (the admin page "
        "Integrations → E-mail can set it instead).",
    ),
    "SMTP_PORT": (587, "Port of the SMTP server."),
    "SMTP_SECURITY": ("starttls", "Protection of the SMTP connection: starttls, tls or none."),
    "SMTP_USER": ("", "User name for the SMTP server; empty = no login."),
    "SMTP_PASSWORD": ("", "Password for the SMTP server (the admin page can store one)."),
    "SMTP_TIMEOUT": (20.0, "Seconds before an SMTP or IMAP connection attempt gives up."),
    "MAIL_FROM_ADDRESS": (
        "",
        "Address e-mails come from, e.g. support@shop.example; replies go to it with a signed "
        "+tag naming the ticket, so the mailbox must accept plus-addressing.",
    ),
    "MAIL_FROM_NAME": ("Customer service", "Name e-mails come from."),
    "MAIL_SHOP_URL": (
        "",
        "Public address of the shop, e.g. https://shop.example/: the signed link of an e-mail "
        "leads there and reopens the chat (on the page the customer chatted from when it is "
        "on that site); empty = e-mails carry no link.",
    ),
    "MAIL_UNSEEN_MINUTES": (
        5,
        "Minutes after which agent replies and auto-responses the customer has not seen in "
        "the widget are sent by e-mail, gathered into one e-mail per ticket.",
    ),
    "MAIL_TRANSCRIPT": (False, "Send the customer a transcript when a chat is closed."),
    "MAIL_NOTIFY_AGENTS": (
        False,
        "E-mail the assignee and watchers about a new customer message while they do not have "
        "the ticket open.",
    ),
    "MAIL_SEND_RETRIES": (
        5,
        "How many times an e-mail the SMTP server refused or could not take is tried again "
        "(after 1, 5, 15, 60 and 240 minutes) before it is marked failed.",
    ),
    "MAIL_MAX_SIZE": (
        10 * 1024 * 1024,
        "Largest incoming e-mail, in bytes; a larger one is not read (a system line on its "
        "ticket says so).",
    ),
    "IMAP_HOST": ("", "IMAP server of incoming e-mail; empty = no mailbox is polled."),
    "IMAP_PORT": (993, "Port of the IMAP server."),
    "IMAP_SECURITY": ("tls", "Protection of the IMAP connection: tls, starttls or none."),
    "IMAP_USER": ("", "User name of the IMAP mailbox."),
    "IMAP_PASSWORD": ("", "Password of the IMAP mailbox (the admin page can store one)."),
    "IMAP_FOLDER": ("INBOX", "Folder of the mailbox that customers' replies arrive in."),
    "IMAP_POLL_INTERVAL": (60, "Seconds between two polls of the IMAP mailbox."),
    "REOPEN_WINDOW": (
        7 * 24 * 3600,
        "Seconds after a ticket is solved or closed during which a customer's new message "
        "reopens it; later (and always for spam) the widget offers a new chat instead; 0 = "
        "never.",
    ),
    "RETENTION_DAYS": (
        0,
        "Days after which closed and spam tickets are deleted (counted from when they ended), "
        "with their messages, mails and files, by a periodic job; 0 = keep them forever.",
    ),
    "RETENTION_INTERVAL": (3600, "Seconds between two runs of the retention job."),
    "RETENTION_BATCH": (
        500,
        "Most tickets one run of the retention job deletes (in one transaction); the rest go "
        "with the next runs.",
    ),
    "RATING_CHANGE_WINDOW": (
        24 * 3600,
        "Seconds after a customer first rates a conversation during which they may change the "
        "rating; then it is read-only.",
    ),
    "ORDER_CODE_MAX_AGE": (
        600,
        "Seconds a one-time code e-mailed to a customer for \"My orders\" in the widget stays "
        "valid.",
    ),
    "ORDER_CODE_ATTEMPTS": (
        5,
        "Wrong entries a one-time code takes before it stops working (the customer asks for a "
        "new one).",
    ),
    "ORDER_CODE_RATE_LIMIT": (
        "3 per 10 minutes; 10 per day",
        "Rate limit of one-time codes sent to one e-mail address.",
    ),
    "ORDER_CODE_IP_RATE_LIMIT": (
        "10 per 10 minutes; 50 per day",
        "Rate limit of one-time codes asked for and codes entered, per client address.",
    ),
    "ORDER_ACCESS_MAX_AGE": (
        3600,
        "Seconds a customer's verified access to \"My orders\" in the widget lasts before they "
        "verify again.",
    ),
    "FILES_STORAGE": (
        "local",
        "Where attachments are stored: local (a folder, FILES_FOLDER) or s3 (an S3-compatible "
        "object storage, the FILES_S3_* settings).",
    ),
    "FILES_FOLDER": (
        "",
        "Folder of the local storage; empty = responso_chat_files in the app's instance folder.",
    ),
    "FILES_S3_ENDPOINT_URL": (
        "",
        "Endpoint of the S3-compatible storage, e.g. https://s3.eu-central-1.amazonaws.com or "
        "a MinIO address; empty = Amazon S3's own for the region.",
    ),
    "FILES_S3_BUCKET": ("", "Bucket the attachments go to (it must exist)."),
    "FILES_S3_REGION": ("us-east-1", "Region of the bucket."),
    "FILES_S3_ACCESS_KEY": (
        "",
        "Access key id of the storage; empty = boto3's own lookup (environment, instance role).",
    ),
    "FILES_S3_SECRET_KEY": ("", "Secret access key that goes with FILES_S3_ACCESS_KEY."),
    "FILES_MAX_SIZE": (10 * 1024 * 1024, "Largest attachment, in bytes."),
    "FILES_PER_MESSAGE": (5, "Most attachments one message may carry."),
    "FILES_ALLOWED_TYPES": (
        "image/jpeg,image/png,image/gif,image/webp,application/pdf",
        "Comma-separated content types accepted, as detected from the file's content (never "
        "its name); HTML, SVG, scripts and executables can never be allowed.",
    ),
    "FILES_MAX_PIXELS": (
        40_000_000,
        "Largest image accepted, in pixels (width x height x frames): a larger one, such as a "
        "decompression bomb, is refused before it is decoded.",
    ),
    "FILES_URL_MAX_AGE": (
        86400,
        "Seconds a signed file URL shown in the widget, the inbox, the API or a webhook stays "
        "valid (links in e-mails: VISITOR_TOKEN_MAX_AGE).",
    ),
    "FILES_UPLOAD_RATE_LIMIT": (
        "20 per minute",
        "Rate limit of the customer's uploads per client address.",
    ),
}


def apply_defaults(config) -> None:
    """Set every ``RESPONSO_CHAT_*`` default the host has not set itself."""
    for name, (default, _description) in SETTINGS.items():
        config.setdefault(PREFIX + name, default)


class _SettingsSchema(Schema):
    """The checks a configuration must pass before the plugin starts."""

    URL_PREFIX = fields.String(
        required=True,
        validate=validate.Regexp(r"^(/[A-Za-z0-9._~-]+)+$", error="must look like /chat"),
    )
    REDIS_URL = fields.String(required=True)
    QUEUE_NAME = fields.String(required=True, validate=validate.Length(min=1))
    BASE_API_URL = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    BASE_API_TOKEN = fields.String(required=True)
    BASE_TIMEOUT = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    BASE_MAX_BLOCKED_WAIT = fields.Float(required=True, validate=validate.Range(min=0))
    ORDER_SYNC_INTERVAL = fields.Integer(required=True, validate=validate.Range(min=60))
    WEBHOOK_PRIVATE_NETWORKS = fields.Boolean(required=True, truthy={True}, falsy={False})
    OUTBOX_RELAY_INTERVAL = fields.Integer(required=True, validate=validate.Range(min=1))
    AGENTS_CACHE_SECONDS = fields.Float(required=True, validate=validate.Range(min=0))
    CART = fields.String(required=True)
    CART_TIMEOUT = fields.Float(
        required=True, validate=validate.Range(min=0, max=10, min_inclusive=False)
    )
    PROACTIVE_PER_DAY = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100))
    DEFAULT_TIMEZONE = fields.String(required=True)
    DEFAULT_LANGUAGE = fields.String(required=True, validate=validate.OneOf(CHAT_LANGUAGES))
    VISITOR_TOKEN_MAX_AGE = fields.Integer(required=True, validate=validate.Range(min=60))
    TRUSTED_PROXIES = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10))
    WS_MAX_FRAME_SIZE = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1024, max=16 * 1024 * 1024)
    )
    WS_MAX_SOCKETS_PER_VISITOR = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1)
    )
    WS_MAX_SOCKETS_PER_ADDRESS = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1)
    )
    WS_IDLE_TIMEOUT = fields.Float(required=True, validate=validate.Range(min=1))
    WS_ACCESS_CHECK_INTERVAL = fields.Float(required=True, validate=validate.Range(min=1))
    MAX_MESSAGE_LENGTH = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    AUTORESPONDER_LIMIT = fields.Integer(required=True, validate=validate.Range(min=0))
    SMTP_HOST = fields.String(required=True)
    SMTP_PORT = fields.Integer(required=True, strict=True, validate=validate.Range(1, 65535))
    SMTP_SECURITY = fields.String(required=True, validate=validate.OneOf(MAIL_SECURITY))
    SMTP_USER = fields.String(required=True)
    SMTP_PASSWORD = fields.String(required=True)
    SMTP_TIMEOUT = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    MAIL_FROM_ADDRESS = fields.String(required=True)
    MAIL_FROM_NAME = fields.String(required=True)
    MAIL_SHOP_URL = fields.String(required=True)
    MAIL_UNSEEN_MINUTES = fields.Float(required=True, validate=validate.Range(min=0))
    MAIL_TRANSCRIPT = fields.Boolean(required=True, truthy={True}, falsy={False})
    MAIL_NOTIFY_AGENTS = fields.Boolean(required=True, truthy={True}, falsy={False})
    MAIL_SEND_RETRIES = fields.Integer(required=True, strict=True, validate=validate.Range(0, 5))
    MAIL_MAX_SIZE = fields.Integer(required=True, strict=True, validate=validate.Range(min=1024))
    IMAP_HOST = fields.String(required=True)
    IMAP_PORT = fields.Integer(required=True, strict=True, validate=validate.Range(1, 65535))
    IMAP_SECURITY = fields.String(required=True, validate=validate.OneOf(MAIL_SECURITY))
    IMAP_USER = fields.String(required=True)
    IMAP_PASSWORD = fields.String(required=True)
    IMAP_FOLDER = fields.String(required=True, validate=validate.Length(min=1, max=200))
    IMAP_POLL_INTERVAL = fields.Integer(required=True, validate=validate.Range(min=5))
    REOPEN_WINDOW = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    RETENTION_DAYS = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    RETENTION_INTERVAL = fields.Integer(required=True, strict=True, validate=validate.Range(min=60))
    RETENTION_BATCH = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=5000)
    )
    RATING_CHANGE_WINDOW = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0)
    )
    ORDER_CODE_MAX_AGE = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=60, max=86400)
    )
    ORDER_CODE_ATTEMPTS = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=20)
    )
    ORDER_CODE_RATE_LIMIT = fields.String(required=True)
    ORDER_CODE_IP_RATE_LIMIT = fields.String(required=True)
    ORDER_ACCESS_MAX_AGE = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=60)
    )
    FILES_STORAGE = fields.String(required=True, validate=validate.OneOf(("local", "s3")))
    FILES_FOLDER = fields.String(required=True)
    FILES_S3_ENDPOINT_URL = fields.String(required=True)
    FILES_S3_BUCKET = fields.String(required=True)
    FILES_S3_REGION = fields.String(required=True)
    FILES_S3_ACCESS_KEY = fields.String(required=True)
    FILES_S3_SECRET_KEY = fields.String(required=True)
    FILES_MAX_SIZE = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1024, max=1024**3)
    )
    FILES_PER_MESSAGE = fields.Integer(required=True, strict=True, validate=validate.Range(1, 20))
    FILES_ALLOWED_TYPES = fields.String(required=True)
    FILES_MAX_PIXELS = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=10_000, max=178_000_000)
    )
    FILES_URL_MAX_AGE = fields.Integer(required=True, strict=True, validate=validate.Range(min=60))

    @validates("REDIS_URL")
    def _redis_url(self, value, **_kwargs):
        if not value:
            return
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
            raise ValidationError("must be empty or a redis://host:port/db URL")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ValidationError(f"malformed port: {exc}") from None

    @validates("FILES_ALLOWED_TYPES")
    def _file_types(self, value, **_kwargs):
        from responso_chat.files.types import unknown_types

        wrong = unknown_types(value)
        if wrong:
            raise ValidationError(
                f"cannot accept {', '.join(wrong)}: give detectable types such as "
                "application/pdf; images are image/jpeg, image/png, image/gif and image/webp "
                "only (their metadata is removed)"
            )

    @validates_schema
    def _s3_needs_a_bucket(self, data, **_kwargs):
        if data.get("FILES_STORAGE") == "s3" and not data.get("FILES_S3_BUCKET"):
            raise ValidationError("s3 storage needs a bucket", "FILES_S3_BUCKET")

    @validates("DEFAULT_TIMEZONE")
    def _timezone(self, value, **_kwargs):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError("is not an IANA timezone name such as Europe/Warsaw") from None


class ConfigurationError(RuntimeError):
    """A ``RESPONSO_CHAT_*`` setting is missing or wrong; the message names it."""


def check(config) -> None:
    """Validate the plugin's settings in ``config``; raise ConfigurationError naming the setting."""
    schema = _SettingsSchema()
    data = {name: config[PREFIX + name] for name in schema.fields}
    errors = schema.validate(data)
    if errors:
        lines = [f"{PREFIX}{name}: {' '.join(msgs)}" for name, msgs in sorted(errors.items())]
        raise ConfigurationError("Invalid Responso Chat configuration:\n  " + "\n  ".join(lines))
    for name in ("START_CHAT_RATE_LIMIT", "SEND_RATE_LIMIT", "PUBLIC_RATE_LIMIT",
                 "WS_FRAME_RATE_LIMIT", "ORDER_CODE_RATE_LIMIT", "ORDER_CODE_IP_RATE_LIMIT",
                 "FILES_UPLOAD_RATE_LIMIT"):
        _check_rate_limit(name, config[PREFIX + name])


def _check_rate_limit(name: str, value: str) -> None:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"Invalid Responso Chat configuration:\n  {PREFIX}{name}: {exc}"
        ) from None
