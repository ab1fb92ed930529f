"""The mail settings in use: the app's ``RESPONSO_CHAT_SMTP_*`` / ``IMAP_*`` / ``MAIL_*``
configuration, overridden field by field by what an admin stored on "Integrations → E-mail".

Passwords are write-only: a page shows whether one is set, never the password. The mailbox's
status (last poll, last error) and the last sending error are kept beside the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

import sqlalchemy as sa

from responso_chat.models import Setting, utcnow
from responso_chat.state import plugin_state

#: Prefix of the setting rows of this module.
KEY_PREFIX = "mail_"
#: Field of :class:`MailConfig` -> the app setting it defaults to.
SETTING_OF = {
    "smtp_host": "SMTP_HOST",
    "smtp_port": "SMTP_PORT",
    "smtp_security": "SMTP_SECURITY",
    "smtp_user": "SMTP_USER",
    "smtp_password": "SMTP_PASSWORD",
    "from_address": "MAIL_FROM_ADDRESS",
    "from_name": "MAIL_FROM_NAME",
    "shop_url": "MAIL_SHOP_URL",
    "imap_host": "IMAP_HOST",
    "imap_port": "IMAP_PORT",
    "imap_security": "IMAP_SECURITY",
    "imap_user": "IMAP_USER",
    "imap_password": "IMAP_PASSWORD",
    "imap_folder": "IMAP_FOLDER",
}
PASSWORDS = ("smtp_password", "imap_password")
INTEGERS = ("smtp_port", "imap_port")
#: Status rows: the last poll, its error, the last sending error, consecutive poll failures.
LAST_POLL_AT, LAST_POLL_ERROR = "mailstate_last_poll_at", "mailstate_last_poll_error"
LAST_SEND_ERROR, POLL_FAILURES = "mailstate_last_send_error", "mailstate_poll_failures"


@dataclass(frozen=True)
class MailConfig:
    """The SMTP and IMAP settings in use."""

    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    smtp_password: str
    from_address: str
    from_name: str
    shop_url: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_password: str
    imap_folder: str

    @property
    def sending(self) -> bool:
        """Whether e-mail goes out: an SMTP server and a from address are set."""
        return bool(self.smtp_host and self.from_address)

    @property
    def receiving(self) -> bool:
        """Whether a mailbox is polled."""
        return bool(self.imap_host and self.imap_user)

    def with_values(self, values: dict) -> MailConfig:
        """These settings with ``values`` (a form's) put over them; a blank password keeps
        the one in use."""
        known = {f.name for f in fields(self)}
        changes = {k: v for k, v in values.items() if k in known}
        for name in PASSWORDS:
            if not changes.get(name):
                changes.pop(name, None)
        return replace(self, **changes)


def _stored() -> dict[str, str]:
    rows = plugin_state().db.session.execute(
        sa.select(Setting.key, Setting.value).where(Setting.key.startswith(KEY_PREFIX))
    ).all()
    return {key.removeprefix(KEY_PREFIX): value for key, value in rows}


def mail_config() -> MailConfig:
    """The settings in use: each stored value, else the app's configuration."""
    state, stored = plugin_state(), _stored()
    values = {}
    for name, setting in SETTING_OF.items():
        value = stored[name] if name in stored else state.setting(setting)
        values[name] = int(value) if name in INTEGERS else str(value)
    return MailConfig(**values)


def save_mail_settings(values: dict, clear_passwords=()) -> None:
    """Store the admin's settings; a blank password keeps the stored one, a name in
    ``clear_passwords`` forgets it (the configured one applies again)."""
    session = plugin_state().db.session
    for name in SETTING_OF:
        if name not in values:
            continue
        value = values[name]
        if name in PASSWORDS and not value:
            if name in clear_passwords:
                session.execute(sa.delete(Setting).where(Setting.key == KEY_PREFIX + name))
            continue
        session.merge(Setting(key=KEY_PREFIX + name, value=str(value)))
    session.commit()


def password_source(name: str) -> str:
    """Where the password ``name`` comes from: ``saved``, ``configuration`` or ``""``."""
    if name in _stored():
        return "saved"
    return "configuration" if plugin_state().setting(SETTING_OF[name]) else ""


# --- status ----------------------------------------------------------------------------------


def _put(key: str, value: str) -> None:
    plugin_state().db.session.merge(Setting(key=key, value=value))


def _get(key: str) -> str:
    row = plugin_state().db.session.get(Setting, key)
    return row.value if row is not None else ""


@dataclass(frozen=True)
class MailStatus:
    """What the admin page tells of the mailbox and of sending."""

    last_poll_at: datetime | None
    last_poll_error: str
    last_send_error: str
    poll_failures: int


def mail_status() -> MailStatus:
    """The mailbox's last poll and error, and the last error of sending."""
    at = _get(LAST_POLL_AT)
    return MailStatus(
        last_poll_at=datetime.fromisoformat(at) if at else None,
        last_poll_error=_get(LAST_POLL_ERROR),
        last_send_error=_get(LAST_SEND_ERROR),
        poll_failures=int(_get(POLL_FAILURES) or 0),
    )


def record_poll(error: str = "") -> int:
    """Record a poll (without commit): its time and error; returns the failures in a row."""
    failures = mail_status().poll_failures + 1 if error else 0
    _put(LAST_POLL_AT, utcnow().isoformat())
    _put(LAST_POLL_ERROR, error[:1000])
    _put(POLL_FAILURES, str(failures))
    return failures


def record_send_error(error: str) -> None:
    """Record (without commit) the last error of sending, with its time."""
    _put(LAST_SEND_ERROR, f"{utcnow():%Y-%m-%d %H:%M} UTC: {error}"[:1000] if error else "")
