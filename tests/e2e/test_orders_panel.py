"""In Chromium: the ticket's "Base orders" panel and the admin page "Integrations → Base",
against the Base stand-in over real HTTP."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from responso_chat.demo.base_standin import create_standin_app, serve_standin
from tests.e2e.keys import paste, retype
from tests.e2e.test_widget_flow import SHOTS
from tests.factories import make_chat, make_ticket

TOKEN = "bl-e2e-token-3b8f61d2"
ANNA = "anna.kowalska@example.com"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.fixture
def standin():
    """The Base stand-in with the demo orders; its store is the test's handle on Base."""
    wsgi = create_standin_app(TOKEN)
    server, thread, url = serve_standin(wsgi)
    wsgi.standin.url = url
    yield wsgi.standin
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def shop(make_app, live_server, standin):
    """The host shop served live, with a chat of Alice's and a ticket from Anna."""
    app = make_app(RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)
    with app.app_context():
        ticket_id = make_ticket(make_chat(), subject="Where is my scarf?", email=ANNA).id
    app.extensions["responso_chat"].jobs.join()  # the new ticket's order sync
    return live_server(app).url, ticket_id


def log_in(page, url, email):
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially(email)
    page.get_by_label("Password").press_sequentially("secret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def order_form(page, number):
    """The status form of one order in the panel."""
    return page.locator("#rc-orders form").filter(
        has=page.get_by_label(f"Change status of order {number}")
    )


def test_agent_sees_orders_changes_a_status_and_sees_cached_orders_when_base_is_down(
    new_page, shop, standin, tmp_path
):
    url, ticket_id = shop
    page = new_page(viewport={"width": 1400, "height": 1000})
    page.clock.install()  # the undo delay passes when the test says so, not in real seconds
    log_in(page, url, "alice@shop.test")
    page.goto(f"{url}/chat/inbox/tickets/{ticket_id}")
    panel = page.get_by_role("region", name="Base orders")
    expect(panel.get_by_role("heading", name="Order 5104101")).to_be_visible()
    expect(panel.get_by_text("620012345678901234567890")).to_be_visible()
    expect(panel.get_by_text("Unverified e-mail.")).to_be_visible()
    expect(panel.get_by_text("Last sync")).to_be_visible()
    expect(panel.get_by_role("heading", name="Order 5100420")).to_have_count(0)  # > 3 months
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=tmp_path / "orders-panel.png")
    page.screenshot(path=tmp_path / "ticket-page.png")

    # A change on Base is confirmed first, and can be undone while it waits to be sent.
    status = panel.get_by_label("Change status of order 5104188")
    status.select_option(label="Paid")
    form = order_form(page, 5104188)
    form.get_by_role("button", name="Change").click()
    expect(form.get_by_text(
        "Change order 5104188 from “Awaiting payment” to “Paid” in Base?")).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "orders-confirm.png"))
    form.get_by_role("button", name="Cancel").click()
    expect(status).to_have_value("1002")  # back to its status
    expect(status).to_be_focused()
    status.select_option(label="Paid")
    form.get_by_role("button", name="Change").click()
    form.get_by_role("button", name="Confirm change").click()
    expect(form.get_by_text("Order 5104188 will change to “Paid” in 5 seconds.")).to_be_visible()
    expect(form.get_by_role("button", name="Undo")).to_be_focused()
    page.screenshot(path=os.path.join(SHOTS, "orders-undo.png"))
    form.get_by_role("button", name="Undo").click()
    expect(panel.get_by_role("status")).to_have_text(
        "Not changed: order 5104188 keeps the status “Awaiting payment”.")
    page.clock.fast_forward(5500)  # past the delay: nothing was sent
    page.wait_for_timeout(300)
    assert standin.order(5104188)["order_status_id"] == 1002
    status.select_option(label="Paid")
    form.get_by_role("button", name="Change").click()
    form.get_by_role("button", name="Confirm change").click()
    expect(form.get_by_role("button", name="Undo")).to_be_visible()
    page.clock.fast_forward(5000)
    expect(panel.get_by_role("status")).to_have_text("Order 5104188 is now “Paid”.")
    expect(order_form(page, 5104188).get_by_role("button", name="Change")).to_be_focused()
    assert standin.order(5104188)["order_status_id"] == 1003
    line = "Alice Agent changed the status of Base order 5104188 from “Awaiting payment” to “Paid”"
    expect(page.get_by_role("list", name="Conversation").get_by_text(line)).to_be_visible()

    panel.get_by_label("Change status of order 5104101").select_option(label="Returned")
    standin.down = True
    order_form(page, 5104101).get_by_role("button", name="Change").click()
    order_form(page, 5104101).get_by_role("button", name="Confirm change").click()
    expect(order_form(page, 5104101).get_by_role("button", name="Undo")).to_be_visible()
    page.clock.fast_forward(5000)
    expect(panel.get_by_role("alert")).to_contain_text("Base could not be reached")
    assert standin.order(5104101)["order_status_id"] == 1005

    panel.get_by_role("button", name="Refresh").click()
    failure = panel.get_by_role("alert")
    expect(failure).to_contain_text("Orders could not be refreshed since")
    expect(failure).to_contain_text("Showing the orders as of the last sync")
    expect(panel.get_by_role("heading", name="Order 5104101")).to_be_visible()  # cached
    panel.screenshot(path=tmp_path / "orders-panel-base-down.png")


def test_admin_connects_base_and_tests_the_connection(new_page, shop, tmp_path):
    url, _ticket_id = shop
    page = new_page(viewport={"width": 1200, "height": 1000})
    log_in(page, url, "admin@shop.test")
    page.goto(url + "/chat/inbox/")
    page.get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="Base", exact=True)).to_be_visible()
    expect(page.get_by_text("…61d2", exact=True)).to_be_visible()
    paste(page.get_by_label("API token"), "wrong-token-0000")  # copied from Base's settings
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Base refused the request: Invalid or missing API token (ERROR_BAD_TOKEN)."
    )
    expect(page.get_by_label("API token")).to_have_value("")  # never sent back
    page.get_by_role("button", name="Test connection").click()  # blank: the token in use
    expect(page.get_by_text("8 order statuses found")).to_be_visible()
    expect(page.get_by_text("In preparation")).to_be_visible()
    page.screenshot(path=tmp_path / "base-integration.png", full_page=True)
    retype(page.get_by_label("API URL"), "not a web address")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a web address starting with https://.")).to_be_visible()
    expect(page.get_by_label("API URL")).to_have_attribute("aria-invalid", "true")
