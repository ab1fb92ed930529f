"""In Chromium: the admin pages' details — the chat form's errors and its out-of-hours preview,
one highlighted page in the navigation, a danger style for deleting, text that does not wrap
mid-word."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.e2e.keys import paste, retype
from tests.e2e.test_widget_flow import SHOTS
from tests.factories import make_chat
from tests.hostapp import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

RED = "rgb(220, 38, 38)"


@pytest.fixture
def admin(app, live_server, new_page):
    """An admin logged in on the live host app, with one chat saved."""
    with app.app_context():
        make_chat("Shop chat", agent_ids=("2", "3"))
    url = live_server(app).url
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially("admin@shop.test")
    page.get_by_label("Password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")
    page.base = url
    return page


def test_the_chat_form_marks_every_wrong_field_and_previews_a_hidden_chat(admin):
    page = admin
    page.goto(page.base + "/chat/admin/chats/new")
    name, timezone = page.get_by_label("Name", exact=True), page.get_by_label("Timezone")
    name.press_sequentially("Shop chat")  # taken
    retype(timezone, "Mars/")
    paste(timezone, "Olympus_Mons")
    expect(timezone).to_have_value("Mars/Olympus_Mons")
    page.get_by_label("Alice Agent").check()

    # The preview out of hours: a hidden chat says so instead of showing an empty box.
    page.get_by_label("Hide the chat widget").check()
    page.get_by_role("radio", name="Out of hours", exact=True).check()
    preview = page.get_by_role("complementary", name="Preview")
    expect(preview.get_by_text("Hidden outside opening hours")).to_be_visible()
    preview.screenshot(path=os.path.join(SHOTS, "admin-preview-hidden.png"))
    page.get_by_label("Show a message").check()
    expect(preview.get_by_text("Hidden outside opening hours")).to_be_hidden()
    expect(preview.get_by_role("button", expanded=True)).to_be_visible()  # the launcher

    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("please correct these 2 fields")
    for field in (page.get_by_label("Name", exact=True), page.get_by_label("Timezone")):
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_css("border-top-color", RED)
    page.screenshot(path=os.path.join(SHOTS, "admin-form-errors.png"))


def test_navigation_dates_codes_and_the_delete_button(admin):
    page = admin
    nav = page.get_by_role("navigation", name="Responso Chat")
    page.goto(page.base + "/chat/admin/")
    nav.get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", name="Base", exact=True)).to_be_visible()
    expect(nav.locator("[aria-current=page]")).to_have_count(1)
    expect(nav.locator("[aria-current=page]")).to_have_text("Integrations")
    nav.get_by_role("link", name="Chats").click()
    expect(nav.locator("[aria-current=page]")).to_have_text("Chats")

    row = page.get_by_role("row", name="Shop chat")
    expect(row.locator("time")).to_have_css("white-space", "nowrap")
    row.get_by_role("button", name="Show code").click()
    code = page.get_by_role("dialog").get_by_role("textbox").first
    expect(code).to_have_css("word-break", "normal")
    page.screenshot(path=os.path.join(SHOTS, "admin-code-dialog.png"))
    page.get_by_role("dialog").get_by_role("button", name="Close").click()

    page.get_by_role("link", name="Delete Shop chat").click()
    delete = page.get_by_role("button", name="Delete chat")
    expect(delete).to_have_css("background-color", "rgb(255, 255, 255)")
    expect(delete).to_have_css("color", "rgb(185, 28, 28)")
    page.screenshot(path=os.path.join(SHOTS, "admin-delete.png"))
