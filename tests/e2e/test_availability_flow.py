"""In Chromium: the widget says who is online and how soon the chat replies; an agent who
sets themselves away disappears from it, and a chat that closes without agents shows its
out-of-hours message."""

from __future__ import annotations

import os
import time

import pytest
from playwright.sync_api import expect

from responso_chat.conversation import availability
from tests.e2e.test_inbox_flow import _login
from tests.e2e.test_widget_flow import SHOTS, launcher

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def wait_until_connected(app, agent_id="2", connected=True):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.app_context():
            if (agent_id in availability.connected_agent_ids()) == connected:
                return
        time.sleep(0.05)
    raise AssertionError("the agent's inbox socket did not connect")


def customer_opens(new_page, shop):
    customer = new_page(viewport={"width": 1000, "height": 720})  # a fresh context: no cache
    customer.goto(shop.url + "/")
    launcher(customer).click()
    return customer


def test_the_widget_shows_who_is_online_and_follows_the_agents(shop, new_page, app):
    shop.use(agent_ids=("2",), closed_without_agents=True,
             out_of_hours_message="Nobody is here right now. Leave us a message.")
    agent = new_page(viewport={"width": 1280, "height": 800})
    _login(agent, shop.plugin.url, "alice@shop.test")
    agent.goto(shop.plugin.url + "/chat/inbox/")
    wait_until_connected(app)

    customer = customer_opens(new_page, shop)
    expect(customer.get_by_text("Alice online")).to_be_visible()
    expect(customer.get_by_text("Nobody is here right now")).to_be_hidden()
    expect(customer.get_by_text("alice@shop.test")).to_have_count(0)
    customer.screenshot(path=os.path.join(SHOTS, "widget-agents-online.png"))

    status = agent.get_by_label("My status")
    expect(status).to_have_value("online")
    status.focus()
    agent.keyboard.press("ArrowDown")  # Away, applied once picked
    expect(status).to_have_value("away")
    agent.screenshot(path=os.path.join(SHOTS, "inbox-my-status.png"))
    deadline = time.monotonic() + 10
    while availability_of(app) != "away" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert availability_of(app) == "away"

    later = customer_opens(new_page, shop)
    expect(later.get_by_text("Nobody is here right now. Leave us a message.")).to_be_visible()
    expect(later.get_by_text("Alice online")).to_have_count(0)
    # the notice above the form never pushes Start chat out of sight
    expect(later.get_by_role("button", name="Start chat")).to_be_in_viewport()
    later.screenshot(path=os.path.join(SHOTS, "widget-no-agent-online.png"))
    agent.reload()
    expect(agent.get_by_label("My status")).to_have_value("away")  # kept


def availability_of(app, agent_id="2"):
    with app.app_context():
        return availability.chosen(agent_id)
