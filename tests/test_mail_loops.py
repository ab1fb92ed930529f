"""Mail loops: our auto-responder and the customer's (a vacation reply, an out-of-office, a
bounce) must not answer each other for ever. A customer's own e-mail gets the auto-response;
what a machine sends back to it is kept in the mail log and produces no message, no ticket
and no mail."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.automations import rules as automations
from responso_chat.mail import mailbox, signing
from responso_chat.models import MailRecord, Message, Ticket
from responso_chat.state import plugin_state
from tests.factories import make_chat, make_ticket
from tests.mail_fixtures import settle

SHOP = "support@shop.test"


def _auto_responder():
    """Our robot: every customer message gets an answer (under the hourly cap of 3)."""
    automations.create_rule({
        "name": "Got it", "enabled": True, "trigger": "customer_message", "match": "all",
        "conditions": [], "actions": [{"type": "auto_reply", "value": "We got your message."}]})


def _answer(sent, body: str, headers: str, *, sender="zoe@example.com", n: int,
            content_type="text/plain; charset=utf-8") -> bytes:
    """A mail answering ``sent`` (one we sent) from ``sender`` with extra ``headers``."""
    return (
        f"From: {sender}\r\nTo: {sent['Reply-To']}\r\nSubject: Re: {sent['Subject']}\r\n"
        f"Message-ID: <answer-{n}@mail.example>\r\nIn-Reply-To: {sent['Message-ID']}\r\n"
        f"References: {sent['Message-ID']}\r\nContent-Type: {content_type}\r\n{headers}\r\n"
        f"{body}\r\n"
    ).encode()


BOUNCE = (
    "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
    "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net"
    "\r\n\r\nFinal-Recipient: rfc822; zoe@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n"
    "--b1--"
)
REPORT = 'multipart/report; report-type=delivery-status; boundary="b1"'

#: What other robots send back: (extra headers, sender, body, content type).
ROBOTS = {
    "vacation reply (RFC 3834)": ("Auto-Submitted: auto-replied\r\n", "zoe@example.com",
                                  "I am on holiday until Monday.", None),
    "out-of-office (Exchange)": ("X-Auto-Response-Suppress: All\r\n", "zoe@example.com",
                                 "Out of office.", None),
    "vacation (Precedence)": ("Precedence: auto_reply\r\n", "zoe@example.com", "Away.", None),
    "bounce (MAILER-DAEMON)": ("X-Failed-Recipients: zoe@example.com\r\n",
                               "Mail Delivery System <MAILER-DAEMON@mx.example.net>", BOUNCE,
                               REPORT),
    "bounce (null sender, delivery report only)": ("Return-Path: <>\r\n",
                                                   "Delivery <bounces@mx.example.net>",
                                                   BOUNCE, REPORT),
}


def _counts(app, ticket_id) -> tuple[int, int, int]:
    with app.app_context():
        session = plugin_state().db.session
        return (
            session.scalar(sa.select(sa.func.count()).where(
                Message.ticket_id == ticket_id, Message.author_kind == "customer")),
            session.scalar(sa.select(sa.func.count()).select_from(Ticket)),
            session.scalar(sa.select(sa.func.count()).where(MailRecord.kind != "reply")),
        )


def test_two_auto_responders_do_not_answer_each_other(mail_app, smtp, imap):
    with mail_app.app_context():
        _auto_responder()
        ticket_id = make_ticket(make_chat(), "Where is my order?").id
    settle(mail_app)
    [(_to, welcome)] = smtp.messages  # our auto-response, by e-mail: she left the chat
    assert "We got your message." in welcome.get_body(("plain",)).get_content()
    assert welcome["Auto-Submitted"] == "auto-generated"  # so her robot should keep quiet

    # A person's answer is answered by our robot (the rules do fire for e-mail).
    imap.mailbox.add(_answer(welcome, "Is it shipped yet?", "", n=0))
    with mail_app.app_context():
        assert mailbox.poll_mailbox() == 1
    settle(mail_app)
    assert len(smtp.messages) == 2
    ours = smtp.messages[-1][1]
    assert "We got your message." in ours.get_body(("plain",)).get_content()
    before = _counts(mail_app, ticket_id)

    # Her robots answer ours: each is read, logged, and left alone.
    for n, (headers, sender, body, content_type) in enumerate(ROBOTS.values(), start=1):
        imap.mailbox.add(_answer(ours, body, headers, sender=sender, n=n,
                                 content_type=content_type or "text/plain; charset=utf-8"))
    with mail_app.app_context():  # and one that names no ticket: it must not open one
        stray = _answer(ours, "Auto: away", "Auto-Submitted: auto-replied\r\n", n=99)
        stray = stray.replace(str(ours["Reply-To"]).encode(), SHOP.encode())
        stray = stray.replace(str(ours["Message-ID"]).encode(), b"<unknown@x>")
        imap.mailbox.add(stray)
        assert mailbox.poll_mailbox() == len(ROBOTS) + 1
    settle(mail_app)

    assert _counts(mail_app, ticket_id) == before  # no message, no ticket, no mail queued
    assert len(smtp.messages) == 2, "an auto-reply was answered"
    with mail_app.app_context():
        session = plugin_state().db.session
        ignored = session.scalars(sa.select(MailRecord.message_id).where(
            MailRecord.kind == "reply", MailRecord.state == "ignored")).all()
        assert len(ignored) == len(ROBOTS) + 1
        assert signing.ticket_of_address(str(ours["Reply-To"])) == ticket_id
    assert all(mail.flags == {"\\Seen"} for mail in imap.mailbox.folders["INBOX"])
