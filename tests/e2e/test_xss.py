"""Hostile text in every field a person can type, rendered everywhere, in Chromium: no script
runs, no dialog opens, nothing is injected, and the text shows as typed.

One world holds the payloads in customer names, subjects and messages (typed into the widget),
agent replies and notes, auto-responses built from a template, chat names, welcome and
out-of-hours messages, tags, task titles, project names, contacts (names and notes), team
names, rule names and templates, API token names and a webhook URL. Each page is loaded once
with every payload on it; the page must have no inline script, no ``on*`` attribute, no
``javascript:`` link, no frame, no Content-Security-Policy violation (our own pages need
none), ``window.__xss`` never set and no dialog.
"""

from __future__ import annotations

import os
import tempfile

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from responso_chat.conversation import chats as chat_services
from responso_chat.conversation import messages
from responso_chat.conversation.visitor import issue_token
from responso_chat.inbox import contacts, tasks, teams
from responso_chat.integrations import api_tokens, webhooks
from responso_chat.models import AutomationRule, Chat, Contact, Tag, Ticket, Webhook
from responso_chat.users import Agent
from responso_chat.vocab import WEBHOOK_EVENTS
from tests.conftest import LiveServer
from tests.e2e.keys import paste
from tests.factories import make_chat, make_ticket
from tests.hardening import VisitorSocket, matrix_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SHOTS = os.environ.get("RESPONSO_CHAT_SCREENSHOTS") or tempfile.gettempdir()
ALICE = Agent("2", "Alice Agent", "alice@shop.test")

#: Each payload starts with a marker (x01…) so the page can be checked to show it as text.
PAYLOADS = (
    'x01 <script>window.__xss="script";alert(1)</script>',
    "x02 <img src=x onerror=\"window.__xss='img';alert(2)\">",
    "x03 javascript:window.__xss='js-url';alert(3)",
    "x04 \"'><svg onload=\"window.__xss='svg';alert(4)\">",
    "x05 {{7*191}} ${7*191} {%print(7*191)%} #{7*191}",
    'x06 </textarea></title></style><script>window.__xss="breakout"</script>',
    "x07 <iframe srcdoc=\"<script>parent.__xss='srcdoc'</script>\"></iframe>",
    "x08 <a href=\"javascript:window.__xss='href'\">click me</a>",
    "x09 <details open ontoggle=\"window.__xss='details'\">",
    "x10 ＜script＞window.__xss=1＜/script＞ \u202egnp.exe <scr\u200bipt>alert(10)</scr\u200bipt>",
    "x11 <math><mtext></form><form><mglyph><style></math>"
    "<img src onerror=\"window.__xss='mxss'\">",
    "x12 ';window.__xss='quote';// \";window.__xss='dquote';//",
    "x13 <svg><animate onbegin=\"window.__xss='animate'\" attributeName=x dur=1s>",
    "x14 <input autofocus onfocus=\"window.__xss='focus'\">",
)
MARKERS = [payload.split(" ", 1)[0] for payload in PAYLOADS]

