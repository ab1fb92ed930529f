"""The storefront widget in Chromium: a shop on another origin pastes the embed code.

The shop is a tiny Flask app on its own loopback port; the plugin's host app runs on another,
so the widget works cross-origin exactly as on a real shop. The agent answers from the inbox
in a second browser context.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from responso_chat.models import Chat, Message, Ticket
from tests.conftest import DEV_SERVER_SOCKET_CLOSE
from tests.e2e.keys import paste, put_on_clipboard, type_on_layout, type_with_dead_key

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

SHOTS = os.environ.get("RESPONSO_CHAT_SCREENSHOTS") or tempfile.gettempdir()
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


def launcher(page):
    return page.get_by_role("button", name="Chat", exact=True)


def config_loaded(page):
    """Wait until the loader has its config (the launcher may then rightly be absent)."""
    return page.expect_response(re.compile(r"/config$"))


def test_launcher_follows_the_path_rules_and_single_page_navigation(shop, new_page):
    shop.use(path_rule_type="whitelist", paths=["/products"])
    page = new_page()
    page.goto(shop.url + "/products/linen")
    expect(launcher(page)).to_be_visible()
    with config_loaded(page):
        page.goto(shop.url + "/about")
    expect(launcher(page)).to_have_count(0)
    page.get_by_role("button", name="Shirt").click()
    expect(launcher(page)).to_be_visible()
    page.get_by_role("button", name="About").click()
    expect(launcher(page)).to_be_hidden()
    page.go_back()
    expect(launcher(page)).to_be_visible()
    assert page.evaluate("Object.keys(window).filter(k => /responso/i.test(k))") == [
        "ResponsoChat"
    ]


def test_a_closed_chat_shows_its_message_or_nothing(shop, new_page, app):
    shop.use(opening_hours={}, out_of_hours_message="We are closed; leave us a message.")
    page = new_page()
    page.goto(shop.url + "/products/linen")
    launcher(page).click()
    expect(page.get_by_text("We are closed; leave us a message.")).to_be_visible()
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "widget-out-of-hours.png"))

    shop.use(name="Hidden chat", opening_hours={}, out_of_hours_behaviour="hide_widget")
    hidden = new_page()
    with config_loaded(hidden):
        hidden.goto(shop.url + "/products/linen")
    hidden.wait_for_timeout(200)
    expect(launcher(hidden)).to_have_count(0)


def test_form_errors_are_shown_and_announced(shop, new_page):
    shop.use()
    page = new_page()
    page.goto(shop.url + "/")
    launcher(page).click()
    expect(page.get_by_label("Name")).to_be_focused()
    page.get_by_label("E-mail").press_sequentially("not an e-mail")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("alert")).to_have_text("Please correct the marked fields.")
    expect(page.get_by_label("Name")).to_be_focused()
    expect(page.get_by_label("Name")).to_have_accessible_description("This field is required.")
    expect(page.get_by_label("E-mail")).to_have_accessible_description(
        "Enter a valid e-mail address."
    )
    page.screenshot(path=os.path.join(SHOTS, "widget-form-errors.png"))
    dialog = page.get_by_role("dialog")
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Start chat")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher(page)).to_be_focused()


def test_a_customer_types_pastes_and_tabs_through_the_widget(shop, new_page, app):
    """Real key presses reach every field: the panel's own key handling (Escape closes it)
    must not cancel typing, pasting, Backspace, Tab or Enter."""
    shop.use()
    page = new_page()
    page.goto(shop.url + "/products/linen")
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    name, email = dialog.get_by_label("Name"), dialog.get_by_label("E-mail")
    subject, message = dialog.get_by_label("Subject"), dialog.get_by_label("Message")
    start = dialog.get_by_role("button", name="Start chat")
    expect(name).to_be_focused()

    page.keyboard.type("Zoe Kx")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    type_on_layout(page, "żółć")  # AltGr+Z, AltGr+O, AltGr+L, AltGr+C
    expect(name).to_have_value("Zoe żółć")
    page.keyboard.press("Tab")
    expect(email).to_be_focused()
    page.keyboard.type("zoe@")
    put_on_clipboard(page, "example.com")
    page.keyboard.press("Control+V")
    expect(email).to_have_value("zoe@example.com")
    page.keyboard.press("Tab")
    expect(subject).to_be_focused()
    page.keyboard.insert_text("Ç")  # how an input method (IME) commits a character
    page.keyboard.type("a ")
    type_with_dead_key(page, "BracketLeft", "e", "é")  # dead acute accent, then E
    page.keyboard.type("t")
    type_on_layout(page, "é")  # the É key of a French keyboard
    expect(subject).to_have_value("Ça été")
    page.keyboard.press("Tab")
    expect(message).to_be_focused()
    page.keyboard.type("My parcel is late.")
    page.keyboard.press("Shift+Enter")  # a line break, not a submit
    paste(message, "Order 1042, sent to Łódź.")
    expect(message).to_have_value("My parcel is late.\nOrder 1042, sent to Łódź.")
    page.keyboard.press("Tab")
    expect(start).to_be_focused()
    page.screenshot(path=os.path.join(SHOTS, "widget-typed-form.png"))
    page.keyboard.press("Enter")

    log = dialog.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Order 1042, sent to Łódź.")).to_be_visible()
    composer = dialog.get_by_label("Your message")
    expect(composer).to_be_focused()
    page.keyboard.type("Merci, ")
    type_on_layout(page, "ça")
    page.keyboard.press("Shift+Enter")
    type_on_layout(page, "żółć")
    put_on_clipboard(page, " https://shop.example/orders/1042")
    page.keyboard.press("Control+V")
    expect(composer).to_have_value("Merci, ça\nżółć https://shop.example/orders/1042")
    page.screenshot(path=os.path.join(SHOTS, "widget-typed-composer.png"))
    page.keyboard.press("Enter")
    expect(log.get_by_text("https://shop.example/orders/1042")).to_be_visible()
    expect(composer).to_have_value("")
    page.screenshot(path=os.path.join(SHOTS, "widget-typed-conversation.png"))

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, only_ticket_id(app))
        assert (ticket.customer_name, ticket.customer_email, ticket.subject) == (
            "Zoe żółć", "zoe@example.com", "Ça été"
        )
    assert count_bodies(app, "Merci, ça\nżółć https://shop.example/orders/1042") == 1


def start_chat(page, message="Hello, where is my parcel?"):
    launcher(page).click()
    page.get_by_label("Name").press_sequentially("Zoe Customer")
    page.get_by_label("E-mail").press_sequentially("zoe@example.com")
    page.get_by_label("Subject").press_sequentially("Where is my order?")
    page.get_by_label("Message").press_sequentially(message)
    page.get_by_role("button", name="Start chat").click()


def only_ticket_id(app):
    with app.app_context():
        state = app.extensions["responso_chat"]
        return state.db.session.execute(sa.select(Ticket.id)).scalar_one()


def count_bodies(app, body):
    with app.app_context():
        state = app.extensions["responso_chat"]
        return state.db.session.execute(
            sa.select(sa.func.count()).select_from(Message).where(Message.body == body)
        ).scalar_one()


def agent_opens(new_page, plugin_url, ticket_id):
    agent = new_page(viewport={"width": 1280, "height": 860})
    agent.goto(plugin_url + "/login")
    agent.get_by_label("E-mail").press_sequentially("alice@shop.test")
    agent.get_by_label("Password").press_sequentially("secret-pass")
    agent.get_by_role("button", name="Log in").click()
    agent.goto(f"{plugin_url}/chat/inbox/tickets/{ticket_id}")
    return agent


def test_customer_and_agent_chat_across_reloads_and_a_dropped_connection(shop, new_page, app):
    shop.use(agent_ids=("2",))
    new_page.allow_console(DEV_SERVER_SOCKET_CLOSE)  # the widget drops its socket when offline
    customer = new_page()
    customer.goto(shop.url + "/products/linen")
    start_chat(customer)
    panel = customer.get_by_role("dialog")
    log = customer.get_by_role("log", name="Conversation")
    expect(panel.get_by_role("status").first).to_have_text("Waiting for an agent…")
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    ticket_id = only_ticket_id(app)

    agent = agent_opens(new_page, shop.plugin.url, ticket_id)
    expect(log.get_by_text("Alice Agent joined the chat")).to_be_visible()
    expect(panel.get_by_text("You are chatting with Alice Agent")).to_be_visible()

    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("Hi Zoe, let me check that for you.")
    reply.press("Enter")
    expect(log.get_by_text("Hi Zoe, let me check that for you.")).to_be_visible()

    composer = customer.get_by_label("Your message")
    composer.press_sequentially("Thank you!")
    composer.press("Enter")
    agent_log = agent.get_by_role("list", name="Conversation")
    expect(agent_log.get_by_text("Thank you!")).to_be_visible()
    expect(log.get_by_text("Thank you!")).to_be_visible()
    customer.screenshot(path=os.path.join(SHOTS, "widget-conversation.png"))

    reply.press_sequentially("Let me")
    expect(panel.get_by_text("Alice Agent is typing…")).to_be_visible()
    customer.keyboard.press("Escape")
    reply.press("Control+A")
    reply.press("Backspace")
    reply.press_sequentially("Your parcel is in Warsaw.")
    reply.press("Enter")
    expect(customer.get_by_role("button", name="Chat (1 unread)")).to_be_visible()
    customer.get_by_role("button", name="Chat (1 unread)").click()
    expect(log.get_by_text("Your parcel is in Warsaw.")).to_be_visible()
    expect(launcher(customer)).to_be_visible()

    customer.reload()
    expect(log.get_by_text("Hi Zoe, let me check that for you.")).to_be_visible()
    expect(log.get_by_text("Thank you!")).to_have_count(1)

    customer.context.set_offline(True)
    expect(panel.get_by_text("You are offline")).to_be_visible()
    composer.press_sequentially("Are you still there?")
    composer.press("Enter")
    expect(log.get_by_text("Sending…")).to_be_visible()
    customer.context.set_offline(False)
    expect(agent_log.get_by_text("Are you still there?")).to_have_count(1)
    expect(log.get_by_text("Are you still there?")).to_have_count(1)
    expect(log.get_by_text("Sending…")).to_have_count(0)
    customer.wait_for_timeout(500)
    assert count_bodies(app, "Are you still there?") == 1
    expect(agent_log.get_by_text("Are you still there?")).to_have_count(1)


def test_a_signed_customer_is_prefilled_and_verified(shop, new_page, app):
    chat_id = shop.use()
    with app.app_context():
        state = app.extensions["responso_chat"]
        secret = state.db.session.get(Chat, chat_id).secret
    signature = hmac.new(secret.encode(), b"anna@example.com", hashlib.sha256).hexdigest()
    page = new_page()
    page.goto(shop.url + "/")
    page.wait_for_function("window.ResponsoChat")
    page.evaluate("s => ResponsoChat.setCustomer({name: 'Anna Kowalska', "
                  "email: 'anna@example.com', signature: s})", signature)
    launcher(page).click()
    expect(page.get_by_label("Name")).to_have_value("Anna Kowalska")
    expect(page.get_by_label("E-mail")).to_have_value("anna@example.com")
    expect(page.get_by_label("Subject")).to_be_focused()
    page.get_by_label("Subject").press_sequentially("Invoice")
    page.get_by_label("Message").press_sequentially("Please send me the invoice.")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log", name="Conversation")).to_contain_text("invoice")
    with app.app_context():
        ticket = state.db.session.get(Ticket, only_ticket_id(app))
        assert ticket.customer_email_verified and ticket.page_title == "Home"


def test_a_second_tab_and_the_end_of_the_conversation(shop, new_page, app):
    shop.use()
    new_page.allow_console(DEV_SERVER_SOCKET_CLOSE)  # "Start a new chat" closes the sockets
    customer = new_page()
    customer.goto(shop.url + "/")
    start_chat(customer, message="First tab here")
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_text("First tab here")).to_be_visible()

    second = customer.context.new_page()
    second.goto(shop.url + "/products/shirt")
    launcher(second).click()
    second_log = second.get_by_role("log", name="Conversation")
    expect(second_log.get_by_text("First tab here")).to_be_visible()
    second.get_by_label("Your message").press_sequentially("From the second tab")
    second.get_by_label("Your message").press("Enter")
    expect(log.get_by_text("From the second tab")).to_have_count(1)

    with app.app_context():
        from responso_chat.conversation import ticket_changes
        from responso_chat.users import agents_by_id

        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, only_ticket_id(app))
        ticket_changes.set_status(ticket, "closed", agents_by_id()["2"])
    expect(customer.get_by_text("This conversation has ended.")).to_be_visible()
    customer.get_by_role("button", name="Start a new chat").click()
    expect(customer.get_by_label("Name")).to_have_value("Zoe Customer")
    expect(customer.get_by_label("E-mail")).to_have_value("zoe@example.com")
    expect(second.get_by_role("button", name="Start chat")).to_be_visible()


def test_phone_layout_is_full_screen(shop, new_page):
    shop.use()
    page = new_page(**PHONE)
    page.goto(shop.url + "/")
    page.screenshot(path=os.path.join(SHOTS, "widget-phone-launcher.png"))
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    box = dialog.bounding_box()
    assert box["width"] == 375 and box["x"] == 0
    size = page.get_by_label("Name").evaluate("e => getComputedStyle(e).fontSize")
    assert size == "16px"
    page.screenshot(path=os.path.join(SHOTS, "widget-phone-form.png"))
    start_chat_fields(page)


def start_chat_fields(page):
    page.get_by_label("Name").press_sequentially("Zoe Customer")
    page.get_by_label("E-mail").press_sequentially("zoe@example.com")
    page.get_by_label("Subject").press_sequentially("Sizes")
    page.get_by_label("Message").press_sequentially("Do you have this shirt in XL?")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log", name="Conversation").get_by_text("XL?")).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "widget-phone-conversation.png"))


def test_preview_mode_draws_from_the_given_config_and_fetches_nothing(shop, new_page):
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(shop.url + "/")
    page.set_content(
        "<div id='stage' style='position:relative;width:420px;height:520px'></div>"
        f"<script src='{shop.plugin.url}/chat/static/widget/loader.js' data-preview='1'></script>"
    )
    page.evaluate("""() => ResponsoChat.preview({
        name: "Shop", welcome_message: "Bonjour !", alignment: "left", vertical_spacing: 40,
        color: "#fde047", language: "fr", open_now: false,
        out_of_hours_behaviour: "show_message", out_of_hours_message: "Fermé"
    }, document.getElementById("stage"))""")
    stage = page.locator("#stage")
    expect(stage.get_by_role("heading", name="Bonjour !")).to_be_visible()
    expect(stage.get_by_text("Fermé")).to_be_visible()
    expect(stage.get_by_role("button", name="Fermer")).to_be_visible()
    chat_button = stage.get_by_role("button", name="Chat", exact=True)
    box, frame = chat_button.bounding_box(), stage.bounding_box()
    assert box["x"] - frame["x"] == 20
    assert frame["y"] + frame["height"] - (box["y"] + box["height"]) == 40
    # Dark text on a light colour (waited for: the lazy stylesheet may still be loading).
    expect(stage.get_by_role("heading")).to_have_css("color", "rgb(17, 17, 17)")
    page.screenshot(path=os.path.join(SHOTS, "widget-preview.png"))
    page.evaluate("""() => ResponsoChat.preview({alignment: "right", open_now: false,
        out_of_hours_behaviour: "hide_widget"}, document.getElementById("stage"))""")
    expect(stage.get_by_role("button")).to_have_count(0)
    assert not [url for url in requests if "/config" in url or "/tickets" in url]


@pytest.mark.parametrize(
    "language, locale, labels",
    [
        ("pl", "en-US", ("Czat", "Imię i nazwisko", "Temat", "Rozpocznij czat")),
        ("auto", "fr-FR", ("Chat", "Nom", "Objet", "Démarrer le chat")),
        ("auto", "de-DE", ("Chat", "Name", "Subject", "Start chat")),
    ],
)
def test_strings_follow_the_chat_or_browser_language(shop, new_page, language, locale, labels):
    shop.use(language=language)
    page = new_page(locale=locale)
    page.goto(shop.url + "/")
    chat, name, subject, start = labels
    page.get_by_role("button", name=chat, exact=True).click()
    expect(page.get_by_label(name, exact=True)).to_be_visible()
    expect(page.get_by_label(subject, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=start)).to_be_visible()
