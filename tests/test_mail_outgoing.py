"""Outgoing e-mail through a real SMTP server (aiosmtpd on loopback): what goes out, threading,
the signed reply address and link, escaping, failures and retries."""

from __future__ import annotations

import re

import sqlalchemy as sa

from responso_chat.conversation import messages, ticket_changes
from responso_chat.infra.broker import agent_ticket_channel
from responso_chat.mail import outgoing, signing
from responso_chat.models import MailRecord, Message, Ticket
from responso_chat.state import plugin_state
from responso_chat.users import Agent
from tests.conftest import AuthActions
from tests.factories import make_chat, make_ticket
from tests.mail_fixtures import settle

ALICE = Agent("2", "Alice Agent", "alice@shop.test")


def _ticket(app, **fields):
    with app.app_context():
        ticket = make_ticket(make_chat(), **fields)
        ticket_id = ticket.id
    settle(app)
    return ticket_id


def _parts(mail) -> tuple[str, str]:
    return (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content())


def test_new_ticket_to_this_customer_goes_by_email_in_their_language(mail_app, smtp):
    ticket_id = _ticket(mail_app, language="fr", email="zoe@example.com")
    with mail_app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        new = ticket_changes.create_ticket_for_customer(
            ticket, "Votre remboursement", "Votre remboursement est parti.", ALICE)
        new_id = new.id
    settle(mail_app)
    [(recipients, mail)] = smtp.messages
    assert recipients == ["zoe@example.com"]
    assert mail["Subject"] == "Votre remboursement"
    assert mail["From"].addresses[0].addr_spec == "support@shop.test"
    with mail_app.app_context():
        assert signing.ticket_of_address(mail["Reply-To"].addresses[0].addr_spec) == new_id
    assert mail["Message-ID"].endswith("@shop.test>") and mail["X-Responso-Chat"] == "1"
    text, html = _parts(mail)
    assert "Alice Agent vous a écrit" in text and "Votre remboursement est parti." in text
    assert "https://shop.test/chat/widget/continue/" in text and 'lang="fr"' in html
    with mail_app.app_context():
        (record,) = plugin_state().db.session.scalars(sa.select(MailRecord)).all()
        assert (record.kind, record.state, record.ticket_id) == ("new_ticket", "sent", new_id)


def test_unseen_replies_are_gathered_into_one_mail_and_seen_ones_are_not_sent(make_app, smtp):
    from tests.mail_fixtures import mail_config

    mail_app = make_app(**mail_config(smtp, RESPONSO_CHAT_MAIL_UNSEEN_MINUTES=60))
    ticket_id = _ticket(mail_app)
    told = []
    with mail_app.app_context():
        plugin_state().broker.subscribe(agent_ticket_channel(ticket_id), told.append)
        session = plugin_state().db.session
        ticket = session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "Alice Agent", "First answer")
        messages.post_agent_message(ticket, "2", "Alice Agent", "Internal", internal=True)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Second answer")
    settle(mail_app)
    assert smtp.messages == []  # not yet: the customer may still read them in the widget
    assert _reply_states(mail_app, ticket_id) == ["Sent", "Sent"]
    mail_app.config["RESPONSO_CHAT_MAIL_UNSEEN_MINUTES"] = 0  # the minutes have passed
    with mail_app.app_context():
        outgoing.send_unseen(ticket_id)
    settle(mail_app)
    [(_to, mail)] = smtp.messages  # both replies, one mail
    text, _html = _parts(mail)
    assert "First answer" in text and "Second answer" in text and "Internal" not in text
    # the agents see that the replies went by e-mail, live and on the ticket's page
    assert {"type": "mailed", "ticket_id": ticket_id, "seq": 4} in told
    assert _reply_states(mail_app, ticket_id) == ["E-mailed", "E-mailed"]
    # The reply's own job must not run before the customer sees it (a job thread may run at
    # once): the minutes run again while it is posted and seen, then they have passed.
    mail_app.config["RESPONSO_CHAT_MAIL_UNSEEN_MINUTES"] = 60
    with mail_app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        reply = messages.post_agent_message(ticket, "2", "Alice Agent", "Seen in the widget")
        messages.mark_seen(ticket, "customer", reply.seq)
    settle(mail_app)
    mail_app.config["RESPONSO_CHAT_MAIL_UNSEEN_MINUTES"] = 0
    with mail_app.app_context():
        outgoing.send_unseen(ticket_id)
    settle(mail_app)
    assert len(smtp.messages) == 1  # the customer saw it: nothing more went out


