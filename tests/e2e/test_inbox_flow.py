"""An agent answers a chat in the inbox while the customer's browser holds the conversation.

The customer's side is a visitor websocket opened in a second browser page, exactly as the
widget does (signed visitor token, the conversation's events in, ``send``/``typing``/``seen``
frames out).
"""

from __future__ import annotations

import os
import re
import tempfile

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from responso_chat.conversation import ticket_changes
from responso_chat.conversation.visitor import issue_token
from responso_chat.infra.broker import INBOX_CHANNEL
from responso_chat.models import Chat, Contact, Task, Ticket, ticket_details
from responso_chat.users import Agent
from tests.e2e.keys import paste, retype
from tests.factories import make_chat, make_ticket
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SHOTS = os.environ.get("RESPONSO_CHAT_SCREENSHOTS") or tempfile.gettempdir()

CUSTOMER_JS = """
([url, token]) => new Promise((resolve, reject) => {
  window.events = [];
  const socket = new WebSocket(url.replace(/^http/, "ws") + "/chat/ws/visitor",
                                ["responso-chat", token]);
  socket.onmessage = (message) => window.events.push(JSON.parse(message.data));
  socket.onopen = () => { window.customer = socket; resolve(); };
  socket.onerror = () => reject(new Error("visitor socket refused"));
})
"""


def _login(page, base_url, email):
    page.goto(base_url + "/login")
    page.get_by_label("E-mail").press_sequentially(email)
    page.get_by_label("Password").press_sequentially("secret-pass")
    page.get_by_role("button", name="Log in").click()


def _customer_saw(page, predicate_js):
    page.wait_for_function(f"() => window.events.some(e => {predicate_js})", timeout=5000)


