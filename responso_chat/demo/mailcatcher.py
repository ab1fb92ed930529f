"""The demo's mail catcher: a tiny SMTP server on loopback that keeps the e-mails it is given.

The demo points the plugin's SMTP settings at it, so the e-mails the plugin sends really go out
over SMTP, and the demo shop's "Sent e-mails" page lists what arrived here (the newest
:data:`KEEP`, in memory: they are gone when the demo stops). It speaks just enough SMTP for
``smtplib`` (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no login) and delivers
nothing anywhere.
"""

from __future__ import annotations

import itertools
import socketserver
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

#: How many caught mails are kept (the oldest go first).
KEEP = 200
#: The largest mail taken, in bytes (a larger one is refused with 552).
MAX_SIZE = 10 * 1024 * 1024
_MAX_LINE = 8192


@dataclass(frozen=True)
class CaughtMail:
    """One e-mail the catcher was given: who sent it to whom, and the mail itself."""

    id: int
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def message(self) -> EmailMessage:
        """The parsed mail (headers decoded, parts reachable, lines ending in ``\\n``)."""
        return message_from_bytes(self.raw.replace(b"\r\n", b"\n"), policy=email_policy.default)


def _address(argument: str) -> str:
    """The address of ``FROM:<a@b> SIZE=1`` / ``TO:<a@b>``."""
    value = argument.split(":", 1)[1].strip() if ":" in argument else argument
    if value.startswith("<"):
        value = value[1:].split(">", 1)[0]
    return value.split()[0] if value.split() else ""


class _Session(socketserver.StreamRequestHandler):
    """One SMTP conversation."""

    timeout = 30

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        catcher: MailCatcher = self.server.catcher
        self.reply("220 127.0.0.1 demo mail catcher")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if not line:
                return
            verb, _, argument = line.decode("latin-1").strip().partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.reply("250-127.0.0.1")
                self.reply("250-8BITMIME")
                self.reply(f"250 SIZE {MAX_SIZE}")
            elif verb == "HELO":
                self.reply("250 127.0.0.1")
            elif verb == "MAIL":
                sender, recipients = _address(argument), []
                self.reply("250 OK")
            elif verb == "RCPT" and sender is not None:
                recipients.append(_address(argument))
                self.reply("250 OK")
            elif verb == "DATA" and sender is not None and recipients:
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                raw = self.read_data()
                if raw is None:
                    self.reply("552 Message too large")
                else:
                    catcher.keep(sender, recipients, raw)
                    self.reply("250 OK: caught")
                sender, recipients = None, []
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            elif verb in ("RCPT", "DATA"):
                self.reply("503 Bad sequence of commands")
            else:
                self.reply("502 Command not implemented")

    def read_data(self) -> bytes | None:
        """The mail up to the lone dot, dots unstuffed; None when over :data:`MAX_SIZE`."""
        chunks, size = [], 0
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if not line or line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size <= MAX_SIZE:
                chunks.append(line)
        return b"".join(chunks) if size <= MAX_SIZE else None


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class MailCatcher:
    """The SMTP server, serving in a thread from :meth:`start` until :meth:`stop`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._lock = threading.Lock()
        self._mails: deque[CaughtMail] = deque(maxlen=KEEP)
        self._ids = itertools.count(1)
        self._server = _Server((host, port), _Session)
        self._server.catcher = self
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="demo-mail-catcher")

    def start(self) -> MailCatcher:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._server.shutdown()
        self._server.server_close()

    def keep(self, sender: str, recipients, raw: bytes) -> CaughtMail:
        """Store one mail (what a DATA command delivers)."""
        with self._lock:
            mail = CaughtMail(next(self._ids), sender, tuple(recipients), raw)
            self._mails.append(mail)
        return mail

    def mails(self) -> list[CaughtMail]:
        """The mails kept, newest first."""
        with self._lock:
            return list(reversed(self._mails))

    def get(self, mail_id: int) -> CaughtMail | None:
        """The kept mail of ``mail_id``, or None."""
        with self._lock:
            return next((mail for mail in self._mails if mail.id == mail_id), None)