def _reply_states(app, ticket_id) -> list[str]:
    """What the ticket's page says under each public agent reply (Sent, E-mailed, Seen)."""
    client = app.test_client()
    AuthActions(client).login("alice@shop.test")
    page = client.get(f"/chat/inbox/tickets/{ticket_id}").get_data(as_text=True)
    return re.findall(r'<p class="rc-msg-state">([^<]+)</p>', page)


def test_replies_of_a_thread_carry_in_reply_to_and_references(mail_app, smtp):
    ticket_id = _ticket(mail_app)
    for body in ("One", "Two"):
        with mail_app.app_context():
            ticket = plugin_state().db.session.get(Ticket, ticket_id)
            messages.post_agent_message(ticket, "2", "Alice Agent", body)
        settle(mail_app)
    first, second = (mail for _to, mail in smtp.messages)
    assert first["In-Reply-To"] is None
    assert second["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in second["References"]


def test_customer_strings_are_escaped_in_the_html_part(mail_app, smtp):
    ticket_id = _ticket(
        mail_app, subject="<img src=x onerror=alert(1)>", name="<b>Zoe</b>")
    with mail_app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "<i>Alice</i>", "Use <script>alert(2)</script>")
    settle(mail_app)
    [(_to, mail)] = smtp.messages
    _text, html = _parts(mail)
    assert "<script>" not in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x" in html and "<i>Alice" not in html


def test_an_smtp_failure_is_retried_told_on_the_ticket_and_on_the_admin_page(mail_app, smtp):
    smtp.refuse()
    ticket_id = _ticket(mail_app)
    with mail_app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Your parcel left")
    settle(mail_app)
    with mail_app.app_context():
        session = plugin_state().db.session
        (record,) = session.scalars(sa.select(MailRecord)).all()
        assert (record.state, record.attempts) == ("queued", 1) and "451" in record.error
        lines = session.scalars(sa.select(Message.body).where(
            Message.ticket_id == ticket_id, Message.author_kind == "system")).all()
        assert any("could not be sent" in line and "tried again" in line for line in lines)
        record_id = record.id
    client = mail_app.test_client()
    AuthActions(client).login("admin@shop.test")
    page = client.get("/chat/admin/integrations/email").get_data(as_text=True)
    assert "Last sending error" in page and "451" in page
    smtp.refuse(False)
    with mail_app.app_context():
        outgoing.deliver(record_id)  # the retry the outbox holds, run now
        assert plugin_state().db.session.get(MailRecord, record_id).state == "sent"
    assert len(smtp.messages) == 1


def test_a_mail_is_marked_failed_once_its_retries_are_spent(make_app, smtp):
    from tests.mail_fixtures import mail_config

    app = make_app(**mail_config(smtp, RESPONSO_CHAT_MAIL_SEND_RETRIES=0))
    smtp.refuse()
    ticket_id = _ticket(app)
    with app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Hello")
    settle(app)
    with app.app_context():
        (record,) = plugin_state().db.session.scalars(sa.select(MailRecord)).all()
        assert record.state == "failed"


def test_no_smtp_server_means_new_ticket_says_it_was_not_mailed(app):
    with app.app_context():
        ticket = make_ticket(make_chat())
        new = ticket_changes.create_ticket_for_customer(ticket, "Hi", "Hello", ALICE)
        new_id = new.id
    settle(app)
    with app.app_context():
        bodies = plugin_state().db.session.scalars(
            sa.select(Message.body).where(Message.ticket_id == new_id)).all()
        assert any("Not sent by e-mail" in body for body in bodies)
        assert plugin_state().db.session.scalars(sa.select(MailRecord)).all() == []


def test_transcript_and_agent_notes_are_sent_when_switched_on(make_app, smtp):
    from tests.mail_fixtures import mail_config

    app = make_app(**mail_config(smtp, RESPONSO_CHAT_MAIL_TRANSCRIPT=True,
                                 RESPONSO_CHAT_MAIL_NOTIFY_AGENTS=True,
                                 RESPONSO_CHAT_MAIL_UNSEEN_MINUTES=60))
    ticket_id = _ticket(app)
    with app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        ticket_changes.assign(ticket, "2", ALICE)
        plugin_state().db.session.commit()
        messages.post_customer_message(ticket, "Anyone there?")
    settle(app)
    assert [to for to, _mail in smtp.messages] == [["alice@shop.test"]]
    assert "Anyone there?" in smtp.messages[0][1].get_body(("plain",)).get_content()
    with app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        ticket_changes.close_ticket(ticket, ALICE)
        plugin_state().db.session.commit()
    settle(app)
    to, transcript = smtp.messages[-1]
    assert to == ["zoe@example.com"] and "transcript" in transcript.get_body(
        ("plain",)).get_content()
