"""Canned responses in the agent's composer and a ticket's transfer, in Chromium: the customer
uses the real widget on a shop of another origin, agents the inbox."""

from __future__ import annotations

import os
import re
import tempfile

import pytest
from playwright.sync_api import expect

from responso_chat.models import CannedResponse
from tests.e2e.keys import paste
from tests.e2e.test_widget_flow import agent_opens, only_ticket_id, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SHOTS = os.environ.get("RESPONSO_CHAT_SCREENSHOTS") or tempfile.gettempdir()
NOTE = "Refund approved by the manager. "
NOTE_END = "Please send the return label."


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name))


def login(new_page, url, email):
    page = new_page(viewport={"width": 1280, "height": 860})
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially(email)
    page.get_by_label("Password").press_sequentially("secret-pass")
    page.get_by_role("button", name="Log in").click()
    return page


def chat_answered_by_alice(shop, new_page, app):
    """Zoe starts a chat in the widget and Alice opens it: ``(customer page, the widget's
    conversation, ticket id, Alice's page)``."""
    customer = new_page()
    customer.goto(shop.url + "/products/linen")
    start_chat(customer)
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    ticket_id = only_ticket_id(app)
    alice = agent_opens(new_page, shop.plugin.url, ticket_id)
    expect(log.get_by_text("Alice Agent joined the chat")).to_be_visible()
    return customer, log, ticket_id, alice


def test_an_agent_inserts_a_canned_response_and_fills_its_gap(shop, new_page, app):
    shop.use(agent_ids=("2",))
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.add(CannedResponse(
            title="Welcome", shortcut="welcome", body="Welcome to {{ chat_name }}!"
        ))
        state.db.session.commit()
    customer, log, ticket_id, agent = chat_answered_by_alice(shop, new_page, app)

    # Alice saves her own response on the page; a shortcut with a space is refused there.
    agent.get_by_role("link", name="Canned responses").click()
    agent.get_by_role("link", name="New canned response").click()
    agent.get_by_label("Title").press_sequentially("Order number")
    agent.get_by_label("Shortcut").press_sequentially("where order")
    body = agent.get_by_label("Response", exact=True)
    body.press_sequentially("Hi {{ customer_name }}, ")
    paste(body, "your order number is {{ order_number }}")
    expect(body).to_have_value("Hi {{ customer_name }}, your order number is {{ order_number }}")
    agent.get_by_role("button", name="Create").click()
    shortcut = agent.get_by_label("Shortcut")
    expect(shortcut).to_have_accessible_description(re.compile("letters, digits and dashes"))
    shot(agent, "canned-form-error.png")
    shortcut.press("Control+A")
    shortcut.press_sequentially("where-order")
    agent.get_by_role("button", name="Create").click()
    expect(agent.get_by_role("cell", name="/where-order", exact=True)).to_be_visible()
    expect(agent.get_by_role("cell", name="Only you")).to_be_visible()
    shot(agent, "canned-list.png")

    # In the reply box: "/w" lists both; Escape closes; arrows choose, Enter inserts.
    agent.goto(f"{shop.plugin.url}/chat/inbox/tickets/{ticket_id}")
    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("/w")
    suggestions = agent.get_by_role("listbox", name="Canned responses")
    expect(suggestions.get_by_role("option")).to_have_count(2)
    expect(suggestions.get_by_role("option").first).to_contain_text("/where-order")
    reply.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(reply).to_have_value("/w")
    reply.press("Backspace")
    reply.press_sequentially("wh")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    reply.press("Backspace")
    expect(suggestions.get_by_role("option")).to_have_count(2)
    reply.press("ArrowDown")
    expect(suggestions.get_by_role("option", selected=True)).to_contain_text("/welcome")
    shot(agent, "canned-suggestions.png")
    expect(reply).to_have_attribute("aria-activedescendant", "rc-canned-option-1")
    reply.press("ArrowUp")
    expect(suggestions.get_by_role("option", selected=True)).to_contain_text("/where-order")
    reply.press("Enter")
    expect(reply).to_have_value("Hi Zoe Customer, your order number is {{order_number}}")
    preview = agent.get_by_role("region", name="Preview: what Zoe Customer will get")
    expect(preview).to_contain_text("Hi Zoe Customer, your order number is {{order_number}}")
    expect(preview.get_by_role("alert")).to_contain_text(
        "Missing: {{order_number}} — the number of the customer's last order (from Base)."
    )
    shot(agent, "canned-preview-missing.png")

    # Sent as it is, it is refused: the gap is never sent blank.
    reply.press("Enter")
    expect(agent.locator("#rc-composer-error")).to_contain_text("Replace {{order_number}}")
    expect(reply).to_have_value("Hi Zoe Customer, your order number is {{order_number}}")
    reply.press("Control+End")
    for _ in "{{order_number}}":
        reply.press("Backspace")
    reply.press_sequentially("1042.")
    expect(preview.get_by_role("alert")).to_be_hidden()
    expect(agent.locator("#rc-composer-error")).to_have_text("")
    paste(reply, " Thanks for waiting!")
    expect(preview).to_contain_text("your order number is 1042. Thanks for waiting!")
    shot(agent, "canned-preview-filled.png")
    reply.press("Enter")
    expect(log.get_by_text("Hi Zoe Customer, your order number is 1042. Thanks for waiting!")
           ).to_be_visible()
    expect(preview).to_be_hidden()
    shot(customer, "canned-widget.png")

    # A click on a suggestion inserts it too.
    reply.press_sequentially("/wel")
    suggestions.get_by_role("option", name=re.compile("welcome")).click()
    expect(reply).to_have_value("Welcome to Store chat!")
    reply.press("Enter")
    expect(log.get_by_text("Welcome to Store chat!")).to_be_visible()


