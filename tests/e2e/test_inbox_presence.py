"""Two agents on the same ticket see each other in the inbox ("also here")."""

from __future__ import annotations

import os
import tempfile

import pytest
from playwright.sync_api import expect

from tests.factories import make_chat, make_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

SHOTS = os.environ.get("RESPONSO_CHAT_SCREENSHOTS") or tempfile.gettempdir()


def _agent_on_ticket(new_page, base_url, email, ticket_id):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.goto(base_url + "/login")
    page.get_by_label("E-mail").press_sequentially(email)
    page.get_by_label("Password").press_sequentially("secret-pass")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base_url}/chat/inbox/tickets/{ticket_id}")
    return page


def test_agents_on_the_same_ticket_see_each_other(app, live_server, new_page):
    with app.app_context():
        chat = make_chat("Store chat", agent_ids=("2", "3"))
        ticket_id = make_ticket(chat, "Where is my order?").id
    server = live_server(app)

    alice = _agent_on_ticket(new_page, server.url, "alice@shop.test", ticket_id)
    expect(alice.locator("#rc-viewers")).to_have_text("")
    bob = _agent_on_ticket(new_page, server.url, "bob@shop.test", ticket_id)
    expect(alice.locator("#rc-viewers")).to_have_text("· also here: Bob Other")
    expect(bob.locator("#rc-viewers")).to_have_text("· also here: Alice Agent")
    alice.screenshot(path=os.path.join(SHOTS, "inbox-also-here.png"))

    bob.close()
    expect(alice.locator("#rc-viewers")).to_have_text("")
