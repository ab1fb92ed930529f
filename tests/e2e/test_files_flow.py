"""Files in Chromium: a customer sends a photo (the file button, then a pasted image), the
agent sees it live and sends a return label back, the customer downloads it; an upload
cancelled midway leaves nothing behind."""

from __future__ import annotations

import os
import tempfile

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from responso_chat.models import Attachment
from tests import filedata
from tests.e2e.keys import CLIPBOARD
from tests.e2e.test_widget_flow import agent_opens, only_ticket_id, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SHOTS = os.environ.get("RESPONSO_CHAT_SCREENSHOTS") or tempfile.gettempdir()


@pytest.fixture
def app(make_app, tmp_path):
    """The plugin's app, its attachments in a folder of the test."""
    return make_app(RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "files"))


@pytest.fixture
def files(tmp_path):
    """Files on the person's disk: a photo with its location, a PDF return label."""
    photo = tmp_path / "damaged parcel.jpg"
    photo.write_bytes(filedata.photo_with_location())
    label = tmp_path / "return-label.pdf"
    label.write_bytes(filedata.pdf())
    big = tmp_path / "video.pdf"
    big.write_bytes(filedata.pdf() + b"%" + b"0" * (6 * 1024 * 1024))
    return {"photo": str(photo), "label": str(label), "big": str(big)}


def attachment_count(app) -> int:
    with app.app_context():
        session = app.extensions["responso_chat"].db.session
        return session.scalar(sa.select(sa.func.count()).select_from(Attachment))


def put_image_on_clipboard(page):
    """Set up the clipboard as if the person had copied a screenshot (a small PNG)."""
    page.context.grant_permissions(CLIPBOARD)
    page.evaluate("""async () => {
        const canvas = new OffscreenCanvas(120, 80);
        const g = canvas.getContext("2d");
        g.fillStyle = "#2563eb"; g.fillRect(0, 0, 120, 80);
        const blob = await canvas.convertToBlob({ type: "image/png" });
        await navigator.clipboard.write([new ClipboardItem({ "image/png": blob })]);
    }""")


def customer_chatting(shop, new_page):
    """A customer who started a chat on the shop: their page, the widget's panel and log."""
    shop.use(agent_ids=("2",))
    customer = new_page()
    customer.goto(shop.url + "/products/linen")
    start_chat(customer)
    panel = customer.get_by_role("dialog")
    log = panel.get_by_role("log", name="Conversation")
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    return customer, panel, log


def test_photo_and_pasted_image_go_to_the_agent_and_a_label_comes_back(shop, new_page, app,
                                                                        files):
    customer, panel, log = customer_chatting(shop, new_page)
    agent = agent_opens(new_page, shop.plugin.url, only_ticket_id(app))
    agent_log = agent.get_by_role("list", name="Conversation")
    expect(agent_log.get_by_text("Hello, where is my parcel?")).to_be_visible()

    # The file button opens the file chooser; the photo appears on both sides.
    with customer.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(files["photo"])
    expect(log.get_by_role("img", name="damaged parcel.jpg")).to_be_visible()
    expect(agent_log.get_by_role("img", name="damaged parcel.jpg")).to_be_visible()
    customer.screenshot(path=os.path.join(SHOTS, "widget-photo-sent.png"))

    # A pasted screenshot goes the same way.
    composer = panel.get_by_label("Your message")
    put_image_on_clipboard(customer)
    composer.click()
    customer.keyboard.press("Control+V")
    expect(log.get_by_role("img", name="image.png")).to_be_visible()
    expect(agent_log.get_by_role("img", name="image.png")).to_be_visible()
    # A message of files alone gets no mood (the classifier reads text).
    pasted = agent_log.get_by_role("listitem").filter(
        has=agent.get_by_role("img", name="image.png"))
    expect(pasted.get_by_text("Neutral")).to_have_count(0)
    agent.screenshot(path=os.path.join(SHOTS, "inbox-photo-received.png"))
    image = agent_log.get_by_role("img", name="damaged parcel.jpg")
    assert agent.evaluate("img => img.naturalWidth", image.element_handle()) == 320

    # The agent sends the return label with a line of text.
    reply = agent.get_by_label("Reply to Zoe Customer")
    reply.press_sequentially("Here is your return label.")
    with agent.expect_file_chooser() as chooser:
        agent.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(files["label"])
    expect(agent_log.get_by_role("link", name="return-label.pdf")).to_be_visible()
    expect(reply).to_have_value("")
    link = log.get_by_role("link", name="return-label.pdf")
    expect(link).to_be_visible()
    expect(log.get_by_text("Here is your return label.")).to_be_visible()
    customer.screenshot(path=os.path.join(SHOTS, "widget-label-received.png"))
    agent.screenshot(path=os.path.join(SHOTS, "inbox-label-sent.png"))
    with customer.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "return-label.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == filedata.pdf()
    assert attachment_count(app) == 3

    # After a reload the files are still there (catch-up).
    customer.reload()
    expect(log.get_by_role("img", name="damaged parcel.jpg")).to_be_visible()
    expect(log.get_by_role("link", name="return-label.pdf")).to_be_visible()


def test_a_cancelled_upload_leaves_nothing(shop, new_page, app, files):
    customer, panel, log = customer_chatting(shop, new_page)
    held = []
    customer.route("**/widget/tickets/attachments", lambda route: held.append(route))
    with customer.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(files["big"])
    progress = log.get_by_role("progressbar", name="Uploading video.pdf")
    expect(progress).to_be_visible()
    customer.screenshot(path=os.path.join(SHOTS, "widget-upload-progress.png"))
    panel.get_by_role("button", name="Cancel").click()
    expect(progress).to_have_count(0)
    expect(log.get_by_text("video.pdf")).to_have_count(0)
    for route in held:
        route.abort()
    customer.unroute("**/widget/tickets/attachments")
    customer.wait_for_timeout(300)
    assert attachment_count(app) == 0
    customer.reload()
    expect(log.get_by_text("Hello, where is my parcel?")).to_be_visible()
    expect(log.get_by_text("video.pdf")).to_have_count(0)
