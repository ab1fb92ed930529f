"""The shop's context and proactive greetings in the browser: a customer of a shop with a
cart browses, the shop tracks an event, the agent sees cart and visit live; a greeting after
some seconds on a page opens the chat, once a day, never where the chat is hidden; the admin's
"Proactive messages" pages."""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from responso_chat.models import ProactiveMessage
from tests.e2e.keys import paste
from tests.e2e.test_widget_flow import SHOTS, agent_opens, launcher, only_ticket_id
from tests.factories import make_chat

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
def app(make_app):
    """The host shop with a cart in its session, named by the cart setting."""
    return make_app(RESPONSO_CHAT_CART="tests.hostapp:session_cart")


def greeting_counts(app):
    with app.app_context():
        state = app.extensions["responso_chat"]
        row = state.db.session.execute(sa.select(ProactiveMessage)).scalar_one()
        return row.shown_count, row.opened_count, row.started_count


def add_greeting(app, chat_id, **fields):
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.add(ProactiveMessage(chat_id=chat_id, sender_id="2", **fields))
        state.db.session.commit()


def test_the_agent_sees_the_customers_cart_pages_and_events_live(app, live_server, new_page):
    server = live_server(app)
    with app.app_context():
        app.config["HOST_EMBED_KEY"] = make_chat(agent_ids=("2",)).public_key
    customer = new_page(viewport={"width": 1100, "height": 760})
    customer.goto(server.url + "/store/")
    customer.get_by_role("button", name="Add to cart").click()  # the shop's own form
    customer.goto(server.url + "/store/shirts/linen?colour=blue#size")
    customer.get_by_role("button", name="Add to cart").click()
    customer.goto(server.url + "/store/cart")
    customer.get_by_role("button", name="Go to checkout").click()  # the shop calls track()
    # a bad call is refused in the browser with a warning, never sent
    warnings = []
    customer.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    customer.evaluate("ResponsoChat.track('bad name!', {x: 1})")
    expect(launcher(customer)).to_be_visible()

    launcher(customer).click()
    customer.get_by_label("Name").press_sequentially("Zoe Customer")
    customer.get_by_label("E-mail").press_sequentially("zoe@example.com")
    customer.get_by_label("Subject").press_sequentially("Shipping to Gdańsk")
    paste(customer.get_by_label("Message"), "How fast do you ship two shirts?")
    expect(customer.get_by_label("Message")).to_have_value("How fast do you ship two shirts?")
    customer.get_by_role("button", name="Start chat").click()
    expect(customer.get_by_role("log", name="Conversation")
           .get_by_text("How fast do you ship two shirts?")).to_be_visible()
    assert any("ResponsoChat.track refused" in text for text in warnings)

    agent = agent_opens(new_page, server.url, only_ticket_id(app))
    cart = agent.locator("#rc-shop-context")
    expect(cart.get_by_role("heading", name="Cart")).to_be_visible()
    expect(cart.get_by_role("cell", name="Linen shirt")).to_be_visible()
    expect(agent.locator("#rc-cart-total")).to_have_text("179.80 PLN")
    visit = agent.get_by_role("list", name="Visit")
    expect(visit.get_by_text("/store/shirts/linen", exact=True)).to_be_visible()
    expect(visit.get_by_text("colour=blue")).to_have_count(0)  # never a query string
    expect(visit.get_by_text("checkout_started")).to_be_visible()
    expect(visit.get_by_text("coupon=WINTER")).to_be_visible()
    expect(visit.get_by_text("bad name!")).to_have_count(0)
    cart.scroll_into_view_if_needed()
    agent.screenshot(path=os.path.join(SHOTS, "inbox-shop-context.png"))

    customer.goto(server.url + "/store/scarves")  # the next page: the agent sees it live
    customer.get_by_role("button", name="Add to cart").click()
    expect(visit.get_by_text("/store/scarves", exact=True)).to_be_visible(timeout=15_000)
    expect(agent.locator("#rc-cart-total")).to_have_text("269.70 PLN")


def test_a_greeting_after_seconds_on_a_page_opens_the_chat_once_a_day(shop, new_page, app):
    chat_id = shop.use(agent_ids=("2",), paths=["/secret"])
    add_greeting(app, chat_id, path="/products", delay_seconds=2,
                 text="Need help choosing a size?")
    customer = new_page(viewport={"width": 1000, "height": 720})
    customer.goto(shop.url + "/products/linen")
    greeting = customer.get_by_role("button", name=re.compile("Need help choosing a size"))
    expect(launcher(customer)).to_be_visible()
    expect(greeting).to_have_count(0)  # not before its seconds on the page
    expect(greeting).to_be_visible(timeout=6000)
    expect(greeting).to_contain_text("Alice Agent")
    customer.screenshot(path=os.path.join(SHOTS, "widget-greeting.png"))
    greeting.click()
    dialog = customer.get_by_role("dialog")
    expect(dialog.get_by_text("Need help choosing a size?")).to_be_visible()
    expect(dialog.get_by_label("Name")).to_be_focused()
    customer.screenshot(path=os.path.join(SHOTS, "widget-greeting-opened.png"))
    dialog.get_by_label("Name").press_sequentially("Zoe Customer")
    dialog.get_by_label("E-mail").press_sequentially("zoe@example.com")
    dialog.get_by_label("Subject").press_sequentially("Sizes")
    paste(dialog.get_by_label("Message"), "Is M a slim fit?")
    dialog.get_by_role("button", name="Start chat").click()
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Need help choosing a size?")).to_be_visible()
    expect(log.get_by_text("Is M a slim fit?")).to_be_visible()
    assert greeting_counts(app) == (1, 1, 1)
    customer.reload()  # the greeting is the conversation's first message, kept by the server
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_role("listitem")).to_have_count(2)
    expect(log.get_by_role("listitem").first).to_contain_text("Alice Agent")
    expect(log.get_by_role("listitem").first).to_contain_text("Need help choosing a size?")
    expect(log.get_by_role("listitem").last).to_contain_text("Is M a slim fit?")


