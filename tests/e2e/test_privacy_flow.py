"""In Chromium: an admin exports a contact's data from the contact page (a ZIP download), then
erases the contact after typing their e-mail address, a wrong one first; the privacy log and
the admins' Privacy page show both."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from playwright.sync_api import expect

from tests.e2e.keys import paste, retype
from tests.e2e.test_widget_flow import SHOTS
from tests.hostapp import PASSWORD
from tests.test_privacy import build_zoe

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.fixture
def admin(app, live_server, new_page):
    """An admin logged in on the live host app, and Zoe's contact with her tickets."""
    with app.app_context():
        world = build_zoe()
    url = live_server(app).url
    page = new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially("admin@shop.test")
    page.get_by_label("Password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")
    page.base, page.world = url, world
    return page


def test_export_then_erase_a_contact_from_the_contact_page(admin, tmp_path):
    page = admin
    page.goto(page.base + "/chat/inbox/contacts")
    page.get_by_role("link", name="Zoe Kowalska").click()
    privacy = page.get_by_role("region", name="Privacy")
    expect(privacy.get_by_text("never exported or erased")).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "privacy-contact.png"), full_page=True)

    with page.expect_download() as download_info:
        privacy.get_by_role("button", name="Export data").click()
    download = download_info.value
    assert download.suggested_filename == f"contact-{page.world['contact_id']}-export.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = json.loads(zipfile.ZipFile(saved).read("contact.json"))
    assert data["contact"]["name"] == "Zoe Kowalska" and len(data["tickets"]) == 2
    page.reload()
    expect(privacy.get_by_role("row", name="Exported")).to_contain_text("Ada Admin")

    privacy.get_by_role("link", name="Erase contact").click()
    expect(page.get_by_role("heading", name="Erase Zoe Kowalska?")).to_be_visible()
    expect(page.get_by_text("cannot be undone")).to_be_visible()
    confirm = page.get_by_label("Type the contact's e-mail address to confirm")
    confirm.press_sequentially("zoe@example.com")
    page.get_by_role("button", name="Erase contact").click()
    expect(confirm).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Type the contact's e-mail address exactly")).to_be_visible()
    expect(confirm).to_have_value("zoe@example.com")  # kept to correct
    page.screenshot(path=os.path.join(SHOTS, "privacy-erase-refused.png"), full_page=True)

    retype(confirm, "zoe.kowalska")
    paste(confirm, "@example.com")
    expect(confirm).to_have_value("zoe.kowalska@example.com")
    page.get_by_role("button", name="Erase contact").click()
    expect(page.get_by_role("status")).to_contain_text("The contact's data was erased (2 tickets")
    expect(page.get_by_role("heading", name=f"Erased contact #{page.world['contact_id']}"))\
        .to_be_visible()
    expect(privacy.get_by_role("row", name="Erased")).to_contain_text("Ada Admin")
    expect(privacy.get_by_role("link", name="Erase contact")).to_have_count(0)
    expect(page.get_by_text("Zoe Kowalska")).to_have_count(0)
    page.screenshot(path=os.path.join(SHOTS, "privacy-erased.png"), full_page=True)

    nav = page.get_by_role("navigation", name="Responso Chat")
    nav.get_by_role("link", name="Privacy").click()
    expect(nav.locator("[aria-current=page]")).to_have_text("Privacy")
    log = page.get_by_role("region", name="Exports and erasures")
    expect(log.get_by_role("row")).to_have_count(3)  # the head, the export, the erasure
    page.screenshot(path=os.path.join(SHOTS, "privacy-admin-page.png"), full_page=True)
