"""Incoming e-mail read from a real IMAP server on loopback: matching, stripping, safety."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.mail import incoming, mailbox, signing
from responso_chat.mail.settings import mail_status
from responso_chat.models import MailRecord, Message, Ticket
from responso_chat.state import plugin_state
from tests.factories import make_chat, make_ticket
from tests.mail_fixtures import settle


def _mail(to: str, body: str = "Thanks, it arrived!", *, sender="zoe@example.com",
          headers: str = "", content_type="text/plain; charset=utf-8",
          message_id="<reply-1@mail.example>") -> bytes:
    return (
        f"From: Zoe <{sender}>\r\nTo: {to}\r\nSubject: Re: Where is my order?\r\n"
        f"Message-ID: {message_id}\r\nContent-Type: {content_type}\r\n{headers}\r\n{body}\r\n"
    ).encode()


QUOTED = ("Thanks, it arrived!\r\n\r\nOn Mon, Dec 7, 2026 at 10:00 AM Shop <support@shop.test>"
          " wrote:\r\n> Your parcel left today.\r\n")


def _ticket(app):
    with app.app_context():
        ticket = make_ticket(make_chat())
        ticket_id = ticket.id
        address = signing.reply_address("support@shop.test", ticket_id)
    settle(app)
    return ticket_id, address


def _bodies(app, ticket_id, kind="customer"):
    with app.app_context():
        return plugin_state().db.session.scalars(sa.select(Message.body).where(
            Message.ticket_id == ticket_id, Message.author_kind == kind).order_by(Message.seq)
        ).all()


def _poll(app):
    with app.app_context():
        return mailbox.poll_mailbox()


def test_a_reply_in_the_mailbox_lands_on_its_ticket_once_without_its_quoted_history(
        mail_app, imap):
    ticket_id, address = _ticket(mail_app)
    events = []
    with mail_app.app_context():
        plugin_state().broker.subscribe(f"ticket:{ticket_id}", events.append)
    imap.mailbox.add(_mail(address, QUOTED))
    assert _poll(mail_app) == 1
    assert _bodies(mail_app, ticket_id)[-1] == "Thanks, it arrived!"
    assert imap.mailbox.folders["INBOX"][0].flags == {"\\Seen"}
    assert any(e.get("body") == "Thanks, it arrived!" and e["source"] == "email"
               for e in events)  # pushed live, marked as an e-mail
    with mail_app.app_context():  # the chat's first message was typed in the widget
        assert plugin_state().db.session.scalars(sa.select(Message.source).where(
            Message.ticket_id == ticket_id).order_by(Message.seq)).all() == [None, "email"]
    imap.mailbox.folders["INBOX"][0].flags.clear()  # seen again: known by its Message-ID
    _poll(mail_app)
    assert _bodies(mail_app, ticket_id).count("Thanks, it arrived!") == 1
    with mail_app.app_context():
        status = mail_status()
        assert status.last_poll_at is not None and status.last_poll_error == ""


def test_a_forged_reply_address_opens_an_email_ticket_instead(mail_app, imap):
    ticket_id, address = _ticket(mail_app)
    forged = address.replace(f"+t{ticket_id}-", f"+t{ticket_id + 1}-")
    guessed = f"support+t{ticket_id}-0000000000000000@shop.test"
    imap.mailbox.add(_mail(forged, message_id="<a@x>"))
    imap.mailbox.add(_mail(guessed, message_id="<b@x>"))
    _poll(mail_app)
    assert len(_bodies(mail_app, ticket_id)) == 1  # only the chat's first message
    with mail_app.app_context():
        others = plugin_state().db.session.scalars(
            sa.select(Ticket).where(Ticket.id != ticket_id)).all()
        assert [(t.channel, t.chat_id, t.chat_name, t.customer_email_verified)
                for t in others] == [("email", None, "E-mail", False)] * 2


def test_in_reply_to_matches_a_mail_we_sent(mail_app, smtp, imap):
    from responso_chat.conversation import messages

    ticket_id, _address = _ticket(mail_app)
    with mail_app.app_context():
        ticket = plugin_state().db.session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Your parcel left today.")
    settle(mail_app)
    sent_id = smtp.messages[-1][1]["Message-ID"]
    imap.mailbox.add(_mail("support@shop.test", headers=f"In-Reply-To: {sent_id}\r\n"))
    _poll(mail_app)
    assert _bodies(mail_app, ticket_id)[-1] == "Thanks, it arrived!"


def test_automated_mail_and_our_own_mail_are_never_posted(mail_app, imap):
    ticket_id, address = _ticket(mail_app)
    for n, header in enumerate(("Auto-Submitted: auto-replied", "Precedence: bulk",
                                "X-Autoreply: yes", "X-Responso-Chat: 1")):
        imap.mailbox.add(_mail(address, "Out of office", headers=header + "\r\n",
                               message_id=f"<auto-{n}@x>"))
    _poll(mail_app)
    assert _bodies(mail_app, ticket_id) == ["Hello, my parcel has not arrived."]
    with mail_app.app_context():
        states = plugin_state().db.session.scalars(sa.select(MailRecord.state)).all()
        assert states == ["ignored"] * 4


def test_a_mail_over_the_size_limit_is_refused_with_a_system_line(make_app, smtp, imap):
    from tests.mail_fixtures import mail_config

    app = make_app(**mail_config(smtp, imap, RESPONSO_CHAT_MAIL_MAX_SIZE=30 * 1024))
    ticket_id, address = _ticket(app)
    imap.mailbox.add(_mail(address, "x" * (31 * 1024 * 1024 // 1000)))  # over 30 KB
    imap.mailbox.add(_mail(address, "A" * 100 + "\r\n" + "y" * 40_000, message_id="<big2@x>"))
    _poll(app)
    assert _bodies(app, ticket_id) == ["Hello, my parcel has not arrived."]
    assert sum("was not read" in b for b in _bodies(app, ticket_id, "system")) == 2


def test_a_30_mb_mail_is_never_downloaded_and_the_ticket_says_so(mail_app, imap):
    ticket_id, address = _ticket(mail_app)
    big = imap.mailbox.add(_mail(address, ("z" * 998 + "\r\n") * 30 * 1024, message_id="<huge@x>"))
    small = imap.mailbox.add(_mail(address, "Sorry, here it is in short.", message_id="<s@x>"))
    _poll(mail_app)
    assert big not in imap.mailbox.bodies_sent and small in imap.mailbox.bodies_sent
    assert _bodies(mail_app, ticket_id) == ["Hello, my parcel has not arrived.",
                                            "Sorry, here it is in short."]
    assert sum("was not read" in b for b in _bodies(mail_app, ticket_id, "system")) == 1


def test_broken_mime_odd_charsets_and_html_become_safe_text(mail_app, imap):
    ticket_id, address = _ticket(mail_app)
    imap.mailbox.add(_mail(address, "Caf\xe9 ok".encode("latin-1").decode("latin-1"),
                           content_type="text/plain; charset=x-unknown-charset",
                           message_id="<c1@x>"))
    imap.mailbox.add(_mail(
        address, "<p>Yes <b>please</b><script>alert(1)</script></p><blockquote>old</blockquote>",
        content_type="text/html; charset=utf-8", message_id="<c2@x>"))
    imap.mailbox.add(_mail(address, "--nope\r\nbroken", message_id="<c3@x>",
                           content_type='multipart/mixed; boundary="missing"'))
    _poll(mail_app)
    bodies = _bodies(mail_app, ticket_id)[1:]
    assert bodies[0].startswith("Caf") and bodies[1] == "Yes please"
    assert len(bodies) == 3 and "<script>" not in "".join(bodies)


def test_a_different_sender_is_kept_but_marked_unverified(mail_app, imap):
    ticket_id, address = _ticket(mail_app)
    imap.mailbox.add(_mail(address, sender="someone@else.example"))
    _poll(mail_app)
    assert _bodies(mail_app, ticket_id)[-1] == "Thanks, it arrived!"
    assert any("someone@else.example" in line and "unverified" in line
               for line in _bodies(mail_app, ticket_id, "system"))


def test_a_mailbox_that_disappears_mid_poll_loses_and_duplicates_nothing(mail_app, imap):
    ticket_id, address = _ticket(mail_app)
    imap.mailbox.add(_mail(address, "First", message_id="<m1@x>"))
    imap.mailbox.add(_mail(address, "Second", message_id="<m2@x>"))
    imap.mailbox.drop_after_fetches = 3  # mail 1 read, the connection dies on mail 2
    _poll(mail_app)
    with mail_app.app_context():
        assert "socket error" in mail_status().last_poll_error
        assert mail_status().poll_failures == 1
    imap.mailbox.drop_after_fetches = None
    with mail_app.app_context():  # the backoff would wait: act as if its time came
        plugin_state().db.session.execute(sa.text(
            "UPDATE responso_chat_setting SET value = '2000-01-01T00:00:00+00:00' "
            "WHERE key = 'mailstate_last_poll_at'"))
        plugin_state().db.session.commit()
    _poll(mail_app)
    assert _bodies(mail_app, ticket_id)[1:] == ["First", "Second"]
    with mail_app.app_context():
        assert mail_status().poll_failures == 0


def test_receive_is_the_same_path_for_a_mail_given_directly(mail_app):
    ticket_id, address = _ticket(mail_app)
    with mail_app.app_context():
        result = incoming.receive(_mail(address, QUOTED, message_id="<direct@x>"))
        again = incoming.receive(_mail(address, QUOTED, message_id="<direct@x>"))
    assert (result.outcome, result.ticket_id, again.outcome) == ("posted", ticket_id,
                                                                 "duplicate")


def test_an_email_ticket_shows_in_every_agents_inbox_as_email(mail_app):
    from tests.conftest import AuthActions

    with mail_app.app_context():
        result = incoming.receive(_mail("support@shop.test", "Do you ship to Norway?",
                                        message_id="<new@x>"))
    client = mail_app.test_client()
    AuthActions(client).login("bob@shop.test")  # an agent of no chat
    listed = client.get("/chat/inbox/").get_data(as_text=True)
    assert "Re: Where is my order?" in listed
    page = client.get(f"/chat/inbox/tickets/{result.ticket_id}").get_data(as_text=True)
    assert "<dt>Inbox</dt><dd>E-mail</dd>" in page and "Do you ship to Norway?" in page
    assert '<span class="rc-msg-flag rc-msg-source">by e-mail</span>' in page


def test_views_and_filters_know_chat_and_email_tickets(mail_app, imap):
    """The inbox's "Inbox" filter and the API's ``channel`` list e-mail tickets apart from
    chat tickets; a bad value is refused."""
    from responso_chat.integrations import api_tokens
    from tests.conftest import AuthActions
    from tests.test_api import Caller

    chat_ticket, _address = _ticket(mail_app)
    imap.mailbox.add(_mail("support@shop.test", message_id="<new@x>"))  # answers nothing
    _poll(mail_app)
    with mail_app.app_context():
        email_ticket = plugin_state().db.session.scalar(
            sa.select(Ticket.id).where(Ticket.channel == "email"))
        token = api_tokens.create_token("1", "test")[1]
    client = mail_app.test_client()
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    AuthActions(client).login("admin@shop.test")
    page = client.get("/chat/inbox/?channel=email").get_data(as_text=True)
    assert f'data-ticket-id="{email_ticket}"' in page
    assert f'data-ticket-id="{chat_ticket}"' not in page
    assert '<option value="email" selected>E-mail</option>' in page
    assert client.get("/chat/inbox/?channel=fax").status_code == 400
    api = Caller(client, token)
    ids = {kind: [t["id"] for t in api.get("/tickets", channel=kind).get_json()["data"]]
           for kind in ("chat", "email")}
    assert ids == {"chat": [chat_ticket], "email": [email_ticket]}
    bad = api.get("/tickets", channel="fax")
    assert bad.status_code in (400, 422) and "channel" in bad.get_json()["errors"]