def test_a_greeting_is_not_shown_twice_a_day_nor_where_the_chat_is_hidden(shop, new_page, app):
    chat_id = shop.use(agent_ids=("2",), paths=["/secret"])
    add_greeting(app, chat_id, path="", delay_seconds=1, text="Free shipping today!")
    visitor = new_page()
    visitor.goto(shop.url + "/secret/offer")  # the chat's path list hides the widget here
    visitor.wait_for_timeout(2500)
    expect(launcher(visitor)).to_have_count(0)
    expect(visitor.get_by_text("Free shipping today!")).to_have_count(0)
    visitor.goto(shop.url + "/about")
    close = visitor.get_by_role("button", name="Close greeting")
    expect(close).to_be_visible(timeout=5000)
    close.click()
    expect(visitor.get_by_text("Free shipping today!")).to_have_count(0)
    expect(launcher(visitor)).to_be_focused()
    visitor.goto(shop.url + "/products/linen")  # the same day: no second greeting
    expect(launcher(visitor)).to_be_visible()
    visitor.wait_for_timeout(2500)
    expect(visitor.get_by_text("Free shipping today!")).to_have_count(0)
    assert greeting_counts(app) == (1, 0, 0)


def test_the_admin_adds_a_proactive_message(app, live_server, new_page):
    server = live_server(app)
    with app.app_context():
        make_chat("Store chat", agent_ids=("2",))
    admin = new_page(viewport={"width": 1280, "height": 900})
    admin.goto(server.url + "/login")
    admin.get_by_label("E-mail").press_sequentially("admin@shop.test")
    admin.get_by_label("Password").press_sequentially("secret-pass")
    admin.get_by_role("button", name="Log in").click()
    admin.goto(server.url + "/chat/admin/")
    admin.get_by_role("link", name="Proactive messages of Store chat").click()
    expect(admin.get_by_role("heading", name="Proactive messages")).to_be_visible()
    admin.get_by_role("link", name="Add proactive message").click()
    admin.get_by_label("Page path").press_sequentially("checkout")
    admin.get_by_label("Seconds on the page").press("Control+a")  # it starts at 0
    admin.get_by_label("Seconds on the page").press_sequentially("soon")
    admin.get_by_role("button", name="Add proactive message").click()
    text = admin.get_by_label("Message")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(admin.get_by_label("Page path")).to_have_accessible_description(
        re.compile("starts with /"))
    expect(admin.get_by_label("Seconds on the page")).to_have_accessible_description(
        re.compile("whole number"))
    expect(admin.get_by_label("Sender")).to_have_accessible_description(
        re.compile("Choose who greets"))
    admin.screenshot(path=os.path.join(SHOTS, "admin-proactive-errors.png"), full_page=True)
    paste(text, "Questions before you pay?")
    expect(text).to_have_value("Questions before you pay?")
    admin.get_by_label("Sender").select_option(label="Alice Agent")
    path = admin.get_by_label("Page path")
    path.press("Control+a")
    path.press_sequentially("/checkout")
    seconds = admin.get_by_label("Seconds on the page")
    seconds.press("Control+a")
    seconds.press_sequentially("20")
    admin.get_by_label("Minimum cart value").press_sequentially("150")
    admin.get_by_label("Tracked event").press_sequentially("checkout_started")
    admin.get_by_label("Enabled").check()
    admin.get_by_role("button", name="Add proactive message").click()
    expect(admin.get_by_text("Proactive message added.")).to_be_visible()
    row = admin.get_by_role("row", name=re.compile("Questions before you pay"))
    expect(row).to_contain_text("After 20 s on the page")
    expect(row).to_contain_text("Cart of at least 150.00")
    expect(row).to_contain_text("Alice Agent")
    admin.screenshot(path=os.path.join(SHOTS, "admin-proactive-list.png"), full_page=True)
    admin.get_by_role("button", name="Disable greeting 1").click()
    expect(admin.get_by_text("Proactive message turned off.")).to_be_visible()
    expect(row).to_contain_text("Disabled")


def test_a_greeting_for_a_full_cart_after_the_checkout_event(app, live_server, new_page):
    """Triggers on the shop's own pages: an event the shop tracked during the visit and a
    minimum cart value (the host's cart, read with the customer's session)."""
    server = live_server(app)
    with app.app_context():
        chat = make_chat(agent_ids=("2",))
        app.config["HOST_EMBED_KEY"] = chat.public_key
    add_greeting(app, chat.id, path="/store", delay_seconds=0, min_cart_value=100,
                 event="checkout_started", text="Free delivery over 150 PLN!")
    customer = new_page()
    customer.goto(server.url + "/store/cart")
    greeting = customer.get_by_role("button", name=re.compile("Free delivery"))
    customer.get_by_role("button", name="Add to cart").click()  # 89.90 PLN: too little
    customer.get_by_role("button", name="Go to checkout").click()
    customer.wait_for_timeout(1500)
    expect(greeting).to_have_count(0)
    customer.get_by_role("button", name="Add to cart").click()  # 179.80 PLN, next page
    expect(greeting).to_be_visible(timeout=5000)
    expect(greeting).to_contain_text("Alice Agent")
    assert greeting_counts(app) == (1, 0, 0)
