"""In Chromium: the ticket page's side panel follows the conversation ("Last message", the
customer's mood), shows a ticket that came in out of hours, and an agent corrects the
sentiment and context of a customer's message, live ones included."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from responso_chat.conversation import messages
from responso_chat.models import Message, Ticket
from tests.e2e.test_inbox_flow import SHOTS, _login
from tests.factories import make_chat, make_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.fixture
def desk(app, live_server):
    with app.app_context():
        chat = make_chat("Store chat", agent_ids=("2",))
        ticket = make_ticket(chat, "Where is my order?", message="Hello, my parcel is late.",
                             out_of_hours=True)
        ticket_id = ticket.id
    server = live_server(app)
    server.ticket_id = ticket_id
    return server


def customer_writes(app, ticket_id, body):
    with app.app_context():
        ticket = app.extensions["responso_chat"].db.session.get(Ticket, ticket_id)
        messages.post_customer_message(ticket, body)


def stored(app, ticket_id, seq):
    with app.app_context():
        state = app.extensions["responso_chat"]
        m = state.db.session.query(Message).filter_by(ticket_id=ticket_id, seq=seq).one()
        return m.sentiment, m.context, m.analysis_corrected_by


def test_the_panel_follows_and_an_agent_corrects_the_analysis(app, desk, new_page):
    agent = new_page(viewport={"width": 1280, "height": 860})
    _login(agent, desk.url, "alice@shop.test")
    agent.goto(f"{desk.url}/chat/inbox/tickets/{desk.ticket_id}")
    panel = agent.get_by_role("complementary", name="Ticket details")
    conversation = agent.get_by_role("list", name="Conversation")
    expect(panel.get_by_text("out of hours")).to_be_visible()
    tickets = agent.get_by_role("region", name="Tickets")
    expect(tickets.get_by_role("listitem").filter(has_text="Where is my order?")
           .get_by_text("out of hours")).to_be_visible()
    expect(panel.get_by_text("by Zoe Customer (customer)")).to_be_visible()

    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("Let me check with the courier.")
    reply.press("Enter")
    expect(panel.get_by_text("by Alice Agent (agent)")).to_be_visible()  # live

    customer_writes(app, desk.ticket_id, "This is terrible, I want a refund now!")
    live = conversation.locator("li", has_text="I want a refund now")
    expect(live).to_be_visible()
    expect(panel.get_by_text("by Zoe Customer (customer)")).to_be_visible()
    expect(live.get_by_title("Sentiment")).to_have_text("Negative")  # its analysis, live
    expect(panel.get_by_text("Negative", exact=True)).to_be_visible()

    live.get_by_text("Correct the sentiment and context").click()
    live.get_by_label("Context").select_option(label="Return")
    live.get_by_label("Sentiment").focus()
    agent.keyboard.press("Home")  # "Positive", the first of the list, from the keyboard
    expect(live.get_by_label("Sentiment")).to_have_value("positive")
    agent.screenshot(path=os.path.join(SHOTS, "inbox-correct-analysis.png"))
    agent.keyboard.press("Tab")
    agent.keyboard.press("Tab")
    expect(live.get_by_role("button", name="Save correction")).to_be_focused()
    agent.keyboard.press("Enter")
    expect(live.get_by_text("corrected", exact=True)).to_be_visible()
    expect(live.get_by_title("Context")).to_have_text("Return")
    expect(panel.get_by_text("Positive", exact=True)).to_be_visible()
    agent.screenshot(path=os.path.join(SHOTS, "inbox-analysis-corrected.png"))
    assert stored(app, desk.ticket_id, 4) == ("positive", "return", "2")

    agent.reload()  # kept, and the first message's analysis is there from the start
    first = conversation.locator("li", has_text="Hello, my parcel is late.")
    expect(first.get_by_text("Correct the sentiment and context")).to_be_visible()
    expect(conversation.locator("li", has_text="I want a refund now")
           .get_by_text("corrected", exact=True)).to_be_visible()
