"""In Chromium: an agent answers a customer who left; the answer goes out by e-mail (a real SMTP
server), the customer answers that e-mail, the answer lands in the IMAP mailbox, a poll reads
it, and it appears in the agent's open ticket at once, without a reload and without its quoted
history."""

from __future__ import annotations

import os
import re
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from playwright.sync_api import expect

from responso_chat.mail import mailbox
from responso_chat.models import utcnow
from tests.e2e.keys import paste
from tests.factories import make_chat, make_ticket
from tests.hostapp import PASSWORD
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SHOTS = os.environ.get("RESPONSO_CHAT_SCREENSHOTS") or tempfile.gettempdir()


def _customer_answer(sent, body: str) -> bytes:
    """The customer's answer to ``sent`` from their mail client: the original quoted below."""
    answer = EmailMessage()
    answer["From"] = "Zoe Customer <zoe@example.com>"
    answer["To"] = str(sent["Reply-To"])
    answer["Subject"] = f"Re: {sent['Subject']}"
    answer["Date"] = format_datetime(utcnow())
    answer["Message-ID"] = make_msgid(domain="example.com")
    answer["In-Reply-To"] = answer["References"] = str(sent["Message-ID"])
    quoted = "\n".join("> " + line for line in sent.get_body(("plain",)).get_content().split("\n"))
    answer.set_content(f"{body}\n\nOn Monday, Shop support wrote:\n{quoted}\n")
    return answer.as_bytes()


def test_a_customers_email_answer_appears_live_in_the_agents_open_ticket(
        mail_app, smtp, imap, live_server, new_page):
    with mail_app.app_context():
        ticket_id = make_ticket(make_chat(), "Where is my parcel?").id
    url = live_server(mail_app).url

    agent = new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
    agent.goto(url + "/login")
    agent.get_by_label("E-mail").press_sequentially("alice@shop.test")
    agent.get_by_label("Password").press_sequentially(PASSWORD)
    agent.get_by_role("button", name="Log in").click()
    agent.goto(url + "/chat/inbox/")
    agent.get_by_role("link", name=re.compile("Where is my parcel")).click()
    expect(agent.get_by_role("heading", name="Where is my parcel?")).to_be_visible()
    conversation = agent.get_by_role("list", name="Conversation")
    expect(conversation.get_by_text("Alice Agent joined the chat")).to_be_visible()
    loads = []
    agent.on("load", lambda page: loads.append(page.url))

    # The customer closed the tab long ago: the answer goes out by e-mail.
    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("Your parcel left ")
    paste(reply, "our warehouse today.")
    expect(reply).to_have_value("Your parcel left our warehouse today.")
    reply.press("Enter")
    expect(conversation.get_by_text("Your parcel left our warehouse today.")).to_be_visible()
    to, sent = wait_until(lambda: next(iter(smtp.messages), None), what="the e-mail sent")
    assert to == ["zoe@example.com"]
    assert "Your parcel left our warehouse today." in sent.get_body(("plain",)).get_content()
    mine = conversation.locator(".rc-msg-agent", has_text="Your parcel left our warehouse today.")
    expect(mine.get_by_text("E-mailed", exact=True)).to_be_visible()  # told live, no reload

    # Her answer arrives in the mailbox; the periodic poll reads it.
    imap.mailbox.add(_customer_answer(sent, "Thank you, it just arrived!"))
    with mail_app.app_context():
        assert mailbox.poll_mailbox() == 1

    answer = conversation.locator(".rc-msg-customer", has_text="Thank you, it just arrived!")
    expect(answer).to_be_visible()
    expect(answer).not_to_contain_text("wrote:")
    expect(answer.get_by_text("by e-mail", exact=True)).to_be_visible()
    expect(conversation.get_by_text("Your parcel left our warehouse today.")).to_have_count(1)
    assert loads == [], "the ticket page was reloaded"
    assert imap.mailbox.folders["INBOX"][0].flags == {"\\Seen"}
    agent.screenshot(path=os.path.join(SHOTS, "rc-inbox-mail-answer.png"))
    assert str(ticket_id) in agent.url
