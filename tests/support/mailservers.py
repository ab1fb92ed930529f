"""Real mail servers for the suite on loopback: SMTP (aiosmtpd) and a small IMAP4rev1 server.

The IMAP server speaks the protocol over TCP to ``imaplib`` (greeting, CAPABILITY, LOGIN,
SELECT, STATUS, UID SEARCH/FETCH/STORE, NOOP, LOGOUT) on a mailbox held in memory, and can be
told to drop the connection in the middle of a poll (a mailbox that disappears).
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

from tests.servers import free_port


class _Collector:
    def __init__(self):
        self.messages: list = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            return "451 Try again later"
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, mail))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free loopback port; ``messages`` holds ``(recipients, EmailMessage)``."""

    def __init__(self):
        self.handler = _Collector()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self) -> list:
        return self.handler.messages

    def refuse(self, value: bool = True) -> None:
        """Answer every mail with a temporary failure (451) until told otherwise."""
        self.handler.refuse = value

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    flags: set = field(default_factory=set)


class Mailbox:
    """The IMAP server's state: one user, folders of mails."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.folders: dict[str, list[StoredMail]] = {"INBOX": []}
        self.next_uid = 1
        self.drop_after_fetches: int | None = None  # cut the connection after N FETCH
        self.bodies_sent: list[int] = []  # uids whose whole mail a FETCH sent
        self.lock = threading.Lock()

    def add(self, raw: bytes, folder: str = "INBOX") -> int:
        with self.lock:
            uid, self.next_uid = self.next_uid, self.next_uid + 1
            self.folders[folder].append(StoredMail(uid, raw))
            return uid


_ARGS = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


def _args(line: bytes) -> list[bytes]:
    return [quoted.replace(b'\\"', b'"') if quoted or plain == b"" else plain
            for quoted, plain in _ARGS.findall(line)]


class _Handler(socketserver.StreamRequestHandler):
    timeout = 10

    def send(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def handle(self):
        box: Mailbox = self.server.mailbox
        self.folder = None
        self.fetches = 0
        self.send(b"* OK [CAPABILITY IMAP4rev1] test server ready\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            parts = line.rstrip(b"\r\n").split(b" ", 2)
            tag, command = parts[0], (parts[1].upper() if len(parts) > 1 else b"")
            rest = parts[2] if len(parts) > 2 else b""
            if not self.dispatch(box, tag, command, rest):
                return

    def dispatch(self, box, tag, command, rest) -> bool:
        if command == b"CAPABILITY":
            self.send(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
        elif command == b"NOOP":
            self.send(tag + b" OK done\r\n")
        elif command == b"LOGIN":
            user, password = (a.decode() for a in _args(rest)[:2])
            if (user, password) != (box.user, box.password):
                self.send(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
            else:
                self.send(tag + b" OK LOGIN completed\r\n")
        elif command in (b"SELECT", b"STATUS"):
            name = _args(rest)[0].decode()
            if name not in box.folders:
                self.send(tag + b" NO [NONEXISTENT] no such folder\r\n")
                return True
            count = len(box.folders[name])
            if command == b"SELECT":
                self.folder = name
                self.send(b"* %d EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n" % count
                          + tag + b" OK [READ-WRITE] SELECT completed\r\n")
            else:
                self.send(b'* STATUS "%s" (MESSAGES %d)\r\n' % (name.encode(), count)
                          + tag + b" OK STATUS completed\r\n")
        elif command == b"UID":
            return self.uid(box, tag, rest)
        elif command == b"LOGOUT":
            self.send(b"* BYE bye\r\n" + tag + b" OK LOGOUT completed\r\n")
            return False
        else:
            self.send(tag + b" BAD unknown command\r\n")
        return True

    def uid(self, box, tag, rest) -> bool:
        sub, _, args = rest.partition(b" ")
        mails = box.folders.get(self.folder or "", [])
        sub = sub.upper()
        if sub == b"SEARCH":
            found = [m.uid for m in mails if "\\Seen" not in m.flags]
            self.send(b"* SEARCH" + b"".join(b" %d" % u for u in found) + b"\r\n"
                      + tag + b" OK SEARCH completed\r\n")
            return True
        uid_text, _, what = args.partition(b" ")
        mail = next((m for m in mails if m.uid == int(uid_text)), None)
        seq = mails.index(mail) + 1 if mail else 0
        if sub == b"FETCH":
            self.fetches += 1
            if box.drop_after_fetches is not None and self.fetches > box.drop_after_fetches:
                return False  # the server goes away mid-poll
            if mail is None:
                self.send(tag + b" OK FETCH completed\r\n")
            elif b"RFC822.SIZE" in what.upper():
                self.send(b"* %d FETCH (UID %d RFC822.SIZE %d)\r\n" % (seq, mail.uid, len(mail.raw))
                          + tag + b" OK FETCH completed\r\n")
            else:
                header_only = b"HEADER" in what.upper()
                body = mail.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" if header_only \
                    else mail.raw
                section = b"BODY[HEADER]" if header_only else b"BODY[]"
                if not header_only:
                    box.bodies_sent.append(mail.uid)
                self.send(b"* %d FETCH (UID %d %s {%d}\r\n" % (seq, mail.uid, section, len(body))
                          + body + b")\r\n" + tag + b" OK FETCH completed\r\n")
        elif sub == b"STORE":
            if mail is not None and b"\\Seen" in what:
                mail.flags.add("\\Seen")
                self.send(b"* %d FETCH (UID %d FLAGS (\\Seen))\r\n" % (seq, mail.uid))
            self.send(tag + b" OK STORE completed\r\n")
        else:
            self.send(tag + b" BAD unknown UID command\r\n")
        return True


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ImapServer:
    """The IMAP server on a free loopback port, in a thread."""

    def __init__(self, user: str = "support@shop.test", password: str = "imap-secret"):
        self.mailbox = Mailbox(user, password)
        self.port = free_port()
        self.server = _Server(("127.0.0.1", self.port), _Handler)
        self.server.mailbox = self.mailbox
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