#: Records CSP violations from the very start of every page (init scripts are not subject
#: to the page's policy).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
}, true);
"""

#: What a page holds, open shadow roots (the widget) included.
PROBE = """() => {
  const all = [];
  const walk = (root) => root.querySelectorAll("*").forEach((el) => {
    all.push(el);
    if (el.shadowRoot) walk(el.shadowRoot);
  });
  walk(document);
  const text = all.filter((el) => el.shadowRoot).map((el) => el.shadowRoot.textContent)
    .concat([document.body.innerText]).join("\\n");
  return {
    xss: window.__xss === undefined ? null : String(window.__xss),
    violations: window.__violations || [],
    inlineScripts: all.filter((el) => el.localName === "script" && !el.src &&
      el.type !== "application/json").length,
    handlers: all.flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name))
      .map((a) => el.localName + "[" + a.name + "]")),
    scriptUrls: all.filter((el) => ["href", "src", "action", "formaction", "srcdoc"]
      .some((name) => /^\\s*javascript:/i.test(el.getAttribute(name) || "") ||
        (name === "srcdoc" && el.hasAttribute(name)))).length,
    frames: all.filter((el) => ["iframe", "object", "embed", "frame"]
      .includes(el.localName)).length,
    text,
  };
}"""


def storefront(plugin_url: str, embed: str):
    """A shop on another origin with a strict policy of its own: scripts, styles and
    connections from itself and the plugin only, nothing inline, no eval."""
    from flask import Flask

    shop = Flask("strict_shop")
    socket = plugin_url.replace("http://", "ws://")
    policy = (
        f"default-src 'self'; script-src 'self' {plugin_url}; style-src 'self' {plugin_url}; "
        f"connect-src 'self' {plugin_url} {socket}; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'"
    )

    @shop.get("/")
    def home():
        response = shop.response_class(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Strict shop"
            f"</title></head><body><h1>Strict shop</h1>{embed}</body></html>"
        )
        response.headers["Content-Security-Policy"] = policy
        return response

    return shop


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The plugin served live with every payload stored, and a strict shop embedding it."""
    with matrix_app(f"sqlite:///{tmp_path_factory.mktemp('xss') / 'shop.db'}") as app:
        state = app.extensions["responso_chat"]
        session = state.db.session
        with app.app_context():
            open_chat = make_chat(
                PAYLOADS[0], welcome_message=" ".join(PAYLOADS[:7]),
                out_of_hours_message=" ".join(PAYLOADS),
            )
            closed_chat = make_chat(
                PAYLOADS[1], opening_hours={}, out_of_hours_behaviour="show_message",
                welcome_message=" ".join(PAYLOADS[7:]), out_of_hours_message=" ".join(PAYLOADS),
            )
            for payload in PAYLOADS[2:]:
                make_chat(payload, agent_ids=())
            for number, payload in enumerate(PAYLOADS):
                make_ticket(open_chat, payload, name=payload, message=payload,
                            email=f"x{number:02}@example.com")
            session.add(AutomationRule(
                name=PAYLOADS[4], enabled=True, trigger="new_ticket", match="all",
                conditions=[], position=1,
                actions=[{"type": "auto_reply", "value": "Thanks {{ customer_name }}!"}],
            ))
            for number, payload in enumerate(PAYLOADS):
                session.add(AutomationRule(
                    name=payload, enabled=False, trigger="new_ticket", match="all",
                    position=10 + number,
                    conditions=[{"field": "subject", "operator": "contains", "value": payload}],
                    actions=[{"type": "auto_reply", "value": payload + " {{ customer_name }}"},
                             {"type": "add_tag", "value": payload}],
                ))
            session.commit()
            for number, payload in enumerate(PAYLOADS):
                project = tasks.create_project(payload, payload)
                tasks.create_task(ALICE, title=payload, description=payload,
                                  project_id=project.id, assignee_id="1")
                contacts.create_contact(name=payload, email=f"c{number:02}@example.com",
                                        notes=payload)
                teams.create_team(payload, ["2"])
                api_tokens.create_token("1", payload[:100])
            contacts.create_contact(name=PAYLOADS[9], email="hostile@example.com",
                                    notes="\n".join(PAYLOADS))
            webhooks.create_webhook({
                "url": "https://hooks.example.test/in?q=%3Cscript%3Ewindow.__xss=1%3C/script%3E",
                "events": list(WEBHOOK_EVENTS), "enabled": False,
            })
            embed_open = chat_services.embed_snippet(open_chat, app.live.url + "/")
            embed_closed = chat_services.embed_snippet(closed_chat, app.live.url + "/")
        shops = {
            "open": LiveServer(storefront(app.live.url, embed_open)),
            "closed": LiveServer(storefront(app.live.url, embed_closed)),
        }
        app.shops = shops
        try:
            yield app
        finally:
            for shop in shops.values():
                shop.stop()