def test_agent_answers_a_chat_and_works_the_ticket(app, live_server, new_page):
    with app.app_context():
        chat = make_chat("Store chat", agent_ids=("2",))
        ticket = make_ticket(chat, "Where is my order?", message="Hello, my parcel is late.")
        ticket_id, token = ticket.id, issue_token(ticket)
    server = live_server(app)

    customer = new_page()
    customer.goto(server.url + "/")
    customer.evaluate(CUSTOMER_JS, [server.url, token])
    _customer_saw(customer, "e.type === 'message' && e.seq === 1")

    agent = new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
    _login(agent, server.url, "alice@shop.test")
    agent.goto(server.url + "/chat/inbox/")
    agent.get_by_role("link", name=re.compile("Where is my order")).click()
    expect(agent.get_by_role("heading", name="Where is my order?")).to_be_visible()
    conversation = agent.get_by_role("list", name="Conversation")
    expect(conversation.get_by_text("Alice Agent joined the chat")).to_be_visible()
    _customer_saw(customer, "e.type === 'agent_joined' && e.name === 'Alice Agent'")
    _customer_saw(customer, "e.type === 'message' && e.body === 'Alice Agent joined the chat'")
    expect(agent.locator("#rc-presence")).to_have_text("customer online")

    # They exchange messages: Enter sends, Shift+Enter breaks the line.
    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("Hello Zoe!")
    reply.press("Shift+Enter")
    reply.press_sequentially("Let me check your parcel.")
    reply.press("Enter")
    _customer_saw(
        customer, "e.type === 'message' && e.body === 'Hello Zoe!\\nLet me check your parcel.'"
    )
    sent = conversation.locator(".rc-msg-agent").last
    expect(sent.locator(".rc-msg-state")).to_have_text("Sent")
    expect(reply).to_have_value("")

    customer.evaluate("window.customer.send(JSON.stringify({type: 'typing', typing: true}))")
    expect(agent.locator("#rc-typing")).to_have_text("Zoe Customer is typing…")
    customer.evaluate(
        "window.customer.send(JSON.stringify({type: 'send', body: 'Thanks, it is order 1042',"
        " client_msg_id: 'v-1'}))"
    )
    expect(conversation.get_by_text("Thanks, it is order 1042")).to_be_visible()
    expect(agent.locator("#rc-typing")).to_have_text("")
    seq = customer.evaluate(
        "Math.max(...window.events.filter(e => e.type === 'message').map(e => e.seq))"
    )
    customer.evaluate(f"window.customer.send(JSON.stringify({{type: 'seen', seq: {seq}}}))")
    expect(sent.locator(".rc-msg-state")).to_have_text("Seen")
    customer.evaluate(
        "window.customer.send(JSON.stringify({type: 'page', url: 'https://shop.test/cart',"
        " title: 'Your cart'}))"
    )
    panel = agent.get_by_role("complementary", name="Ticket details")
    expect(panel.get_by_role("link", name="Your cart")).to_be_visible()

    # An internal note stays with the agents.
    agent.get_by_label("Internal note (only agents see it)").check()
    reply.press_sequentially("Courier says ")
    paste(reply, "Tuesday")
    expect(reply).to_have_value("Courier says Tuesday")
    reply.press("Enter")
    note = conversation.locator(".rc-msg-internal", has_text="Courier says Tuesday")
    expect(note).to_be_visible()
    agent.get_by_label("Internal note (only agents see it)").uncheck()
    agent.screenshot(path=os.path.join(SHOTS, "rc-inbox-ticket.png"))

    # Tag it (the tag box offers existing tags), set the priority.
    panel.get_by_label("Add a tag").press_sequentially("VIP")
    panel.get_by_role("button", name="Add tag").click()
    expect(panel.get_by_role("button", name="Remove tag vip")).to_be_visible()
    expect(conversation.get_by_text("Alice Agent added tag vip")).to_be_visible()
    # Alice starts another tag; Ada tags the ticket meanwhile: the panel refreshes live and
    # keeps what Alice typed and has not added yet.
    panel.get_by_label("Add a tag").press_sequentially("fragi")
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket_changes.add_tag(ticket, "rush", Agent("1", "Ada Admin", "admin@shop.test"))
    expect(panel.get_by_role("button", name="Remove tag rush")).to_be_visible()
    expect(panel.get_by_label("Add a tag")).to_have_value("fragi")
    retype(panel.get_by_label("Add a tag"), "")
    # A priority picked applies at once.
    panel.get_by_label("Priority").select_option("high")
    expect(conversation.get_by_text("Alice Agent set priority to high")).to_be_visible()
    expect(agent.get_by_role("status").filter(has_text="Priority: high · saved")).to_be_visible()
    expect(agent.locator("#rc-list .rc-priority-high")).to_be_visible()  # the list is live

    # Create a task from the "…" menu.
    agent.locator("summary", has_text="More actions").click()
    agent.locator(".rc-menu").get_by_role("link", name="Create task linked to this ticket").click()
    agent.get_by_label("Title").press_sequentially("Call the ")
    paste(agent.get_by_label("Title"), "courier")
    agent.get_by_label("Due date").press_sequentially("05012030")  # mm/dd/yyyy in en-US
    agent.get_by_role("button", name="Create task").click()
    panel = agent.get_by_role("complementary", name="Ticket details")
    expect(panel.get_by_text("Call the courier")).to_be_visible()
    conversation = agent.get_by_role("list", name="Conversation")
    expect(conversation.get_by_text(re.compile("Alice Agent created task #\\d+"))).to_be_visible()

    # Quick actions: add the contact, disable the next auto-responder, close the ticket.
    panel.get_by_role("button", name="Add sender to contacts").click()
    expect(panel.get_by_role("link", name="In contacts")).to_be_visible()
    panel.get_by_role("button", name="Disable next auto-responder").click()
    expect(panel.get_by_text("The next auto-responder is disabled.")).to_be_visible()
    panel.get_by_role("button", name="Close ticket").click()
    expect(agent.locator("#rc-conv-status")).to_have_text("closed")
    _customer_saw(customer, "e.type === 'status' && e.status === 'closed'")
    expect(conversation.get_by_text("Alice Agent set status to closed")).to_be_visible()
    expect(agent.locator('.rc-count[data-view="closed"]')).to_have_text("1")
    agent.screenshot(path=os.path.join(SHOTS, "rc-inbox-ticket-closed.png"))

    customer_bodies = customer.evaluate(
        "window.events.filter(e => e.type === 'message').map(e => e.body)"
    )
    assert "Courier says Tuesday" not in customer_bodies
    assert not any(body.startswith("Alice Agent set") for body in customer_bodies)

    with app.app_context():
        state = app.extensions["responso_chat"]
        saved = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        assert (saved.status, saved.priority, saved.assignee_id) == ("closed", "high", "2")
        assert [tag.name for tag in saved.tags] == ["rush", "vip"]
        assert saved.disable_next_autoresponder is True
        contact = state.db.session.execute(sa.select(Contact)).scalar_one()
        assert contact.email == "zoe@example.com"
        task = state.db.session.execute(sa.select(Task)).scalar_one()
        assert (task.title, task.ticket_id, task.assignee_id, str(task.due_date)) == (
            "Call the courier", ticket_id, "2", "2030-05-01"
        )

    agent.locator("summary", has_text="More actions").click()
    agent.locator(".rc-menu").get_by_role("link", name="View projects").click()
    paste(agent.get_by_label("Name"), "Courier")
    agent.get_by_label("Name").press_sequentially(" issues")
    agent.get_by_role("button", name="Create project").click()
    expect(agent.get_by_role("heading", name=re.compile("Courier issues"))).to_be_visible()
    for name in ("tasks", "projects", "contacts"):
        agent.goto(f"{server.url}/chat/inbox/{name}")
        agent.screenshot(path=os.path.join(SHOTS, f"rc-inbox-{name}.png"), full_page=True)
    agent.get_by_role("link", name="Zoe Customer").click()
    expect(agent.get_by_role("link", name="Where is my order?")).to_be_visible()
    agent.screenshot(path=os.path.join(SHOTS, "rc-inbox-contact.png"), full_page=True)


