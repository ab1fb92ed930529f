"""The signed link of an e-mail: it verifies the customer's address and reopens the chat.

``/chat/widget/continue/<token>`` checks the token (:func:`.signing.read_link_token`), marks
the ticket's e-mail verified (the customer read the mail sent to it) and, the first time, ends
every visitor token issued before (anyone could have typed that address into the pre-chat form:
their token must not reach a ticket that now unlocks the address's orders), then sends the
browser to
the shop with the conversation's visitor token in the URL's fragment
(``#rc-continue-<public key>=<token>``): fragments never reach a server or its logs, and the
loader moves it to the widget's storage. The shop page is the one the customer chatted from
when it is on the shop's public address, else that address: never another site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import joinedload

from responso_chat.conversation import wire
from responso_chat.conversation.visitor import issue_token, verify_email
from responso_chat.infra.broker import ticket_channel
from responso_chat.mail.settings import mail_config
from responso_chat.mail.signing import read_link_token
from responso_chat.models import Ticket
from responso_chat.state import plugin_state


@dataclass(frozen=True)
class LinkLanding:
    """Where an e-mail's link sends the browser, and the ticket it verified."""

    ticket_id: int
    target: str


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def landing_page(ticket, shop_url: str) -> str:
    """The shop page the link leads to: the ticket's page when it is on the shop's site."""
    page = (ticket.page_url or "").split("#", 1)[0]
    if page and _origin(page) == _origin(shop_url) and _origin(page).startswith("http"):
        return page
    return shop_url or "/"


def follow_link(token: str) -> LinkLanding | None:
    """Open an e-mail's link: None when the token is forged, expired, or no longer matches
    its ticket (deleted, or its customer's e-mail changed). Commits the verification; the
    open sockets of tokens it ended are told at once (they close)."""
    data = read_link_token(token)
    if data is None:
        return None
    ticket_id, email = data
    session = plugin_state().db.session
    ticket = session.get(Ticket, ticket_id, options=[joinedload(Ticket.chat)])
    if ticket is None or ticket.customer_email.lower() != email:
        return None
    if not ticket.customer_email_verified and verify_email(ticket.id):
        session.commit()  # expires the ticket: its new token version is read below
        plugin_state().broker.publish(ticket_channel(ticket_id), wire.tokens_revoked())
    target = landing_page(ticket, mail_config().shop_url)
    chat = ticket.chat
    if chat is not None and chat.enabled:
        target += f"#rc-continue-{chat.public_key}={issue_token(ticket)}"
    return LinkLanding(ticket_id=ticket_id, target=target)
