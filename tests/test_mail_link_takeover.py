"""A stranger types someone else's e-mail address into the pre-chat form; when that person opens
the link of the e-mail the shop sent them, the ticket's address becomes verified (its Base
orders count from then on). The stranger's visitor token must stop reaching it there and then,
over HTTP and over the websocket, while the person who opened the link gets a working one."""

from __future__ import annotations

import re
from urllib.parse import unquote

import requests

from responso_chat.conversation import messages
from responso_chat.conversation.websocket import CLOSE_FORBIDDEN, VISITOR_PROTOCOL
from responso_chat.models import Ticket
from responso_chat.state import plugin_state
from tests.factories import make_chat
from tests.hardening import handshake_status
from tests.mail_fixtures import settle
from tests.test_websocket_trust import close_code
from tests.wsclient import Socket

SHOP = "https://shop.test"
VICTIM = "victim@example.com"
LINK = re.compile(r"/chat/widget/continue/([A-Za-z0-9_.\-]+)")


class Widget:
    """A customer's widget talking to the live server over HTTP and the websocket."""

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url, token

    @property
    def headers(self) -> dict:
        return {"Origin": SHOP, "Authorization": f"Bearer {self.token}"}

    def start_chat(self, key: str, email: str) -> dict:
        response = requests.post(f"{self.url}/chat/widget/{key}/tickets", timeout=5,
                                 headers={"Origin": SHOP}, json={
                                     "name": "Someone", "email": email, "subject": "My order",
                                     "message": "Where is my order?", "client_msg_id": "c-0"})
        assert response.status_code == 201, response.text
        self.token = response.json()["token"]
        return response.json()

    def read(self) -> requests.Response:
        return requests.get(f"{self.url}/chat/widget/tickets/messages?after=0",
                            headers=self.headers, timeout=5)

    def send(self, body: str, client_msg_id: str) -> requests.Response:
        return requests.post(f"{self.url}/chat/widget/tickets/messages", headers=self.headers,
                             json={"body": body, "client_msg_id": client_msg_id}, timeout=5)

    def socket_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/chat/ws/visitor?after=0"

    def socket(self) -> Socket:
        return Socket(self.socket_url(), {"Origin": SHOP}, [VISITOR_PROTOCOL, self.token])

    def handshake(self) -> int:
        return handshake_status(self.socket_url(), {
            "Origin": SHOP, "Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {self.token}"})


def _link_in_mail_to(smtp, address: str) -> str:
    """The path of the signed link in the one mail ``address`` received."""
    [(recipients, mail)] = [item for item in smtp.messages if address in item[0]]
    assert recipients == [address]
    text = mail.get_body(("plain",)).get_content()
    return "/chat/widget/continue/" + LINK.search(text).group(1)


def test_a_stranger_loses_the_ticket_when_the_address_owner_opens_the_link(
        mail_app, smtp, live_server):
    url = live_server(mail_app).url
    with mail_app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key

    stranger = Widget(url)
    ticket_id = stranger.start_chat(key, VICTIM)["ticket"]["id"]
    assert stranger.read().status_code == 200
    live = stranger.socket()
    assert live.next("message")["body"] == "Where is my order?"

    with mail_app.app_context():  # an agent answers; nobody reads it in the widget: mailed
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Your order 1234 left today.")
    settle(mail_app)
    link = _link_in_mail_to(smtp, VICTIM)

    opened = requests.get(url + link, allow_redirects=False, timeout=5)  # the victim's browser
    assert opened.status_code == 303
    fragment = unquote(opened.headers["Location"].split("#", 1)[1])
    assert fragment.startswith(f"rc-continue-{key}=")
    owner = Widget(url, fragment.split("=", 1)[1])
    with mail_app.app_context():
        assert plugin_state().db.session.get(Ticket, ticket_id).customer_email_verified

    # The stranger's open socket is told and closed at once; the token opens nothing more.
    assert live.next("error", timeout=3)["error"] == "unavailable"
    assert close_code(live) == CLOSE_FORBIDDEN
    assert stranger.read().status_code == 401
    assert stranger.send("Which address did it go to?", "c-1").status_code == 401
    assert stranger.handshake() == 403

    # The owner of the address has the conversation, on both paths.
    read = owner.read()
    assert read.status_code == 200
    assert "Your order 1234 left today." in [m["body"] for m in read.json()["messages"]]
    assert owner.send("Thanks, that was me.", "v-1").status_code == 201
    socket = owner.socket()
    try:
        assert socket.next("message")["body"] == "Where is my order?"
    finally:
        socket.close()

    # Opening the link again (a second device) hands out a token without ending the first.
    again = requests.get(url + link, allow_redirects=False, timeout=5)
    second = Widget(url, unquote(again.headers["Location"]).split("=", 1)[1])
    assert second.read().status_code == 200 and owner.read().status_code == 200
    assert stranger.read().status_code == 401


def test_tokens_of_a_ticket_verified_from_the_start_are_not_ended_by_its_link(
        mail_app, smtp, live_server):
    """A shop-signed address needs no proof: opening the link changes nothing for its token."""
    from responso_chat.conversation.visitor import email_signature

    url = live_server(mail_app).url
    with mail_app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        key, secret = chat.public_key, chat.secret
    customer = Widget(url)
    response = requests.post(f"{url}/chat/widget/{key}/tickets", timeout=5,
                             headers={"Origin": SHOP}, json={
                                 "name": "Vic", "email": VICTIM, "subject": "Order",
                                 "message": "Hi", "client_msg_id": "c-0",
                                 "signature": email_signature(secret, VICTIM)})
    customer.token = response.json()["token"]
    ticket_id = response.json()["ticket"]["id"]
    with mail_app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        assert ticket.customer_email_verified
        messages.post_agent_message(ticket, "2", "Alice Agent", "Here you are.")
    settle(mail_app)
    assert requests.get(url + _link_in_mail_to(smtp, VICTIM), allow_redirects=False,
                        timeout=5).status_code == 303
    assert customer.read().status_code == 200