def test_a_transfer_tells_the_new_agent_and_never_shows_the_note_to_the_customer(
    shop, new_page, app
):
    shop.use(agent_ids=("2", "3"))
    customer, log, ticket_id, alice = chat_answered_by_alice(shop, new_page, app)
    bob = login(new_page, shop.plugin.url, "bob@shop.test")
    bob.goto(shop.plugin.url + "/chat/inbox/")
    expect(bob.get_by_role("heading", name="Pick a conversation")).to_be_visible()

    alice.keyboard.press("t")  # the shortcut opens "Transfer" at its list
    target = alice.get_by_label("Transfer to")
    expect(target).to_be_focused()
    alice.get_by_role("button", name="Transfer ticket").click()
    expect(alice.get_by_role("alert").filter(has_text="Choose an agent or a team")
           ).to_be_visible()
    expect(target).to_have_attribute("aria-invalid", "true")
    shot(alice, "transfer-error.png")
    target.select_option(label="Bob Other")
    note = alice.get_by_label("Note for the agents")
    note.press_sequentially(NOTE)
    paste(note, NOTE_END)
    expect(note).to_have_value(NOTE + NOTE_END)
    shot(alice, "transfer-form.png")
    alice.get_by_role("button", name="Transfer ticket").click()

    toast = bob.get_by_role("status").filter(has_text="transferred ticket")
    expect(toast).to_contain_text(
        f"Alice Agent transferred ticket #{ticket_id} to you: {NOTE}{NOTE_END}"
    )
    shot(bob, "transfer-toast.png")
    expect(log.get_by_text("Bob Other joined the chat")).to_be_visible()
    expect(customer.get_by_role("dialog")).not_to_contain_text("Refund approved")
    shot(customer, "transfer-widget.png")
    alice_log = alice.get_by_role("list", name="Conversation")
    expect(alice_log.get_by_text("Alice Agent transferred the ticket to Bob Other")).to_be_visible()
    expect(alice.get_by_label("Assigned agent")).to_have_value("3")

    toast.get_by_role("link", name="Open").click()
    bob_log = bob.get_by_role("list", name="Conversation")
    expect(bob_log.get_by_text(NOTE + NOTE_END)).to_be_visible()
    expect(bob_log.locator(".rc-msg-internal").filter(has_text=NOTE_END)).to_contain_text(
        "Internal note"
    )
    shot(bob, "transfer-ticket-bob.png")
    customer.reload()
    expect(log.get_by_text("Bob Other joined the chat")).to_have_count(1)
    expect(customer.get_by_role("dialog")).not_to_contain_text("Refund approved")
