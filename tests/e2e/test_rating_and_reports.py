"""In Chromium: the customer rates an ended chat in the widget (chooses, types a comment,
sends, changes it, reloads) while the agent's side panel shows it live; an admin reads the
reports page, filters it with typed dates and a chat, and sees the errors of bad dates."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from responso_chat.conversation import messages, ticket_changes
from responso_chat.models import Ticket, TicketRating
from responso_chat.users import agents_by_id
from tests.e2e.keys import paste
from tests.e2e.test_widget_flow import SHOTS, agent_opens, only_ticket_id, start_chat
from tests.factories import make_chat

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def solve(app, ticket_id):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        messages.post_agent_message(ticket, "2", "Alice Agent", "Your parcel left today.")
        ticket_changes.set_status(ticket, "solved", agents_by_id()["2"])


def stored_rating(app, ticket_id):
    with app.app_context():
        row = app.extensions["responso_chat"].db.session.get(TicketRating, ticket_id)
        return None if row is None else (row.score, row.comment)


def test_the_customer_rates_changes_and_sees_the_rating_after_a_reload(shop, new_page, app):
    shop.use(agent_ids=("2",))
    customer = new_page(viewport={"width": 1000, "height": 860})
    customer.goto(shop.url + "/")
    start_chat(customer, "My parcel is late")
    expect(customer.get_by_text("My parcel is late")).to_be_visible()
    ticket_id = only_ticket_id(app)
    solve(app, ticket_id)  # Alice answered and solved it while the panel stayed open
    expect(customer.get_by_text("Your parcel left today.")).to_be_visible()
    agent = agent_opens(new_page, shop.plugin.url, ticket_id)  # on the solved ticket
    question = customer.get_by_role("group", name="How was this conversation?")
    expect(question).to_be_visible()
    send = customer.get_by_role("button", name="Send rating")
    send.click()  # nothing chosen yet
    expect(customer.get_by_role("alert")).to_have_text("Choose a rating from 1 to 5.")
    four = question.get_by_role("button", name="4 out of 5")
    four.click()
    expect(four).to_have_attribute("aria-pressed", "true")
    comment = customer.get_by_label("Comment (optional)")
    comment.press_sequentially("Quick answer, ")
    paste(comment, "thank you!")
    expect(comment).to_have_value("Quick answer, thank you!")
    customer.screenshot(path=os.path.join(SHOTS, "widget-rating-form.png"))
    send.click()
    expect(customer.get_by_text("Thank you for your rating!")).to_be_visible()
    expect(customer.get_by_text("You rated this conversation 4 out of 5.")).to_be_visible()
    assert stored_rating(app, ticket_id) == (4, "Quick answer, thank you!")
    customer.screenshot(path=os.path.join(SHOTS, "widget-rating-thanks.png"))

    # the agent's side panel shows it at once, over the websocket
    panel = agent.get_by_role("complementary", name="Ticket details")
    expect(panel.locator("#rc-ticket-rating")).to_contain_text("4 out of 5")
    expect(panel.locator("#rc-ticket-rating")).to_contain_text("Quick answer, thank you!")
    agent.screenshot(path=os.path.join(SHOTS, "inbox-panel-rating.png"))

    # changed within the day: the choice and comment come back to edit
    customer.get_by_role("button", name="Change rating").click()
    five = question.get_by_role("button", name="5 out of 5")
    expect(four).to_have_attribute("aria-pressed", "true")
    expect(comment).to_have_value("Quick answer, thank you!")
    five.click()
    comment.press("Control+End")
    comment.press_sequentially(" Great service.")
    send.click()
    expect(customer.get_by_text("You rated this conversation 5 out of 5.")).to_be_visible()
    assert stored_rating(app, ticket_id) == (5, "Quick answer, thank you! Great service.")
    expect(panel.locator("#rc-ticket-rating")).to_contain_text("5 out of 5")

    customer.reload()  # the panel stays open over a reload, with the rating given
    expect(customer.get_by_text("You rated this conversation 5 out of 5.")).to_be_visible()
    expect(customer.get_by_text("Quick answer, thank you! Great service.")).to_be_visible()
    expect(customer.get_by_role("button", name="Change rating")).to_be_visible()
    expect(customer.get_by_text("Thank you for your rating!")).to_have_count(0)

    # a day later it is read-only: no "Change rating" after a reload
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.get(TicketRating, ticket_id).created_at -= timedelta(days=1)
        state.db.session.commit()
    customer.reload()
    expect(customer.get_by_text("You rated this conversation 5 out of 5.")).to_be_visible()
    expect(customer.get_by_role("button", name="Change rating")).to_have_count(0)
    customer.screenshot(path=os.path.join(SHOTS, "widget-rating-read-only.png"))


def log_in_admin(page, url):
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially("admin@shop.test")
    page.get_by_label("Password").press_sequentially("secret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def seed_reports(app):
    """Two chats' tickets over the first days of November 2026."""
    with app.app_context():
        session = app.extensions["responso_chat"].db.session
        chats = [make_chat("Store chat"), make_chat("Outlet", timezone="UTC")]
        start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
        for n in range(24):
            chat = chats[n % 2]
            created = start + timedelta(hours=4 * n + n % 3)
            ticket = Ticket(
                chat_id=chat.id, chat_name=chat.name, subject=f"Order {n}",
                customer_name="Zoe", customer_email=f"zoe{n}@example.com",
                status=("solved", "closed", "open")[n % 3], assignee_id=("2", "3")[n % 2],
                created_at=created, last_message_at=created,
                first_response_at=created + timedelta(minutes=2 + n),
                ended_at=created + timedelta(hours=1 + n % 4) if n % 3 != 2 else None,
            )
            session.add(ticket)
            session.flush()
            if n % 3 != 2:
                session.add(TicketRating(ticket_id=ticket.id, score=1 + n % 5, comment="",
                                         created_at=created, updated_at=created))
        session.commit()


