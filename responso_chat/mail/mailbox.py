"""The IMAP mailbox: the periodic poll and the admin's "Test connection".

:func:`poll_mailbox` is a periodic job (every ``RESPONSO_CHAT_IMAP_POLL_INTERVAL`` seconds,
in the RQ worker or in-process). It fetches the unseen mails of the folder without marking
them (``BODY.PEEK``), hands each to :func:`.incoming.receive`, which commits it, and only then
flags it ``\\Seen``: a poll cut anywhere leaves the mail unseen, and the next poll finds it
again, known by its ``Message-ID``. After a failed poll the next ones wait longer and longer
(twice the interval per failure in a row, up to :data:`MAX_BACKOFF` seconds); the time and
error of the last poll are shown on the admin page.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from datetime import timedelta

from responso_chat.mail import incoming
from responso_chat.mail.settings import mail_config, mail_status, record_poll
from responso_chat.models import utcnow
from responso_chat.state import plugin_state

log = logging.getLogger(__name__)

#: Most mails one poll reads (the next poll takes the rest).
BATCH = 50
#: Longest wait, in seconds, between two polls after failures in a row.
MAX_BACKOFF = 1800
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxError(Exception):
    """The mailbox could not be reached or refused a command; the text says why."""


def connect(config) -> imaplib.IMAP4:
    """A logged-in IMAP connection with the folder selected; raises :class:`MailboxError`."""
    timeout = float(plugin_state().setting("SMTP_TIMEOUT"))
    context = ssl.create_default_context()
    try:
        if config.imap_security == "tls":
            imap = imaplib.IMAP4_SSL(config.imap_host, config.imap_port, ssl_context=context,
                                     timeout=timeout)
        else:
            imap = imaplib.IMAP4(config.imap_host, config.imap_port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"the IMAP server {config.imap_host}:{config.imap_port} could not "
                           f"be reached ({exc or type(exc).__name__})") from exc
    try:
        if config.imap_security == "starttls":
            imap.starttls(ssl_context=context)
        imap.login(config.imap_user, config.imap_password)
        status, _data = imap.select(_quoted(config.imap_folder))
        if status != "OK":
            raise MailboxError(f"the folder {config.imap_folder} does not exist")
    except BaseException as exc:
        _logout(imap)
        if isinstance(exc, imaplib.IMAP4.error):
            raise MailboxError(f"the IMAP server refused: {_text(exc)}") from exc
        if isinstance(exc, OSError):
            raise MailboxError(f"the IMAP server {config.imap_host}:{config.imap_port} "
                               f"failed ({exc or type(exc).__name__})") from exc
        raise
    return imap


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(exc) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def test_connection(config) -> int:
    """Log in and open the folder with ``config`` (possibly not saved); returns how many
    mails the folder holds. Raises :class:`MailboxError`."""
    imap = connect(config)
    try:
        _status, data = imap.status(_quoted(config.imap_folder), "(MESSAGES)")
        found = re.search(rb"MESSAGES (\d+)", data[0] or b"") if data else None
        return int(found.group(1)) if found else 0
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"the IMAP server refused: {_text(exc)}") from exc
    finally:
        _logout(imap)


test_connection.__test__ = False  # a service, not a pytest test


def _logout(imap) -> None:
    """Log out; a connection already dead is closed all the same."""
    try:
        imap.logout()
    except (imaplib.IMAP4.error, OSError):
        try:
            imap.shutdown()
        except OSError:
            pass


def _fetch(imap, uid: bytes, what: str) -> list:
    status, data = imap.uid("FETCH", uid, what)
    if status != "OK":
        raise imaplib.IMAP4.error(f"FETCH {what} failed")
    return data or []


def _read(imap, uid: bytes, limit: int) -> bytes | None:
    """The mail ``uid``; over ``limit`` bytes only its header and a filler that keeps it
    over the limit (so it is refused without being read whole)."""
    sizes = [_SIZE.search(item if isinstance(item, bytes) else item[0])
             for item in _fetch(imap, uid, "(RFC822.SIZE)") if item]
    size = next((int(m.group(1)) for m in sizes if m), 0)
    part = "(BODY.PEEK[HEADER])" if size > limit else "(BODY.PEEK[])"
    for item in _fetch(imap, uid, part):
        if isinstance(item, tuple):
            return item[1] + (b"\r\n" + b" " * (size - len(item[1])) if size > limit else b"")
    return None


def _waiting() -> bool:
    """Whether failures in a row ask this poll to wait (backoff)."""
    status = mail_status()
    if not status.poll_failures or status.last_poll_at is None:
        return False
    interval = int(plugin_state().setting("IMAP_POLL_INTERVAL"))
    wait = min(MAX_BACKOFF, interval * 2 ** min(status.poll_failures, 10))
    return utcnow() < status.last_poll_at + timedelta(seconds=wait - interval / 2)


def poll_mailbox() -> int:
    """Periodic job: read the mailbox's unseen mails onto their tickets; returns how many."""
    config = mail_config()
    if not config.receiving or _waiting():
        return 0
    session = plugin_state().db.session
    limit = int(plugin_state().setting("MAIL_MAX_SIZE"))
    done = 0
    try:
        imap = connect(config)
        try:
            status, data = imap.uid("SEARCH", None, "UNSEEN")
            if status != "OK":
                raise imaplib.IMAP4.error("SEARCH failed")
            for uid in (data[0] or b"").split()[:BATCH]:
                raw = _read(imap, uid, limit)
                if raw is not None:
                    incoming.receive(raw)
                imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                done += 1
        finally:
            _logout(imap)
    except (MailboxError, imaplib.IMAP4.error, OSError) as exc:
        session.rollback()
        error = str(exc) if isinstance(exc, MailboxError) else f"the mailbox failed: {_text(exc)}"
        log.warning("IMAP poll: %s", error)
        record_poll(error)
        session.commit()
        return done
    record_poll("")
    session.commit()
    return done