NOTIFICATION_SPY = """
window.shown = [];
window.Notification = function (title, options) { window.shown.push([title, options.body]); };
window.Notification.permission = "granted";
window.Notification.requestPermission = () => Promise.resolve("granted");
"""


def test_new_chats_and_watched_tickets_show_up_live(app, live_server, new_page):
    from responso_chat.conversation import messages, ticket_changes
    from responso_chat.users import Agent

    with app.app_context():
        chat = make_chat("Store chat", agent_ids=("2",))
        watched = make_ticket(chat, "Watched one")
        ticket_changes.add_watcher(watched, "2", Agent("2", "Alice Agent", "alice@shop.test"))
        chat_id, watched_id = chat.id, watched.id
    server = live_server(app)
    agent = new_page(viewport={"width": 1280, "height": 800})
    agent.add_init_script(NOTIFICATION_SPY)
    _login(agent, server.url, "alice@shop.test")
    agent.goto(server.url + "/chat/inbox/?view=to_handle")
    toggle = agent.get_by_label("Sound and browser notification for new chats")
    expect(toggle).not_to_be_checked()  # off by default
    toggle.check()
    broker = app.extensions["responso_chat"].broker
    listening = lambda: set(broker._listeners.get(INBOX_CHANNEL, ()))  # noqa: E731
    before = wait_until(listening, what="the page's inbox subscription")
    agent.reload()
    expect(toggle).to_be_checked()  # remembered in this browser
    wait_until(lambda: listening() - before, what="the reloaded page's inbox subscription")
    with app.app_context():
        state = app.extensions["responso_chat"]
        make_ticket(state.db.session.get(Chat, chat_id), "Brand new question",
                    name="Nora New")
    expect(agent.get_by_role("link", name=re.compile("Brand new question"))).to_be_visible()
    expect(agent.locator('.rc-count[data-view="to_handle"]')).to_have_text("2")
    agent.wait_for_function("window.shown.length === 1")
    assert agent.evaluate("window.shown") == [["New chat: Nora New", "Brand new question"]]
    agent.screenshot(path=os.path.join(SHOTS, "rc-inbox-list.png"))

    with app.app_context():
        state = app.extensions["responso_chat"]
        messages.post_customer_message(
            state.db.session.get(Ticket, watched_id, options=ticket_details()), "Any news?"
        )
    toast = agent.get_by_role("status").get_by_text(
        f"New message on ticket #{watched_id}, which you watch."
    )
    expect(toast).to_be_visible()
