"""The widget over a day of real use: a customer who leaves and comes back, long messages,
drafts, a closed chat on a small screen, and the launcher of a second visit.

The shop and the plugin run on two loopback ports as in ``test_widget_flow``; the agent
answers from the inbox in another browser context.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from responso_chat.conversation import messages
from responso_chat.models import Chat, Ticket
from tests.e2e.keys import paste, retype
from tests.e2e.test_widget_flow import (
    PHONE,
    SHOTS,
    agent_opens,
    config_loaded,
    count_bodies,
    launcher,
    only_ticket_id,
    start_chat,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

#: A small message limit (the shop's setting) so that a test can type past it.
MESSAGE_LIMIT = 300


@pytest.fixture
def app(make_app):
    """The host app with a short longest message: the widget must learn it from the config."""
    return make_app(RESPONSO_CHAT_MAX_MESSAGE_LENGTH=MESSAGE_LIMIT)


def earlier_conversation(app, ticket_id, exchanges=6):
    """What was said before this test's part of the day (not typed here: it is history)."""
    with app.app_context():
        state = app.extensions["responso_chat"]
        for number in range(1, exchanges + 1):
            ticket = state.db.session.get(Ticket, ticket_id)
            messages.post_agent_message(ticket, "2", "Alice Agent", f"Earlier answer {number}")
            ticket = state.db.session.get(Ticket, ticket_id)
            messages.post_customer_message(ticket, f"Earlier question {number}")


def reply(agent, text):
    box = agent.get_by_label("Reply to Zoe Customer")
    box.press_sequentially(text)
    box.press("Enter")
    expect(agent.get_by_role("list", name="Conversation").get_by_text(text)).to_be_visible()


def test_a_returning_customer_sees_the_replies_that_came_while_away(shop, new_page, app):
    shop.use(agent_ids=("2",))
    customer = new_page(viewport={"width": 1000, "height": 700})
    context = customer.context
    customer.goto(shop.url + "/products/linen")
    start_chat(customer)
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    ticket_id = only_ticket_id(app)
    earlier_conversation(app, ticket_id)
    expect(log.get_by_text("Earlier question 6")).to_be_in_viewport()
    customer.close()  # the customer leaves the shop

    agent = agent_opens(new_page, shop.plugin.url, ticket_id)
    reply(agent, "Your parcel left our warehouse this morning.")
    reply(agent, "Here is the tracking number: PL-1042.")

    back = context.new_page()  # the customer comes back later
    back.goto(shop.url + "/cart")
    unread = back.get_by_role("button", name="Chat (2 unread)")
    expect(unread).to_be_visible()  # without a click
    expect(unread).to_contain_text("2")
    back.screenshot(path=os.path.join(SHOTS, "widget-unread-on-return.png"))
    unread.click()
    log = back.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Your parcel left our warehouse this morning.")).to_be_in_viewport()
    expect(log.get_by_text("Here is the tracking number: PL-1042.")).to_be_in_viewport()
    expect(log.get_by_text("Hello, where is my parcel?")).not_to_be_in_viewport()
    back.screenshot(path=os.path.join(SHOTS, "widget-opens-at-new-replies.png"))
    agent_log = agent.get_by_role("list", name="Conversation")
    expect(agent_log.get_by_text("Seen")).to_have_count(8)  # the server got the seen frame

    back.reload()  # the panel stays open across pages, at the last message
    log = back.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Here is the tracking number: PL-1042.")).to_be_in_viewport()
    expect(back.get_by_role("button", name="Chat", exact=True)).to_be_visible()
    back.screenshot(path=os.path.join(SHOTS, "widget-reloaded-open.png"))

    reply(agent, "It should arrive tomorrow.")  # at the end: the log follows
    expect(log.get_by_text("It should arrive tomorrow.")).to_be_in_viewport()

    log.hover()
    back.mouse.wheel(0, -3000)  # reading an earlier message: the log stays where it is
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_in_viewport()
    reply(agent, "Anything else?")
    expect(log.get_by_text("Anything else?")).to_have_count(1)
    back.wait_for_timeout(300)
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_in_viewport()
    expect(log.get_by_text("Anything else?")).not_to_be_in_viewport()


