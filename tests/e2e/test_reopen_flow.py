"""In Chromium: a closed ticket gets a message. The customer writes again and reopens it; an
agent's reply reopens it after the inbox asked ("Reopen and send"); the widget never shows a
reply above "This conversation has ended"; past the reopen window it offers a new chat."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from responso_chat.conversation import ticket_changes
from responso_chat.models import Ticket, utcnow
from responso_chat.users import agents_by_id
from tests.e2e.test_widget_flow import (
    DEV_SERVER_SOCKET_CLOSE,
    SHOTS,
    agent_opens,
    only_ticket_id,
    start_chat,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def close(app, ticket_id, long_ago=False):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        ticket_changes.set_status(ticket, "closed", agents_by_id()["2"])
        if long_ago:
            ticket.ended_at = utcnow() - timedelta(days=30)
            state.db.session.commit()


def status_of(app, ticket_id):
    with app.app_context():
        return app.extensions["responso_chat"].db.session.get(Ticket, ticket_id).status


def test_customer_writes_again_and_agent_reopens_after_being_asked(shop, new_page, app):
    shop.use(agent_ids=("2",))
    customer = new_page(viewport={"width": 1000, "height": 760})
    customer.goto(shop.url + "/")
    start_chat(customer)
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    ticket_id = only_ticket_id(app)
    agent = agent_opens(new_page, shop.plugin.url, ticket_id)
    expect(log.get_by_text("Alice Agent joined the chat")).to_be_visible()

    close(app, ticket_id)
    ended = customer.get_by_text("This conversation has ended. Write below if you need")
    expect(ended).to_be_visible()
    box = customer.get_by_label("Your message")
    expect(box).to_be_visible()  # writing again is still possible
    customer.screenshot(path=os.path.join(SHOTS, "widget-ended-reopenable.png"))
    box.press_sequentially("Sorry, one more question about the invoice")
    box.press("Enter")
    expect(log.get_by_text("one more question about the invoice")).to_be_visible()
    expect(ended).to_be_hidden()
    expect(agent.locator("#rc-conv-status")).to_have_text("open")
    conversation = agent.get_by_role("list", name="Conversation")
    expect(conversation.get_by_text("The customer wrote again")).to_be_visible()
    assert status_of(app, ticket_id) == "open"

    # The agent closes it, then replies: asked first, the reply goes out only when confirmed.
    agent.get_by_role("complementary", name="Ticket details") \
        .get_by_role("button", name="Close ticket").click()
    expect(ended).to_be_visible()
    send = agent.get_by_role("button", name="Reopen and send")
    expect(send).to_be_visible()
    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("The invoice is attached to your order page.")
    reply.press("Enter")  # Enter alone only asks
    expect(agent.get_by_role("alert").filter(has_text="Reopen and send")).to_be_visible()
    expect(send).to_be_focused()
    agent.screenshot(path=os.path.join(SHOTS, "inbox-reopen-and-send.png"))
    assert status_of(app, ticket_id) == "closed"
    expect(reply).to_have_value("The invoice is attached to your order page.")
    send.click()
    expect(conversation.get_by_text("Alice Agent reopened the ticket with a reply")).to_be_visible()
    expect(agent.get_by_role("button", name="Send", exact=True)).to_be_visible()
    answer = log.get_by_text("The invoice is attached to your order page.")
    expect(answer).to_be_visible()
    expect(ended).to_be_hidden()  # never a reply above "This conversation has ended"
    expect(customer.get_by_label("Your message")).to_be_visible()
    customer.screenshot(path=os.path.join(SHOTS, "widget-reopened-by-reply.png"))
    assert status_of(app, ticket_id) == "open"

    # A note on a closed ticket leaves it closed.
    agent.get_by_role("complementary", name="Ticket details") \
        .get_by_role("button", name="Close ticket").click()
    expect(agent.locator("#rc-conv-status")).to_have_text("closed")
    agent.get_by_label("Internal note (only agents see it)").check()
    expect(agent.get_by_role("button", name="Send", exact=True)).to_be_visible()
    reply.press_sequentially("Customer happy, invoice sent")
    reply.press("Enter")
    expect(conversation.get_by_text("Customer happy, invoice sent")).to_be_visible()
    assert status_of(app, ticket_id) == "closed"


def test_past_the_reopen_window_the_widget_offers_a_new_chat(shop, new_page, app):
    shop.use(agent_ids=("2",))
    new_page.allow_console(DEV_SERVER_SOCKET_CLOSE)  # "Start a new chat" closes the socket
    customer = new_page()
    customer.goto(shop.url + "/")
    start_chat(customer)
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    close(app, only_ticket_id(app), long_ago=True)
    customer.reload()  # the panel stays open over a reload
    expect(customer.get_by_text("This conversation has ended.", exact=True)).to_be_visible()
    expect(customer.get_by_label("Your message")).to_be_hidden()
    customer.screenshot(path=os.path.join(SHOTS, "widget-ended-for-good.png"))
    customer.get_by_role("button", name="Start a new chat").click()
    expect(customer.get_by_label("Name")).to_have_value("Zoe Customer")