def watched(new_page, **options):
    """A page recording dialogs (dismissed) and CSP violations."""
    page = new_page(**options)
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.add_init_script(WATCH)
    return page


def assert_clean(page, where, markers=MARKERS):
    """Nothing ran and nothing was injected; every marker shows as text."""
    page.wait_for_timeout(150)  # broken images fire their error handlers by now
    found = page.evaluate(PROBE)
    assert page.dialogs == [], where
    assert found["xss"] is None, where
    assert found["violations"] == [], where
    assert found["inlineScripts"] == 0, where
    assert found["handlers"] == [], where
    assert found["scriptUrls"] == 0, where
    assert found["frames"] == 0, where
    missing = [marker for marker in markers if marker not in found["text"]]
    assert not missing, f"{where}: not shown {missing}"
    assert "1337" not in found["text"], where  # no template was evaluated
    return found


def login(page, url, email="admin@shop.test"):
    page.goto(url + "/login")
    page.get_by_label("E-mail").press_sequentially(email)
    page.get_by_label("Password").press_sequentially("secret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def test_the_probe_sees_an_injection(new_page):
    """The checks are not blind: the same probe flags a page that does run a payload."""
    page = watched(new_page)
    page.set_content("<p>x01</p>" + PAYLOADS[1] + PAYLOADS[3])
    page.wait_for_timeout(150)
    found = page.evaluate(PROBE)
    assert found["xss"] in ("img", "svg") and page.dialogs and found["handlers"]


def test_the_widget_shows_hostile_text_as_text(world, new_page):
    page = watched(new_page)
    page.goto(world.shops["open"].url + "/")
    page.get_by_role("button", name="Chat", exact=True).click()
    panel = page.get_by_role("dialog")
    expect(panel.get_by_role("heading")).to_contain_text("x07")
    # The customer types the payloads into the pre-chat form and types or pastes the others.
    panel.get_by_label("Name").press_sequentially(PAYLOADS[4])
    panel.get_by_label("E-mail").press_sequentially("hostile@example.com")
    panel.get_by_label("Subject").press_sequentially(PAYLOADS[5])
    panel.get_by_label("Message").press_sequentially(PAYLOADS[0])
    expect(panel.get_by_label("Subject")).to_have_value(PAYLOADS[5])
    panel.get_by_role("button", name="Start chat").click()
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_contain_text("x01")
    composer = panel.get_by_label("Your message")
    for number, payload in enumerate(PAYLOADS[1:], start=1):
        if number % 2:
            paste(composer, payload)
        else:
            composer.press_sequentially(payload)
        expect(composer).to_have_value(payload)
        composer.press("Enter")
    expect(log).to_contain_text("x14")
    state = world.extensions["responso_chat"]
    with world.app_context():
        ticket = state.db.session.execute(
            sa.select(Ticket).where(Ticket.customer_email == "hostile@example.com")
        ).scalar_one()
        world.hostile_ticket = ticket.id
        for payload in PAYLOADS:
            messages.post_agent_message(ticket, "2", "Alice Agent", payload)
            messages.post_agent_message(ticket, "2", "Alice Agent", "note " + payload,
                                        internal=True)
        for payload in PAYLOADS:
            ticket.tags.append(Tag(name=payload))
        tasks.create_task(ALICE, title=PAYLOADS[6], ticket=ticket)
        state.db.session.commit()
    state.jobs.join()  # the auto-response built from the customer's name
    expect(log).to_contain_text("Thanks x05 {{7*191}}")
    expect(log.get_by_text("note x01")).to_have_count(0)
    page.reload()
    page.get_by_role("log", name="Conversation").get_by_text("Thanks x05").wait_for()
    page.screenshot(path=os.path.join(SHOTS, "xss-widget.png"))
    assert_clean(page, "widget conversation")


def test_the_out_of_hours_message_shows_as_text(world, new_page):
    page = watched(new_page)
    page.goto(world.shops["closed"].url + "/")
    page.get_by_role("button", name="Chat", exact=True).click()
    expect(page.get_by_role("dialog")).to_contain_text("x14")
    assert_clean(page, "widget out of hours")


ADMIN_PAGES = (
    "/chat/inbox/",
    "/chat/inbox/tasks?scope=all",
    "/chat/inbox/projects",
    "/chat/inbox/contacts",
    "/chat/inbox/teams",
    "/chat/admin/",
    "/chat/admin/automations/",
    "/chat/account/api-tokens",
)


def test_inbox_and_admin_pages_show_hostile_text_as_text(world, new_page):
    page = watched(new_page, viewport={"width": 1280, "height": 900})
    login(page, world.live.url)
    state = world.extensions["responso_chat"]
    with world.app_context():
        ticket_id = getattr(world, "hostile_ticket", None) or state.db.session.scalar(
            sa.select(Ticket.id).order_by(Ticket.id))
        contact_id = state.db.session.scalar(
            sa.select(Contact.id).where(Contact.email == "hostile@example.com"))
        rule_id = state.db.session.scalar(
            sa.select(AutomationRule.id).where(AutomationRule.position == 10))
        chat_id = state.db.session.scalar(sa.select(Chat.id).order_by(Chat.id))
        webhook_id = state.db.session.scalar(sa.select(Webhook.id))
    visited = 0
    for path in ADMIN_PAGES:
        page.goto(world.live.url + path)
        assert_clean(page, path)
        visited += 1
    # One record's pages: every payload in its own fields.
    single = {
        f"/chat/inbox/tickets/{ticket_id}": MARKERS,
        f"/chat/inbox/contacts/{contact_id}": ["x10"],  # the notes: checked below
        f"/chat/admin/chats/{chat_id}/edit": [],  # values of form fields: checked below
        f"/chat/admin/automations/{rule_id}": [],
        f"/chat/admin/automations/{rule_id}/dry-run?ticket_id={ticket_id}": [],
        f"/chat/admin/webhooks/{webhook_id}": [],
        "/chat/admin/webhooks/": [],
    }
    for path, markers in single.items():
        page.goto(world.live.url + path)
        assert_clean(page, path, markers)
        visited += 1
    # Live updates are drawn by the page's script: a customer's message, typing and page.
    page.goto(f"{world.live.url}/chat/inbox/tickets/{ticket_id}")
    with world.app_context():
        token = issue_token(state.db.session.get(Ticket, ticket_id))
    customer = VisitorSocket(world.live.url, token)
    try:
        expect(page.locator('#rc-presence[data-online="true"]')).to_have_count(1)  # following
        customer.send(type="page", url="javascript:window.__xss='page'", title=PAYLOADS[7])
        customer.send(type="typing", typing=True)
        customer.send(type="send", body="live " + PAYLOADS[1], client_msg_id="live-1")
        expect(page.locator("#rc-page")).to_contain_text("x08")
        expect(page.get_by_role("list", name="Conversation")).to_contain_text("live x02")
        assert_clean(page, "ticket page, live", ["x08", "live x02"])
    finally:
        customer.close()
    page.screenshot(path=os.path.join(SHOTS, "xss-ticket.png"))
    # Form fields hold the payloads as their values, unchanged.
    page.goto(f"{world.live.url}/chat/inbox/contacts/{contact_id}")
    expect(page.get_by_label("Notes")).to_have_value("\n".join(PAYLOADS))
    page.goto(f"{world.live.url}/chat/admin/chats/{chat_id}/edit")
    expect(page.get_by_label("Name", exact=True)).to_have_value(PAYLOADS[0])
    expect(page.get_by_label("Welcome message")).to_have_value(" ".join(PAYLOADS[:7]))
    assert_clean(page, "chat form", [])