def test_the_agent_sees_the_customer_typing(shop, new_page, app):
    shop.use(agent_ids=("2",))
    customer = new_page()
    customer.goto(shop.url + "/")
    start_chat(customer)
    log = customer.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    agent = agent_opens(new_page, shop.plugin.url, only_ticket_id(app))
    expect(log.get_by_text("Alice Agent joined the chat")).to_be_visible()
    expect(agent.get_by_text("customer online")).to_be_visible()  # the agent's socket is in

    composer = customer.get_by_label("Your message")
    composer.press_sequentially("I also wanted to ask")
    typing = agent.get_by_text("Zoe Customer is typing…")
    expect(typing).to_be_visible()
    agent.screenshot(path=os.path.join(SHOTS, "inbox-customer-typing.png"))
    composer.press_sequentially(" about the returns policy", delay=380, timeout=20_000)  # > 8 s
    expect(typing).to_be_visible()  # said again while the customer keeps typing
    composer.press("Enter")
    expect(agent.get_by_role("list", name="Conversation").get_by_text(
        "I also wanted to ask about the returns policy")).to_be_visible()
    expect(typing).to_be_hidden()


def test_a_long_first_message_is_counted_and_refused_before_sending(shop, new_page, app):
    shop.use()
    page = new_page()
    page.goto(shop.url + "/")
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").press_sequentially("Zoe Customer")
    dialog.get_by_label("E-mail").press_sequentially("zoe@example.com")
    dialog.get_by_label("Subject").press_sequentially("A long story")
    message = dialog.get_by_label("Message")
    story = "My order arrived broken, and here is everything that happened. " * 6  # 384
    message.press_sequentially("Hello. ")
    paste(message, story)
    expect(message).to_have_value("Hello. " + story)  # nothing cut off
    count = len(("Hello. " + story).strip())
    expect(dialog.get_by_text(f"{count} of {MESSAGE_LIMIT} characters")).to_be_visible()
    dialog.get_by_role("button", name="Start chat").click()
    expect(message).to_have_accessible_description(re.compile(
        f"Use at most {MESSAGE_LIMIT} characters."))
    expect(dialog.get_by_role("alert")).to_have_text("Please correct the marked fields.")
    page.screenshot(path=os.path.join(SHOTS, "widget-long-message-refused.png"))
    with app.app_context():
        state = app.extensions["responso_chat"]
        assert state.db.session.query(Ticket).count() == 0

    retype(message, "My order arrived broken. ")
    paste(message, "The box was wet.")
    expect(dialog.get_by_text(f"of {MESSAGE_LIMIT} characters")).to_be_hidden()
    dialog.get_by_role("button", name="Start chat").click()
    log = dialog.get_by_role("log", name="Conversation")
    expect(log.get_by_text("The box was wet.")).to_be_visible()

    composer = dialog.get_by_label("Your message")
    paste(composer, story)
    counted = f"{len(story.strip())} of {MESSAGE_LIMIT} characters"
    expect(dialog.get_by_text(counted)).to_be_visible()
    composer.press("Enter")
    expect(composer).to_have_accessible_description(re.compile(
        f"Use at most {MESSAGE_LIMIT} characters."))
    expect(composer).to_have_value(story)  # kept, to shorten
    assert count_bodies(app, story.strip()) == 0


