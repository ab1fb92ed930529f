"""What ties an e-mail to its ticket and cannot be forged: the reply address, the link.

- The reply address is the from address with a ``+`` tag naming the ticket and an HMAC of it
  (``support+t42-3f0c9a1b2c4d5e6f@shop.example``), keyed by the host's ``SECRET_KEY``: a mail
  to a tag whose HMAC does not match is not put on that ticket.
- The link back into the chat is an itsdangerous token naming the ticket and its customer's
  e-mail; opening it proves the address (the ticket's e-mail becomes verified).
- ``Message-ID`` values name the ticket and the shop's domain.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.utils import make_msgid, parseaddr

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

LINK_SALT = "responso-chat-mail-link"
#: Days a link of an e-mail reopens the chat.
LINK_MAX_AGE = 60 * 24 * 3600
_TAG = re.compile(r"^t(\d{1,12})-([0-9a-f]{16})$")


def _tag_signature(ticket_id: int) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"reply:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:16]


def reply_address(from_address: str, ticket_id: int) -> str:
    """The address a customer's answer to ``ticket_id`` goes to (plus-addressing)."""
    local, _, domain = from_address.rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}+t{ticket_id}-{_tag_signature(ticket_id)}@{domain}"


def ticket_of_address(address: str) -> int | None:
    """The ticket a reply address names when its signature is right, else None."""
    _name, address = parseaddr(address or "")
    local = address.rpartition("@")[0]
    if "+" not in local:
        return None
    match = _TAG.match(local.split("+", 1)[1].lower())
    if not match:
        return None
    ticket_id = int(match.group(1))
    return ticket_id if hmac.compare_digest(_tag_signature(ticket_id), match.group(2)) else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def link_token(ticket) -> str:
    """A token that reopens ``ticket`` in the widget and proves its customer's e-mail."""
    return _serializer().dumps({"t": ticket.id, "e": ticket.customer_email.lower()})


def read_link_token(token: str) -> tuple[int, str] | None:
    """``(ticket id, e-mail)`` of a valid, unexpired link token, else None."""
    try:
        data = _serializer().loads(token, max_age=LINK_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    ticket_id, email = data.get("t"), data.get("e")
    if not isinstance(ticket_id, int) or not isinstance(email, str):
        return None
    return ticket_id, email


def new_message_id(ticket_id: int | None, from_address: str) -> str:
    """A fresh ``Message-ID`` on the shop's domain, naming the ticket."""
    domain = from_address.rpartition("@")[2] or "localhost"
    return make_msgid(idstring=f"rc{ticket_id or 0}", domain=domain)
