"""In Chromium: an agent works tickets from the keyboard and from the top of the side panel,
and keeps a reply not sent yet over a reload; without JS the panel's Set buttons still work."""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from responso_chat.models import Ticket
from tests.e2e.keys import paste
from tests.e2e.test_inbox_flow import SHOTS, _login
from tests.factories import make_chat, make_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.fixture
def desk(app, live_server):
    """Two chat tickets Alice may answer, and the plugin served live."""
    with app.app_context():
        chat = make_chat("Store chat", agent_ids=("2",))
        first = make_ticket(chat, "Where is my order?", message="Hello, my parcel is late.")
        second = make_ticket(chat, "Wrong size", name="Olga Buyer", email="olga@example.com",
                             message="The shirt is too small.")
        ids = (first.id, second.id)
    server = live_server(app)
    server.ticket_ids = ids
    return server


def saved(app, ticket_id):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        return ticket.status, ticket.assignee_id


def test_an_agent_works_a_ticket_from_the_keyboard(app, desk, new_page):
    first, second = desk.ticket_ids
    agent = new_page(viewport={"width": 1280, "height": 800})
    _login(agent, desk.url, "alice@shop.test")
    agent.goto(f"{desk.url}/chat/inbox/tickets/{first}")
    panel = agent.get_by_role("complementary", name="Ticket details")
    conversation = agent.get_by_role("list", name="Conversation")
    # The frequent actions come first: no scrolling to close or to change the status.
    expect(panel.get_by_role("button", name="Close ticket")).to_be_in_viewport()
    expect(panel.get_by_label("Status")).to_be_in_viewport()
    expect(panel.get_by_label("Assigned agent")).to_be_in_viewport()
    expect(panel.get_by_role("button", name="Set")).to_have_count(0)  # lists apply at once
    agent.screenshot(path=os.path.join(SHOTS, "inbox-panel-top.png"))

    agent.keyboard.press("?")
    shortcuts = agent.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(shortcuts.get_by_text("Close the ticket")).to_be_visible()
    agent.screenshot(path=os.path.join(SHOTS, "inbox-shortcuts.png"))
    agent.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    agent.get_by_role("button", name="Keyboard shortcuts").click()  # the same list, by mouse
    expect(shortcuts).to_be_visible()
    shortcuts.get_by_role("button", name="Close").click()
    expect(shortcuts).to_be_hidden()

    # S: the status list; a letter typed there picks a status, it runs no shortcut.
    agent.keyboard.press("s")
    status = panel.get_by_label("Status")
    expect(status).to_be_focused()
    agent.keyboard.press("p")
    expect(conversation.get_by_text("Alice Agent set status to pending")).to_be_visible()
    expect(agent.get_by_role("status").filter(has_text="Status: pending · saved")).to_be_visible()
    assert saved(app, first)[0] == "pending"

    # R: the reply box; typing there (c, s, r, j...) runs no shortcut; Esc leaves the box.
    agent.get_by_role("heading", name="Where is my order?").click()
    agent.keyboard.press("r")
    reply = agent.get_by_label("Reply to Zoe Customer")
    expect(reply).to_be_focused()
    agent.keyboard.type("Sorry, it seems lost; closing this one as resent.")
    expect(reply).to_have_value("Sorry, it seems lost; closing this one as resent.")
    agent.keyboard.press("Enter")
    expect(conversation.get_by_text("closing this one as resent.")).to_be_visible()
    assert saved(app, first)[0] == "pending"  # typing "c" in the box closed nothing
    agent.keyboard.press("Escape")
    expect(reply).not_to_be_focused()

    # C closes the ticket; J goes to the next one in the list, K back.
    agent.keyboard.press("c")
    expect(agent.locator("#rc-conv-status")).to_have_text("closed")
    assert saved(app, first)[0] == "closed"
    rows = agent.get_by_role("region", name="Tickets").get_by_role("link", name=re.compile("#"))
    expect(rows.first).to_contain_text("Where is my order? #1 closed")  # the list is live
    agent.keyboard.press("j")
    expect(agent.get_by_role("heading", name="Wrong size")).to_be_visible()
    # the new page's script is running (it shows this button) before K is pressed
    expect(agent.get_by_role("button", name="Keyboard shortcuts")).to_be_visible()
    agent.keyboard.press("k")
    expect(agent.get_by_role("heading", name="Where is my order?")).to_be_visible()
    # the page's script is running (it shows this button) before the next key is pressed
    expect(agent.get_by_role("button", name="Keyboard shortcuts")).to_be_visible()

    # A: the assignee list; M assigns the ticket back to me.
    agent.keyboard.press("a")
    assignee = agent.get_by_role("complementary", name="Ticket details").get_by_label(
        "Assigned agent")
    expect(assignee).to_be_focused()
    assignee.select_option(label="Nobody")
    expect(agent.get_by_role("status").filter(
        has_text="Assigned agent: Nobody · saved")).to_be_visible()
    assert saved(app, first)[1] is None
    agent.get_by_role("heading", name="Where is my order?").click()
    agent.keyboard.press("m")
    expect(agent.get_by_role("status").filter(
        has_text="Assigned agent: Alice Agent (me) · saved")).to_be_visible()
    assert saved(app, first)[1] == "2"

    # /: the search box; typing there runs nothing either.
    agent.keyboard.press("/")
    search = agent.get_by_label("Search tickets")
    expect(search).to_be_focused()
    agent.keyboard.type("size")
    expect(search).to_have_value("size")
    expect(search).to_have_attribute("placeholder", "Search tickets and messages")


def test_a_reply_not_sent_survives_a_reload(app, desk, new_page):
    first, _second = desk.ticket_ids
    agent = new_page()
    _login(agent, desk.url, "alice@shop.test")
    agent.goto(f"{desk.url}/chat/inbox/tickets/{first}")
    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("Your parcel is at the ")
    paste(reply, "Warsaw depot")
    agent.reload()
    reply = agent.get_by_label("Reply to Zoe Customer")
    expect(reply).to_have_value("Your parcel is at the Warsaw depot")
    reply.press("End")
    reply.press_sequentially(".")
    reply.press("Enter")
    expect(agent.get_by_role("list", name="Conversation").get_by_text(
        "Your parcel is at the Warsaw depot.")).to_be_visible()
    expect(reply).to_have_value("")
    agent.reload()
    expect(agent.get_by_label("Reply to Zoe Customer")).to_have_value("")


def test_without_javascript_the_set_buttons_apply_the_lists(app, desk, new_page):
    first, _second = desk.ticket_ids
    agent = new_page(java_script_enabled=False)
    _login(agent, desk.url, "alice@shop.test")
    agent.goto(f"{desk.url}/chat/inbox/tickets/{first}")
    panel = agent.get_by_role("complementary", name="Ticket details")
    status_form = panel.locator("form", has=agent.locator("#rc-status"))
    panel.get_by_label("Status").select_option("pending")
    status_form.get_by_role("button", name="Set").click()
    expect(agent.get_by_role("complementary", name="Ticket details").get_by_label(
        "Status")).to_have_value("pending")
    assert saved(app, first)[0] == "pending"
    agent.get_by_role("complementary", name="Ticket details").get_by_role(
        "button", name="Close ticket").click()
    expect(agent.get_by_role("complementary", name="Ticket details").get_by_label(
        "Status")).to_have_value("closed")
    with app.app_context():
        state = app.extensions["responso_chat"]
        assert state.db.session.execute(
            sa.select(Ticket.status).where(Ticket.id == first)
        ).scalar_one() == "closed"
    assert re.search(r"/tickets/\d+", agent.url)