def test_drafts_survive_a_reload_and_go_when_sent(shop, new_page):
    shop.use()
    page = new_page()
    page.goto(shop.url + "/")
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").press_sequentially("Zoe Customer")
    dialog.get_by_label("E-mail").press_sequentially("zoe@example.com")
    dialog.get_by_label("Subject").press_sequentially("Sizes")
    paste(dialog.get_by_label("Message"), "Do you have this shirt in XL")
    page.reload()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Name")).to_have_value("Zoe Customer")
    expect(dialog.get_by_label("E-mail")).to_have_value("zoe@example.com")
    expect(dialog.get_by_label("Subject")).to_have_value("Sizes")
    message = dialog.get_by_label("Message")
    expect(message).to_have_value("Do you have this shirt in XL")
    message.press("End")
    message.press_sequentially("?")
    dialog.get_by_role("button", name="Start chat").click()
    log = dialog.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Do you have this shirt in XL?")).to_be_visible()

    composer = dialog.get_by_label("Your message")
    composer.press_sequentially("And in blue, half a")
    page.reload()
    composer = page.get_by_role("dialog").get_by_label("Your message")
    expect(composer).to_have_value("And in blue, half a")
    composer.press("End")
    composer.press_sequentially(" size up?")
    composer.press("Enter")
    expect(page.get_by_role("log", name="Conversation").get_by_text(
        "And in blue, half a size up?")).to_be_visible()
    expect(composer).to_have_value("")
    page.reload()
    expect(page.get_by_role("dialog").get_by_label("Your message")).to_have_value("")


@pytest.mark.parametrize("size", [
    {"viewport": {"width": 1280, "height": 600}}, PHONE,
], ids=["600px-high", "phone"])
def test_start_chat_is_reachable_out_of_hours_on_a_small_screen(shop, new_page, size):
    notice = ("We are closed for the weekend.\nLeave us a message and we will answer on "
              "Monday morning, in the order the messages came.\nFor returns, see the Returns "
              "page; for a parcel that has not arrived, give us its tracking number; for a "
              "damaged product, a photo helps. Our shop in Warsaw is open on Saturdays from "
              "10:00 to 14:00 if you would rather come by, and our phone line answers on "
              "weekdays from 9:00 to 17:00.")
    shop.use(opening_hours={}, out_of_hours_message=notice)
    page = new_page(**size)
    page.goto(shop.url + "/")
    launcher(page).click()
    dialog = page.get_by_role("dialog")
    banner = dialog.get_by_text("We are closed for the weekend.")
    expect(banner).to_be_visible()
    expect(dialog.get_by_label("Name")).to_be_in_viewport()  # the banner leaves room
    assert banner.bounding_box()["height"] <= dialog.bounding_box()["height"] / 3 + 1
    start = dialog.get_by_role("button", name="Start chat")
    start.scroll_into_view_if_needed()
    box, panel = start.bounding_box(), dialog.bounding_box()
    assert panel["y"] <= box["y"] and box["y"] + box["height"] <= panel["y"] + panel["height"]
    assert box["y"] + box["height"] <= size["viewport"]["height"]
    height = size["viewport"]["height"]
    page.screenshot(path=os.path.join(SHOTS, f"widget-out-of-hours-{height}.png"))
    start.click()
    expect(dialog.get_by_role("alert")).to_have_text("Please correct the marked fields.")


def test_a_second_visit_draws_the_launcher_before_the_config_answers(shop, new_page, app):
    chat_id = shop.use()
    page = new_page()
    with config_loaded(page):
        page.goto(shop.url + "/")
    expect(launcher(page)).to_be_visible()

    held = []
    page.route(re.compile(r"/config$"), lambda route: held.append(route))
    page.goto(shop.url + "/about")
    expect(launcher(page)).to_be_visible()  # from the config this browser kept
    for _ in range(250):  # then revalidated, after the frame that drew the launcher
        if held:
            break
        page.wait_for_timeout(20)  # (the route handler runs while Playwright waits)
    assert len(held) == 1  # the server's answer is still awaited
    page.screenshot(path=os.path.join(SHOTS, "widget-second-visit.png"))

    with app.app_context():  # meanwhile the shop hid the chat on this page
        state = app.extensions["responso_chat"]
        state.db.session.get(Chat, chat_id).paths = ["/about"]
        state.db.session.commit()
    held[0].continue_()
    expect(launcher(page)).to_be_hidden()
