"""In Chromium: an admin builds "Integration is <chat> and sentiment is negative → priority high
+ auto-responder", an angry customer writes, and the agent sees both in the conversation."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from markupsafe import Markup
from playwright.sync_api import expect

from responso_chat.conversation.chats import embed_snippet
from responso_chat.models import Ticket
from tests.e2e.keys import paste
from tests.factories import make_chat
from tests.hostapp import PASSWORD

ANGRY = "This is UNACCEPTABLE!! My parcel arrived broken and nobody answers."


def log_in(page, url, email):
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially(email)
    page.get_by_label("Password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def storefront(embed: dict) -> Flask:
    """A shop on its own origin whose pages carry the chat's embed code."""
    shop = Flask("angry_shop")

    @shop.get("/")
    def home():
        return Markup(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title>"
            f"</head><body><h1>Shop</h1>{embed['code']}</body></html>"
        )

    return shop


def test_admin_rule_acts_on_an_angry_customer(app, live_server, new_page):
    url = live_server(app).url
    embed = {}
    shop = live_server(storefront(embed))
    with app.app_context():
        make_chat("Outlet chat")
        embed["code"] = embed_snippet(
            make_chat("Store chat", agent_ids=("2",), allowed_origins=[shop.url]), url
        )

    admin = new_page()
    log_in(admin, url, "admin@shop.test")
    admin.goto(url + "/chat/admin/")
    admin.get_by_role("link", name="Automations").click()
    admin.get_by_role("link", name="New rule").first.click()
    admin.get_by_label("Name").press_sequentially("Angry customers")
    admin.get_by_label("Condition 1 field").select_option(label="Integration (chat)")
    admin.get_by_label("Condition 1 operator").select_option(label="is")
    admin.get_by_label("Condition 1 value").select_option(label="Store chat")
    admin.get_by_role("button", name="Add condition").click()
    expect(admin.get_by_label("Condition 2 field")).to_be_focused()
    admin.get_by_label("Condition 2 field").select_option(label="Sentiment")
    admin.get_by_label("Condition 2 value").select_option(label="Negative")
    admin.get_by_label("Action 1", exact=True).select_option(label="Send auto-responder")
    reply_text = admin.get_by_label("Action 1 text")
    reply_text.press_sequentially("Sorry ")
    paste(reply_text, "{{ customer_name }}")  # copied from the list of placeholders
    reply_text.press_sequentially(", we are on it: ticket #{{ ticket_id }} is a priority.")
    expect(reply_text).to_have_value(
        "Sorry {{ customer_name }}, we are on it: ticket #{{ ticket_id }} is a priority."
    )
    admin.get_by_role("button", name="Add action").click()
    admin.get_by_label("Action 2", exact=True).select_option(label="Set priority")
    admin.get_by_label("Action 2 value").select_option(label="High")
    admin.get_by_role("button", name="Create rule").click()
    expect(admin.get_by_role("status")).to_contain_text("Rule “Angry customers” created.")
    expect(admin.get_by_role("row", name="Angry customers")).to_contain_text(
        "Integration (chat) is Store chat and Sentiment is Negative"
    )

    # On the shop's page, the customer starts a chat in the widget with an angry message.
    customer = new_page()
    customer.goto(shop.url + "/")
    customer.get_by_role("button", name="Chat", exact=True).click()
    widget = customer.get_by_role("dialog")
    widget.get_by_label("Name").press_sequentially("Zoe Customer")
    widget.get_by_label("E-mail").press_sequentially("zoe@example.com")
    widget.get_by_label("Subject").press_sequentially("Broken parcel")
    widget.get_by_label("Message").press_sequentially(ANGRY)
    widget.get_by_role("button", name="Start chat").click()
    conversation = widget.get_by_role("log", name="Conversation")
    expect(conversation.get_by_text(ANGRY)).to_be_visible()
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket_id = state.db.session.execute(sa.select(Ticket.id)).scalar_one()

    agent = new_page()
    log_in(agent, url, "alice@shop.test")
    expected = f"Sorry Zoe Customer, we are on it: ticket #{ticket_id} is a priority."
    # The job runs in the background: reload the ticket page until it has acted.
    for _attempt in range(50):
        agent.goto(f"{url}/chat/inbox/tickets/{ticket_id}")
        if agent.get_by_text(expected).count():
            break
        agent.wait_for_timeout(100)
    expect(agent.get_by_text(expected)).to_be_visible()
    expect(agent.get_by_label("Priority", exact=True)).to_have_value("high")
    expect(agent.get_by_text("Automation Angry customers set priority to high")).to_be_visible()
    runs = agent.get_by_role("region", name="Automations")
    expect(runs).to_contain_text("Angry customers")
    expect(runs).to_contain_text("sent the auto-response")

    # The customer's conversation has the auto-response too, and no word of the priority.
    expect(conversation.get_by_text(expected)).to_be_visible()
    expect(conversation.get_by_text(re.compile("priority to high"))).to_have_count(0)
