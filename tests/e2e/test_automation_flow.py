"""In Chromium: an admin builds "Integration is <chat> and sentiment is negative → priority high
+ auto-responder", an angry customer writes, and the agent sees both in the conversation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import make_chat
from tests.hostapp import PASSWORD

ANGRY = "This is UNACCEPTABLE!! My parcel arrived broken and nobody answers."


def log_in(page, url, email):
    page.goto(url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_admin_rule_acts_on_an_angry_customer(app, live_server, new_page):
    url = live_server(app).url
    with app.app_context():
        make_chat("Outlet chat")
        public_key = make_chat("Store chat", agent_ids=("2",)).public_key

    admin = new_page()
    log_in(admin, url, "admin@shop.test")
    admin.goto(url + "/chat/admin/")
    admin.get_by_role("link", name="Automations").click()
    admin.get_by_role("link", name="New rule").first.click()
    admin.get_by_label("Name").fill("Angry customers")
    admin.get_by_label("Condition 1 field").select_option(label="Integration (chat)")
    admin.get_by_label("Condition 1 operator").select_option(label="is")
    admin.get_by_label("Condition 1 value").select_option(label="Store chat")
    admin.get_by_role("button", name="Add condition").click()
    expect(admin.get_by_label("Condition 2 field")).to_be_focused()
    admin.get_by_label("Condition 2 field").select_option(label="Sentiment")
    admin.get_by_label("Condition 2 value").select_option(label="Negative")
    admin.get_by_label("Action 1", exact=True).select_option(label="Send auto-responder")
    admin.get_by_label("Action 1 text").fill(
        "Sorry {{ customer_name }}, we are on it: ticket #{{ ticket_id }} is a priority."
    )
    admin.get_by_role("button", name="Add action").click()
    admin.get_by_label("Action 2", exact=True).select_option(label="Set priority")
    admin.get_by_label("Action 2 value").select_option(label="High")
    admin.get_by_role("button", name="Create rule").click()
    expect(admin.get_by_role("status")).to_contain_text("Rule “Angry customers” created.")
    expect(admin.get_by_role("row", name="Angry customers")).to_contain_text(
        "Integration (chat) is Store chat and Sentiment is Negative"
    )

    # On a storefront page, the customer starts a chat with an angry message (the widget's
    # "Start chat" request).
    customer = new_page()
    customer.goto(url + "/")
    started = customer.evaluate(
        """async ([path, message]) => {
            const response = await fetch(path, {
                method: "POST",
                headers: {"Content-Type": "application/json"},
                body: JSON.stringify({name: "Zoe Customer", email: "zoe@example.com",
                                      subject: "Broken parcel", message}),
            });
            return {status: response.status, body: await response.json()};
        }""",
        [f"/chat/widget/{public_key}/tickets", ANGRY],
    )
    assert started["status"] == 201, started
    ticket_id = started["body"]["ticket"]["id"]

    agent = new_page()
    log_in(agent, url, "alice@shop.test")
    expected = f"Sorry Zoe Customer, we are on it: ticket #{ticket_id} is a priority."
    # The job runs in the background: reload the ticket page until it has acted.
    for _attempt in range(50):
        agent.goto(f"{url}/chat/inbox/tickets/{ticket_id}")
        if agent.get_by_text(expected).count():
            break
        agent.wait_for_timeout(100)
    expect(agent.get_by_text(expected)).to_be_visible()
    expect(agent.get_by_label("Priority", exact=True)).to_have_value("high")
    expect(agent.get_by_text("Automation Angry customers set priority to high")).to_be_visible()
    runs = agent.get_by_role("region", name="Automations")
    expect(runs).to_contain_text("Angry customers")
    expect(runs).to_contain_text("sent the auto-response")

    # The customer's conversation has the auto-response too (the widget's resume request).
    resumed = customer.evaluate(
        """async (token) => {
            const response = await fetch("/chat/widget/tickets/messages?after=0",
                                         {headers: {Authorization: "Bearer " + token}});
            return (await response.json()).messages.map((m) => [m.author_kind, m.body]);
        }""",
        started["body"]["token"],
    )
    assert ["automation", expected] in resumed
    assert all(kind != "system" or "priority" not in body for kind, body in resumed)