def test_an_admin_filters_the_reports_and_downloads_them(app, live_server, new_page):
    seed_reports(app)
    server = live_server(app)
    page = new_page(viewport={"width": 1280, "height": 1000})
    log_in_admin(page, server.url)
    page.goto(server.url + "/chat/admin/")
    page.get_by_role("navigation", name="Responso Chat").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()

    start, end = page.get_by_label("From", exact=True), page.get_by_label("To", exact=True)
    start.press("Control+a")  # the default range is selected, then typed over
    start.press_sequentially("2026-11-02")
    end.press("Control+a")
    end.press("Delete")
    paste(end, "2026-11-06")
    expect(end).to_have_value("2026-11-06")
    page.get_by_role("button", name="Show report").click()
    scope = page.get_by_text("24 conversations created from 2026-11-02 to 2026-11-06")
    expect(scope).to_be_visible()
    for title in ("Conversations per day", "Conversations per chat", "Ratings"):
        expect(page.get_by_role("img", name=title)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Busiest hours"))).to_be_visible()
    agents = page.get_by_role("table", name="Agents")
    expect(agents.get_by_role("row", name=re.compile("Alice Agent 12"))).to_be_visible()
    page.screenshot(path=os.path.join(SHOTS, "reports-all-chats.png"), full_page=True)

    page.get_by_label("Chat", exact=True).select_option(label="Outlet")
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_text("12 conversations created")).to_be_visible()
    expect(page.get_by_text("Days and hours in UTC (the chat's timezone)")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "responso-chat-report-2026-11-02-2026-11-06.csv"
    with open(download.value.path(), encoding="utf-8") as downloaded:
        lines = downloaded.read().splitlines()
    assert "conversations,all,count,12" in lines and "report,chat,name,Outlet" in lines

    # bad dates: the errors next to their fields, no figures
    end.press("Control+a")
    end.press_sequentially("2026-10-01")
    start.press("Control+a")
    start.press_sequentially("2026-31-12")
    page.get_by_role("button", name="Show report").click()
    expect(start).to_have_accessible_description(re.compile("Enter a date as YYYY-MM-DD"))
    expect(page.get_by_role("link", name="Download CSV")).to_have_count(0)
    start.press("Control+a")
    start.press_sequentially("2026-11-02")
    page.get_by_role("button", name="Show report").click()
    expect(end).to_have_accessible_description("To must be on or after From.")
    expect(end).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=os.path.join(SHOTS, "reports-errors.png"), full_page=True)
