"""In Chromium: the demo's admin and agent log in and reach the plugin's pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from responso_chat import migrations
from responso_chat.demo.app import create_app, create_shop_tables, db
from responso_chat.demo.data import seed_demo_chat
from responso_chat.demo.seed import seed_shop_users
from tests.e2e.keys import paste


@pytest.fixture
def demo_url(tmp_path, live_server):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.db"})
    with app.app_context():
        migrations.upgrade()
        create_shop_tables()
        seed_shop_users()
        seed_demo_chat()
    yield live_server(app).url
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def log_in(page, url, email, password):
    """Type the e-mail, paste the password (as from a password manager), press Enter."""
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially(email)
    paste(page.get_by_label("Password"), password)
    expect(page.get_by_label("Password")).to_have_value(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_admin_reaches_chat_settings_and_inbox(new_page, demo_url):
    page = new_page()
    log_in(page, demo_url, "admin@example.com", "admin-demo")
    page.get_by_role("link", name="Chat settings").click()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()
    expect(page.get_by_role("cell", name="Shop chat", exact=True)).to_be_visible()
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def test_agent_reaches_inbox_but_not_admin(new_page, demo_url):
    page = new_page()
    log_in(page, demo_url, "agent@example.com", "agent-demo")
    page.get_by_role("link", name="Chat inbox").click()
    expect(page.get_by_text("Where is my order?")).to_be_visible()
    expect(page.get_by_role("link", name="Chat settings")).to_have_count(0)
    response = page.goto(demo_url + "/chat/admin/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Access denied")).to_be_visible()
