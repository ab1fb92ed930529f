"""In Chromium: an admin sets up e-mail, sees a refused value next to its field, sends a test
e-mail that a real SMTP server receives, and saves."""

from __future__ import annotations

from playwright.sync_api import expect

from responso_chat.mail.settings import mail_config
from tests.e2e.keys import paste, retype
from tests.hostapp import PASSWORD


def test_admin_sets_up_email_and_sends_a_test(app, live_server, new_page, smtp, tmp_path):
    url = live_server(app).url
    page = new_page(permissions=["clipboard-read", "clipboard-write"], locale="en-US")
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially("admin@shop.test")
    page.get_by_label("Password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(url + "/chat/admin/integrations/base")
    page.get_by_role("navigation", name="Integrations").get_by_role("link", name="E-mail").click()
    expect(page.get_by_role("heading", name="E-mail", exact=True)).to_be_visible()

    page.get_by_label("SMTP server").press_sequentially("127.0.0.1")
    retype(page.get_by_label("SMTP port"), "99999")
    page.get_by_label("SMTP protection").select_option("none")
    page.get_by_label("From address").press_sequentially("help@shop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a port between 1 and 65535.")).to_be_visible()
    expect(page.get_by_label("SMTP port")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=tmp_path / "mail-errors.png", full_page=True)

    retype(page.get_by_label("SMTP port"), str(smtp.port))
    retype(page.get_by_label("From address"), "help@shop.test")
    retype(page.get_by_label("From name"), "Shop help")
    page.get_by_label("SMTP password").press_sequentially("not-needed")
    test_to = page.get_by_label("Send the test to")
    retype(test_to, "")
    paste(test_to, "owner@shop.test")
    expect(test_to).to_have_value("owner@shop.test")
    page.get_by_role("button", name="Send a test e-mail").click()
    expect(page.get_by_role("status").filter(has_text="Test e-mail sent")).to_be_visible()
    assert [to for to, _mail in smtp.messages] == [["owner@shop.test"]]
    page.screenshot(path=tmp_path / "mail-test.png", full_page=True)

    expect(page.get_by_label("SMTP password")).to_have_value("")  # never sent back
    page.get_by_label("SMTP password").press_sequentially("not-needed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("E-mail settings saved.")).to_be_visible()
    expect(page.get_by_label("SMTP password")).to_have_value("")  # write-only
    expect(page.get_by_text("A password is saved")).to_be_visible()
    with app.app_context():
        saved = mail_config()
        assert (saved.smtp_port, saved.from_address, saved.smtp_password) == (
            smtp.port, "help@shop.test", "not-needed")
