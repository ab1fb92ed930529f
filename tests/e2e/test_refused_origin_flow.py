"""In Chromium: a shop missing from a chat's allowed websites gets no widget; the admin sees
the refused website on the chat's page and allows it; the widget then shows there."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.e2e.test_widget_flow import SHOTS, launcher

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def test_the_admin_allows_a_refused_website(shop, new_page):
    chat_id = shop.use(allowed_origins=["https://elsewhere.example"])
    customer = new_page()
    # the browser reports the refused request; that is what this test is about
    customer_pages = new_page
    customer_pages.allow_console(r"Access-Control-Allow-Origin|403|CORS|Failed to load")
    with customer.expect_event("requestfailed",
                               lambda request: request.url.endswith("/config")):
        customer.goto(shop.url + "/")  # the browser refuses the answer to this page
    expect(launcher(customer)).to_have_count(0)

    admin = new_page(viewport={"width": 1280, "height": 900})
    admin.goto(shop.plugin.url + "/login")
    admin.get_by_label("E-mail").press_sequentially("admin@shop.test")
    admin.get_by_label("Password").press_sequentially("secret-pass")
    admin.get_by_role("button", name="Log in").click()
    admin.goto(f"{shop.plugin.url}/chat/admin/chats/{chat_id}/edit")
    section = admin.get_by_role("region", name="Websites refused recently")
    expect(section).to_be_visible()
    expect(section.get_by_role("cell", name=shop.url)).to_be_visible()
    admin.screenshot(path=os.path.join(SHOTS, "admin-refused-websites.png"))
    section.get_by_role("button", name="Allow this website").click()
    expect(admin.get_by_role("status").filter(has_text="may now use the chat")).to_be_visible()
    expect(admin.get_by_role("region", name="Websites refused recently")).to_have_count(0)
    expect(admin.get_by_label("Allowed websites")).to_have_value(
        "https://elsewhere.example\n" + shop.url)
    admin.screenshot(path=os.path.join(SHOTS, "admin-website-allowed.png"))

    customer.reload()
    expect(launcher(customer)).to_be_visible()
