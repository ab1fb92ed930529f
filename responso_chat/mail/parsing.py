"""Reading a received e-mail: its headers, its text without quoted history or signature, and
whether a machine sent it.

Malformed MIME and unknown charsets never raise here: what cannot be decoded is read as
UTF-8 with replacement characters. HTML-only mail becomes plain text through nh3 (Ammonia),
which drops every tag, script and style; the quoted history and the signature are cut by
``mail-parser-reply``.
"""

from __future__ import annotations

import email
import hashlib
import html
import re
from email import policy
from email.utils import getaddresses, parseaddr

import nh3
from mailparser_reply import EmailReplyParser

from responso_chat.mail.compose import LOOP_HEADER

#: Languages whose reply headers ("On ... wrote:", "Le ... a écrit :") and signatures are cut.
REPLY_LANGUAGES = ["en", "fr", "pl", "de"]
#: Headers that carry the addresses a mail was sent to.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/tr|/h\d|/blockquote)\s*>")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_BLANKS = re.compile(r"\n{3,}")
#: Quoted history in HTML: blockquotes, and Gmail's and Outlook's quote blocks to the end.
_HTML_QUOTES = re.compile(r"(?is)<blockquote\b.*?</blockquote\s*>|<div[^>]*(gmail_quote|"
                          r"divRplyFwdMsg|OutlookMessageHeader)[^>]*>.*\Z")
#: The line above a quoted reply the parser may not know ("W dniu ... napisał(a):").
_QUOTE_HEADER = re.compile(
    r"(?im)^(on\b.{0,200}\bwrote:|le\b.{0,200}\ba écrit ?:|w dniu\b.{0,200}\bnapisał(\(a\))?:"
    r"|-{2,} ?original message ?-{2,}|-{2,} ?wiadomość oryginalna ?-{2,})\s*$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse(raw: bytes):
    """The mail as an ``EmailMessage`` (modern policy); never raises on bad MIME."""
    return email.message_from_bytes(raw, policy=policy.default)


def header(mail, name: str) -> str:
    """A header's text, "" when missing or undecodable."""
    try:
        value = mail.get(name)
    except Exception:  # a malformed header the parser cannot fold
        return ""
    return str(value or "").strip()


def message_id(mail, raw: bytes) -> str:
    """The mail's ``Message-ID``, or one made from its bytes when it has none (so the same
    mail fetched twice is still known)."""
    found = _MESSAGE_ID.search(header(mail, "Message-ID"))
    if found:
        return found.group(0)
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"


def referenced_ids(mail) -> list[str]:
    """The ``Message-ID`` values a reply names (``In-Reply-To`` first, then ``References``,
    newest first)."""
    ids = _MESSAGE_ID.findall(header(mail, "In-Reply-To"))
    ids += reversed(_MESSAGE_ID.findall(header(mail, "References")))
    return list(dict.fromkeys(ids))[:50]


def sender(mail) -> tuple[str, str]:
    """``(name, address)`` of the sender, the address lower-cased ("" when unreadable)."""
    name, address = parseaddr(header(mail, "Reply-To") or header(mail, "From"))
    if name == "" and header(mail, "From"):
        name = parseaddr(header(mail, "From"))[0]
    address = address.strip().lower()
    if address.count("@") != 1 or len(address) > 254 or " " in address:
        return name, ""
    return name.strip()[:100], address


def recipients(mail) -> list[str]:
    """Every address the mail was sent to."""
    values = [header(mail, name) for name in RECIPIENT_HEADERS]
    return [address for _name, address in getaddresses([v for v in values if v])]


def is_automated(mail) -> bool:
    """Whether a machine sent the mail (auto-replies, lists, bounces, our own mails): such a
    mail is never answered nor put on a ticket, so two robots cannot loop."""
    auto = header(mail, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if header(mail, "Precedence").lower() in ("bulk", "list", "junk", "auto_reply"):
        return True
    if any(header(mail, name) for name in (
        "X-Autoreply", "X-Autorespond", "X-Auto-Reply", "List-Id", "List-Unsubscribe",
        "X-Failed-Recipients", LOOP_HEADER,
    )):
        return True
    # Delivery and read reports (bounces, receipts), and mail with the null sender that
    # bounces and RFC 3834 auto-replies are sent with.
    if mail.get_content_type() == "multipart/report":
        return True
    if header(mail, "Return-Path").replace(" ", "") == "<>":
        return True
    if header(mail, "X-Auto-Response-Suppress").lower() in ("all", "oof", "autoreply"):
        return True
    local = sender(mail)[1].partition("@")[0]
    return local in ("mailer-daemon", "postmaster", "no-reply", "noreply")


def _decoded(part) -> str:
    try:
        return part.get_content()
    except Exception:  # unknown charset, broken transfer encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    """Safe plain text of an HTML mail: line breaks kept, every tag dropped."""
    markup = _BLOCK_END.sub("\n", _HTML_QUOTES.sub("", markup))
    text = html.unescape(nh3.clean(markup, tags=set()))
    lines = [line.strip() for line in text.replace("\r", "").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def body_text(mail) -> str:
    """The mail's text: its plain text part, else its HTML part as text ("" if none)."""
    plain = html_part = None
    try:
        parts = list(mail.walk())
    except Exception:
        parts = [mail]
    for part in parts:
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html_part is None:
            html_part = part
    if plain is not None:
        return _decoded(plain).replace("\r\n", "\n").strip()
    if html_part is not None:
        return html_to_text(_decoded(html_part))
    return ""


def strip_reply(text: str) -> str:
    """The new text of a reply: quoted history and signature cut; the whole text when the
    parser finds nothing new (better too much than nothing)."""
    text = _CONTROL.sub("", text or "")
    if not text:
        return ""
    header_line = _QUOTE_HEADER.search(text)
    if header_line and text[: header_line.start()].strip():
        text = text[: header_line.start()]
    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text).replies
        new = replies[0].body.strip() if replies else ""
    except Exception:
        new = ""
    return new or text.strip()
