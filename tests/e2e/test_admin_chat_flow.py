"""In Chromium: an admin creates a chat with every setting, copies its code, edits, deletes it."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from responso_chat.models import Chat
from responso_chat.state import plugin_state
from tests.e2e.keys import paste, retype
from tests.hostapp import PASSWORD


def saved_chats(app):
    with app.app_context():
        state = plugin_state()
        return list(state.db.session.execute(sa.select(Chat)).scalars())


def test_admin_creates_copies_edits_and_deletes_a_chat(app, live_server, new_page, tmp_path):
    url = live_server(app).url
    page = new_page(permissions=["clipboard-read", "clipboard-write"], locale="en-US")
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially("admin@shop.test")
    page.get_by_label("Password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Add channel -> Chat -> Create.
    page.goto(url + "/chat/admin/")
    page.get_by_role("link", name="Add channel").click()
    page.get_by_role("link", name="Create a chat").click()
    expect(page.get_by_role("heading", name="Create a chat")).to_be_visible()

    page.get_by_label("Name", exact=True).press_sequentially("Storefront chat")
    page.get_by_label("Enabled").uncheck()
    page.get_by_label("Enabled").check()
    retype(page.get_by_label("Welcome message"), "Hi! Ask us about sizes and delivery.")
    page.get_by_label("Widget language").select_option("fr")
    page.get_by_label("Widget colour").fill("#7c2d12")  # a colour picker: no text to type
    page.get_by_label("Left").check()
    retype(page.get_by_label("Vertical spacing"), "60")
    page.get_by_label("Whitelist").check()
    paths = page.get_by_label("Path access list")
    paste(paths, "/shop\n/products/*/reviews\n")
    paths.press_sequentially("/shop?x=1")
    expect(paths).to_have_value("/shop\n/products/*/reviews\n/shop?x=1")
    page.get_by_label("Alice Agent").check()
    page.get_by_label("Bob Other").check()
    expect(page.get_by_label("Save without agents")).to_be_hidden()
    retype(page.get_by_label("Timezone"), "America/New_York")

    # Opening hours, by keyboard: Monday gets a second interval. Chromium draws time fields in
    # its own language, American English here: hours, minutes, then A or P for AM or PM.
    page.get_by_label("Monday", exact=True).select_option("intervals")
    page.get_by_label("Monday interval 1 from").press_sequentially("0800A")
    page.get_by_label("Monday interval 1 to").press_sequentially("1200P")
    page.get_by_role("button", name="Add interval").first.focus()  # Monday's; Tab stays
    page.keyboard.press("Enter")  # in the time field's hour, minute and AM/PM parts
    expect(page.get_by_label("Monday interval 2 from")).to_be_focused()
    page.keyboard.type("0100P")
    page.get_by_label("Monday interval 2 to").press_sequentially("0500P")
    for name, value in [("Monday interval 1 from", "08:00"), ("Monday interval 1 to", "12:00"),
                        ("Monday interval 2 from", "13:00"), ("Monday interval 2 to", "17:00")]:
        expect(page.get_by_label(name)).to_have_value(value)
    page.get_by_label("Thursday", exact=True).select_option("intervals")
    page.get_by_label("Thursday interval 1 from").press_sequentially("1000P")
    page.get_by_label("Thursday interval 1 to").press_sequentially("0200A")
    expect(page.get_by_label("Thursday interval 1 from")).to_have_value("22:00")
    expect(page.get_by_label("Thursday interval 1 to")).to_have_value("02:00")
    page.get_by_label("Friday", exact=True).select_option("closed")
    page.get_by_label("Saturday", exact=True).select_option("all_day")
    expect(page.get_by_label("Saturday interval 1 from")).to_be_hidden()
    page.get_by_label("Sunday", exact=True).select_option("closed")
    page.get_by_label("Show a message").check()

    # The live preview is the widget's own code, redrawn on the next frame after each change;
    # measure only once the redraw queued by the last change has replaced the old drawing.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    preview = page.locator("[data-preview-stage]")
    expect(preview.locator("h2")).to_have_text("Hi! Ask us about sizes and delivery.")
    expect(preview.locator(".h")).to_have_css("background-color", "rgb(124, 45, 18)")
    launcher = preview.get_by_role("button", expanded=True)  # the launcher, its panel open
    stage, icon = preview.bounding_box(), launcher.bounding_box()
    assert abs(icon["x"] - stage["x"] - 20) <= 2  # on the left
    assert abs(stage["y"] + stage["height"] - icon["y"] - icon["height"] - 60) <= 2  # 60 px up
    page.get_by_role("radio", name="Out of hours", exact=True).check()
    page.get_by_label("Out-of-hours message").press_sequentially("Back at nine.")
    expect(preview.get_by_text("Back at nine.")).to_be_visible()
    page.screenshot(path=tmp_path / "form-preview.png")
    page.get_by_label("Hide the chat widget").check()
    expect(launcher).to_have_count(0)
    page.get_by_label("Show a message").check()
    page.get_by_role("radio", name="Open", exact=True).check()
    expect(preview.get_by_text("Back at nine.")).to_be_hidden()

    # Two mistakes first: no out-of-hours message and an origin with a path.
    retype(page.get_by_label("Out-of-hours message"), "")
    page.get_by_label("Allowed websites").press_sequentially("https://shop.example.com/home")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("please correct these 2 fields")
    expect(page.locator("#out_of_hours_message-error")).to_contain_text("Enter the message")
    expect(page.locator("#allowed_origins-error")).to_contain_text("no path")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Storefront chat")
    expect(page.get_by_label("Monday interval 2 to")).to_have_value("17:00")
    page.screenshot(path=tmp_path / "form-errors.png", full_page=True)
    assert saved_chats(app) == []

    page.get_by_label("Out-of-hours message").press_sequentially(
        "We are offline; leave us a message."
    )
    websites = page.get_by_label("Allowed websites")
    retype(websites, "")
    paste(websites, "https://shop.example.com")
    expect(websites).to_have_value("https://shop.example.com")
    page.get_by_role("button", name="Create").click()

    # The list.
    expect(page.get_by_role("status").first).to_contain_text("Chat “Storefront chat” created.")
    row = page.get_by_role("row", name=re.compile("Storefront chat"))
    expect(row).to_contain_text("Enabled")
    expect(row).to_contain_text("Alice Agent, Bob Other")
    expect(row).to_contain_text("America/New_York")
    page.screenshot(path=tmp_path / "list.png", full_page=True)
    [chat] = saved_chats(app)
    assert (chat.alignment, chat.vertical_spacing, chat.language) == ("left", 60, "fr")
    assert chat.paths == ["/shop", "/products/*/reviews"]
    assert chat.opening_hours["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert chat.opening_hours["thu"] == [["22:00", "02:00"]]
    assert chat.opening_hours["fri"] == [] and chat.opening_hours["sun"] == []
    assert chat.opening_hours["sat"] == [["00:00", "24:00"]]
    assert chat.allowed_origins == ["https://shop.example.com"]

    # "Show code" and Copy.
    row.get_by_role("button", name="Show code").click()
    dialog = page.get_by_role("dialog", name="Embed code for “Storefront chat”")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("</body>")
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_role("status")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        f'<script src="{url}/chat/widget/{chat.public_key}/loader.js" async></script>'
    )
    dialog.get_by_text("Identify logged-in customers").click()
    expect(dialog.get_by_label("Identity secret")).to_have_value(chat.secret)
    page.screenshot(path=tmp_path / "code-dialog.png")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Edit.
    page.get_by_role("link", name="Edit Storefront chat").click()
    expect(page.get_by_label("Timezone")).to_have_value("America/New_York")
    expect(page.get_by_label("Thursday interval 1 to")).to_have_value("02:00")
    retype(page.get_by_label("Name", exact=True), "Shop chat")
    page.get_by_label("Bob Other").uncheck()
    page.get_by_role("button", name="Save changes").click()
    row = page.get_by_role("row", name=re.compile("Shop chat"))
    expect(row).to_contain_text("Alice Agent")
    expect(row).not_to_contain_text("Bob Other")

    # Delete, after confirming.
    page.get_by_role("link", name="Delete Shop chat").click()
    expect(page.get_by_role("heading", name="Delete the chat “Shop chat”?")).to_be_visible()
    page.get_by_role("button", name="Delete chat").click()
    expect(page.get_by_role("heading", name="No chat yet")).to_be_visible()
    assert saved_chats(app) == []
