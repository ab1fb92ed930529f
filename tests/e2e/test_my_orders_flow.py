"""In Chromium: a customer verifies their e-mail with a code read from the test SMTP server,
sees their orders with a tracking link and cancels one from the widget; the agent sees the
ticket with the order attached, and finds and links another order from the side panel. The
Base stand-in serves the orders over real HTTP; the shop is on another origin."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.keys import paste, retype
from tests.e2e.test_orders_panel import TOKEN, log_in, standin  # noqa: F401 - a fixture
from tests.e2e.test_widget_flow import SHOTS, launcher
from tests.factories import make_chat, make_ticket
from tests.mail_fixtures import mail_config
from tests.polling import wait_until

ANNA = "anna.kowalska@example.com"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
def app(make_app, standin, smtp):  # noqa: F811 - the stand-in fixture
    """The plugin with Base (the stand-in) and e-mail (the test SMTP server)."""
    return make_app(RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN,
                    **mail_config(smtp))


def _code_sent_to(smtp, email):
    for recipients, mail in smtp.messages:
        if recipients == [email]:
            found = re.search(r"\b(\d{6})\b", mail.get_body(("plain",)).get_content())
            if found:
                return found.group(1)
    return None


def test_a_customer_verifies_by_code_sees_tracking_and_cancels_an_order(
        shop, new_page, smtp):
    shop.use()
    page = new_page(viewport={"width": 1200, "height": 900})
    # a wrong code is answered 422, which the browser logs as a failed resource
    new_page.allow_console(r"status of 422")
    page.goto(shop.url + "/products/linen")
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="My orders").click()
    expect(dialog.get_by_role("heading", name="My orders")).to_be_visible()
    email = dialog.get_by_label("E-mail")
    expect(email).to_be_focused()
    email.press_sequentially("anna.kowalska")
    paste(email, "@example.com")
    expect(email).to_have_value(ANNA)
    page.screenshot(path=os.path.join(SHOTS, "widget-my-orders-email.png"))
    dialog.get_by_role("button", name="Send me a code").click()

    code_field = dialog.get_by_label("Code from the e-mail")
    expect(code_field).to_be_focused()
    expect(dialog.get_by_text(f"We sent a code to {ANNA}.")).to_be_visible()
    code = wait_until(lambda: _code_sent_to(smtp, ANNA), what="the code's e-mail")
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    code_field.press_sequentially(wrong)
    dialog.get_by_role("button", name="Show my orders").click()
    expect(code_field).to_have_accessible_description(
        "This code is not right or has expired. Ask for a new code.")
    page.screenshot(path=os.path.join(SHOTS, "widget-my-orders-wrong-code.png"))
    retype(code_field, "")
    paste(code_field, code)
    expect(code_field).to_have_value(code)
    page.keyboard.press("Enter")

    orders = dialog.get_by_role("list", name=f"Orders of {ANNA}")
    expect(orders.get_by_role("heading", name="Order 1202")).to_be_visible()
    scarf = orders.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Order 1202"))
    expect(scarf.get_by_text("On its way")).to_be_visible()
    expect(scarf.get_by_text("1 × Merino wool scarf, grey")).to_be_visible()
    track = scarf.get_by_role("link", name="Track the parcel (InPost)")
    expect(track).to_have_attribute(
        "href", "https://inpost.pl/sledzenie-przesylek?number=620012345678901234567890")
    expect(orders.get_by_role("heading", name="Order 1200")).to_have_count(0)  # > 3 months
    page.screenshot(path=os.path.join(SHOTS, "widget-my-orders.png"))

    dialog.get_by_role("button", name="Cancel order 1203").click()
    expect(dialog.get_by_text("I would like to cancel my order 1203.")).to_be_visible()
    expect(dialog.get_by_label("Your message")).to_be_focused()
    page.screenshot(path=os.path.join(SHOTS, "widget-my-orders-cancel.png"))

    agent = new_page(viewport={"width": 1400, "height": 1000})
    log_in(agent, shop.plugin.url, "alice@shop.test")
    agent.goto(shop.plugin.url + "/chat/inbox/")
    agent.get_by_role("link", name=re.compile("Cancel order 1203")).click()
    panel = agent.get_by_role("region", name="Base orders")
    expect(panel.get_by_text("The customer asked to cancel this order")).to_be_visible()
    expect(panel.get_by_role("heading", name="Order 5104188")).to_be_visible()
    expect(panel.get_by_text("Unverified e-mail.")).to_have_count(0)
    panel.scroll_into_view_if_needed()
    agent.screenshot(path=os.path.join(SHOTS, "inbox-order-requested.png"))


def test_an_agent_finds_an_order_by_number_and_by_phone_and_links_it(
        app, live_server, new_page):
    with app.app_context():
        ticket_id = make_ticket(make_chat(), subject="About my parcel",
                                email="anna.private@example.net").id
    app.extensions["responso_chat"].jobs.join()
    url = live_server(app).url
    page = new_page(viewport={"width": 1400, "height": 1100})
    new_page.allow_console(r"status of 422")
    log_in(page, url, "alice@shop.test")
    page.goto(f"{url}/chat/inbox/tickets/{ticket_id}")
    panel = page.get_by_role("region", name="Base orders")
    find = panel.get_by_label("Find an order")
    find.press_sequentially("no such thing")
    panel.get_by_role("button", name="Find", exact=True).click()
    find = panel.get_by_label("Find an order")
    expect(find).to_have_accessible_description(re.compile(
        "Enter an order number .* or a phone number."))

    retype(find, "5104101")
    page.keyboard.press("Enter")
    results = panel.get_by_role("list", name="Orders found for 5104101")
    expect(results.get_by_text(ANNA)).to_be_visible()
    retype(panel.get_by_label("Find an order"), "")
    paste(panel.get_by_label("Find an order"), "+48 601-234-567")
    expect(panel.get_by_label("Find an order")).to_have_value("+48 601-234-567")
    panel.get_by_role("button", name="Find", exact=True).click()
    results = panel.get_by_role("list", name="Orders found for +48 601-234-567")
    # a phone is looked up in the cache only: the order fetched by its number just before
    expect(results.get_by_role("listitem")).to_have_count(1)
    expect(results.get_by_text("Order 5104101", exact=True)).to_be_visible()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(SHOTS, "inbox-order-lookup.png"))

    results.get_by_role("button", name="Link to this ticket (order 5104101)").click()
    expect(panel.get_by_role("heading", name="Order 5104101")).to_be_visible()
    expect(panel.get_by_text("Order 5104101 is linked to this ticket.")).to_be_visible()
    expect(panel.get_by_text("Linked to this ticket by Alice Agent")).to_be_visible()
    expect(panel.get_by_role("link", name="InPost 620012345678901234567890")).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "inbox-order-linked.png"))
    page.reload()
    panel = page.get_by_role("region", name="Base orders")
    expect(panel.get_by_role("heading", name="Order 5104101")).to_be_visible()
    panel.get_by_role("button", name="Unlink order 5104101").click()
    expect(panel.get_by_role("heading", name="Order 5104101")).to_have_count(0)
