"""Attacks a hostile tester ran against the product, reproduced: each must now fail.

A stranger, a customer and an agent without rights try what the product must refuse.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from jinja2 import TemplateError
from marshmallow import ValidationError
from werkzeug.serving import make_server

from responso_chat import migrations
from responso_chat.automations import rules, templating
from responso_chat.demo.app import create_app as create_demo_app
from responso_chat.demo.base_standin import create_standin_app, serve_standin
from responso_chat.inbox import tasks
from responso_chat.integrations import webhooks
from responso_chat.models import (
    AutomationRun,
    Chat,
    Message,
    Ticket,
    WebhookDelivery,
    ticket_details,
)
from responso_chat.orders import sync as orders
from responso_chat.orders.base_client import BaseClient, BaseUnavailable
from responso_chat.safe_urls import local_path
from responso_chat.users import Agent
from tests.factories import make_chat, make_ticket

ALICE = Agent("2", "Alice Agent", "alice@shop.test")

SHOP = "https://shop.example"
TOKEN = "bl-trust-token-7d21"


def state_of(app):
    return app.extensions["responso_chat"]


def start_chat(client, key, **changes):
    """A stranger's Start chat in the widget, over HTTP like the browser sends it."""
    form = {
        "name": "Mallory", "email": "zoe@example.com", "subject": "Cancel",
        "message": "Please cancel my order 5001", "page_url": SHOP + "/", "page_title": "Shop",
        "language": "en", **changes,
    }
    response = client.post(f"/chat/widget/{key}/tickets", json=form, headers={"Origin": SHOP})
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def shop_with_orders(make_app):
    """An app whose Base stand-in holds Zoe's order 5001 (status "New")."""
    now = int(time.time())
    wsgi = create_standin_app(
        TOKEN,
        orders=[{"order_id": 5001, "shop_order_id": 11, "email": "zoe@example.com",
                 "order_status_id": 1, "date_add": now - 3600, "date_confirmed": now}],
        statuses=[{"id": 1, "name": "New", "name_for_customer": "", "color": "#000000"},
                  {"id": 9, "name": "Cancelled", "name_for_customer": "", "color": "#000000"}],
    )
    server, thread, url = serve_standin(wsgi)
    app = make_app(RESPONSO_CHAT_BASE_API_URL=url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)
    app.standin = wsgi.standin
    with app.app_context():
        orders.sync_status_list()
        app.chat_key = make_chat("Store chat", allowed_origins=[SHOP]).public_key
    yield app
    server.shutdown()
    thread.join(timeout=5)


def _rule(**values):
    base = {"name": "Cancel", "enabled": True, "trigger": "new_ticket", "match": "all",
            "conditions": [], "actions": []}
    return rules.create_rule({**base, **values})


def _bodies(app, ticket_id, kind):
    state = state_of(app)
    with app.app_context():
        return list(state.db.session.scalars(
            sa.select(Message.body).where(Message.ticket_id == ticket_id,
                                          Message.author_kind == kind).order_by(Message.seq)
        ))


def test_a_typed_e_mail_never_tells_or_changes_that_persons_orders(shop_with_orders):
    """Anonymous Start chat with someone else's e-mail and "please cancel my order": the
    auto-reply tells no order number or status, and no rule cancels the real order."""
    app = shop_with_orders
    with app.app_context():
        _rule(actions=[
            {"type": "auto_reply", "value": "Order {{ order_number }} is {{ order_status }}."},
            {"type": "change_order_status", "value": "9"},
        ])
        _rule(name="Buyers", conditions=[
            {"field": "has_order", "operator": "is", "value": "yes"}],
            actions=[{"type": "add_tag", "value": "buyer"}])
    ticket_id = start_chat(app.test_client(), app.chat_key)["ticket"]["id"]
    state_of(app).jobs.join()

    assert app.standin.order(5001)["order_status_id"] == 1
    assert _bodies(app, ticket_id, "automation") == ["Order  is ."]
    assert not any("5001" in line or "11" in line
                   for line in _bodies(app, ticket_id, "automation"))
    state = state_of(app)
    with app.app_context():
        outcome = state.db.session.scalars(
            sa.select(AutomationRun.outcome)
            .where(AutomationRun.ticket_id == ticket_id)
            .order_by(AutomationRun.id)).first()
        assert outcome[1]["result"] == "skipped" and "not verified" in outcome[1]["text"]
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        assert [tag.name for tag in ticket.tags] == []  # has_order is "no" for a stranger


def test_the_same_rules_act_for_a_verified_customer(shop_with_orders):
    """The control: with the shop's signature the e-mail is proven and the rules act."""
    import hashlib
    import hmac

    app = shop_with_orders
    state = state_of(app)
    with app.app_context():
        secret = state.db.session.scalar(
            sa.select(Chat.secret).where(Chat.public_key == app.chat_key))
        _rule(actions=[
            {"type": "auto_reply", "value": "Order {{ order_number }} is {{ order_status }}."},
            {"type": "change_order_status", "value": "9"},
        ])
    signature = hmac.new(secret.encode(), b"zoe@example.com", hashlib.sha256).hexdigest()
    ticket_id = start_chat(app.test_client(), app.chat_key, signature=signature,
                           name="Zoe")["ticket"]["id"]
    state.jobs.join()
    assert _bodies(app, ticket_id, "automation") == ["Order 11 is New."]
    assert app.standin.order(5001)["order_status_id"] == 9


def test_rules_can_ask_whether_the_e_mail_is_verified(shop_with_orders):
    app = shop_with_orders
    with app.app_context():
        _rule(conditions=[{"field": "email_verified", "operator": "is", "value": "no"}],
              actions=[{"type": "add_tag", "value": "unverified"}])
    ticket_id = start_chat(app.test_client(), app.chat_key)["ticket"]["id"]
    state = state_of(app)
    state.jobs.join()
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        assert [tag.name for tag in ticket.tags] == ["unverified"]


@pytest.mark.parametrize("template", [
    "{{ lipsum(n=100000) }}",
    "{{ range(100000) }}",
    "{% for a in customer_name %}{% for b in customer_name %}x{% endfor %}{% endfor %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{{ customer_name * 100000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ customer_name.ljust(100000000) }}",
    "{{ customer_name|center(100000000) }}",
    "{{ customer_name|replace('', customer_email)|replace('', customer_email) }}",
    "{{ '%100000000s'|format(customer_name) }}",
    "{{ '%0300000000d' % 1 }}",
    "{{ customer_name ~ ('%0300000000d' % 1) }}",
    "{% set a = customer_name ~ customer_name %}" + "{% set a = a + a %}" * 60 + "{{ a }}",
    "{% with a = customer_name %}" + "{% with a = a ~ a %}" * 60 + "{{ a }}"
    + "{% endwith %}" * 61,
    "{{ " + "(" * 1200 + "1" + ")" * 1200 + " }}",
])
def test_an_admins_template_cannot_burn_cpu_or_memory(app, template):
    """Templates that would render for seconds or fill memory are refused when saved, and
    refused again if one is rendered anyway (a rule saved before the bound existed)."""
    with app.app_context():
        problems = templating.template_problems(template)
        assert problems and problems[0].startswith(("The template has an error",
                                                    "Unknown variable")), problems
        with pytest.raises(TemplateError):
            templating.render_text(template, {"customer_name": "Zoe", "customer_email": "z@x"})


def test_plain_templates_still_render(app):
    with app.app_context():
        template = ("Hi {{ customer_name|title }}, {% if order_number %}order {{ order_number }}"
                    "{% else %}no order{% endif %} {{ order_status|default('-') }} {{ 2 * 3 }}")
        assert templating.template_problems(template) == []
        rendered = templating.render_text(template, {"customer_name": "zoe smith",
                                                      "order_number": "11"})
        assert rendered == "Hi Zoe Smith, order 11 - 6"


# --- Redirects after a form: only back to this site -------------------------------------------

OFF_SITE = ["//evil.example/", "/\t/evil.example/", "/\\evil.example", "/\\/evil.example",
            "https://evil.example/", "javascript:alert(1)", "/ok\nSet-Cookie: x=1", " /x", ""]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_off_site(target):
    assert local_path(target, "/fallback") == "/fallback"


def test_next_keeps_local_paths():
    assert local_path("/chat/inbox/tasks?scope=all#t", "/f") == "/chat/inbox/tasks?scope=all#t"


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/x\n/y", "/x\r\nLocation: //e"])
def test_task_done_with_a_hostile_next_goes_to_the_task_list(app, client, auth, target):
    auth.login("alice@shop.test")
    with app.app_context():
        task_id = tasks.create_task(ALICE, title="Call back", assignee_id="2").id
    response = client.post(f"/chat/inbox/tasks/{task_id}/done",
                           data={"csrf_token": auth.csrf_token(), "done": "true", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/chat/inbox/tasks"


def test_the_demo_has_no_fixed_secret_key():
    """A key written in the code would let anyone sign an admin session cookie."""
    first, second = create_demo_app({"TESTING": True}), create_demo_app({"TESTING": True})
    assert first.secret_key != second.secret_key and len(first.secret_key) >= 32


def test_demo_login_hashes_a_password_for_unknown_e_mails_too(monkeypatch, tmp_path):
    """A login with an unknown e-mail costs the same password check as a wrong password, so
    response times do not tell which customers have an account."""
    from responso_chat.demo import app as demo

    checked = []
    real = demo.check_password_hash
    monkeypatch.setattr(demo, "check_password_hash",
                        lambda *args: checked.append(args) or real(*args))
    app = create_demo_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                           "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}"})
    with app.app_context():
        migrations.upgrade()
        demo.create_shop_tables()
    response = app.test_client().post("/login", data={"email": "nobody@example.com",
                                                      "password": "guess"})
    assert response.status_code == 401 and len(checked) == 1


# --- Names nobody can see or that turn the text around ------------------------------------------

@pytest.mark.parametrize("name", ["\u200b\u200b", "\u200d", "\u3164", "\u2800 \u2800",
                                  "Zoe\u202eevil.exe", "\u2066Zoe", "Zoe\u200f"])
def test_invisible_or_reordering_names_are_refused(app, name):
    with app.app_context():
        key = make_chat("Store chat", allowed_origins=[SHOP]).public_key
    response = app.test_client().post(
        f"/chat/widget/{key}/tickets", headers={"Origin": SHOP},
        json={"name": name, "email": "zoe@example.com", "subject": "Hi", "message": "Hello"})
    assert response.status_code == 422 and "name" in response.json["errors"]


@pytest.mark.parametrize("name", ["Łukasz Żółć", "محمد علي", "山田 太郎", "O'Brien-Smith"])
def test_names_in_any_script_are_kept(app, name):
    with app.app_context():
        key = make_chat("Store chat", allowed_origins=[SHOP]).public_key
    response = app.test_client().post(
        f"/chat/widget/{key}/tickets", headers={"Origin": SHOP},
        json={"name": name, "email": "zoe@example.com", "subject": "Hi", "message": "Hello"})
    assert response.status_code == 201, response.json


# --- Opening a ticket assigns it, but only from the inbox itself --------------------------------

@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site", None])
def test_a_link_on_another_site_never_assigns_a_ticket(app, auth, fetch_site):
    """A foreign page linking to a ticket (or a client that does not say where it comes from)
    gets the page without taking the ticket; "Join chat" does it with the CSRF token."""
    client = app.test_client()
    auth = type(auth)(client)
    auth.login("alice@shop.test")
    with app.app_context():
        ticket_id = make_ticket(make_chat("Store chat")).id
    headers = {"Sec-Fetch-Site": fetch_site} if fetch_site else {}
    page = client.get(f"/chat/inbox/tickets/{ticket_id}", headers=headers)
    assert page.status_code == 200 and "Join chat" in page.get_data(as_text=True)
    state = state_of(app)
    with app.app_context():
        assert state.db.session.get(Ticket, ticket_id).assignee_id is None
        assert not state.db.session.scalar(
            sa.select(sa.func.count()).where(Message.ticket_id == ticket_id,
                                             Message.author_kind == "system"))
    forged = client.post(f"/chat/inbox/tickets/{ticket_id}/take-over")
    assert forged.status_code == 400
    joined = client.post(f"/chat/inbox/tickets/{ticket_id}/take-over",
                         data={"csrf_token": auth.csrf_token()})
    assert joined.status_code == 303
    with app.app_context():
        assert state.db.session.get(Ticket, ticket_id).assignee_id == "2"


@pytest.mark.parametrize("fetch_site", ["same-origin", "none"])
def test_opening_a_ticket_from_the_inbox_or_the_address_bar_assigns_it(app, auth, fetch_site):
    client = app.test_client()
    type(auth)(client).login("alice@shop.test")
    with app.app_context():
        ticket_id = make_ticket(make_chat("Store chat")).id
    page = client.get(f"/chat/inbox/tickets/{ticket_id}", headers={"Sec-Fetch-Site": fetch_site})
    assert "Alice Agent joined the chat" in page.get_data(as_text=True)
    assert "Join chat" not in page.get_data(as_text=True)


# --- Webhooks: only to public addresses, and gone with their log ---------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://localhost/hook", "http://[::1]/", "http://10.0.0.5/",
    "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
    "http://0.0.0.0:5432/",
])
def test_webhooks_never_target_loopback_or_private_networks(app, url):
    with app.app_context():
        with pytest.raises(ValidationError) as refused:
            webhooks.create_webhook({"url": url, "events": ["ticket.created"], "enabled": True})
        assert "private network" in refused.value.messages["url"][0]
        assert webhooks.list_webhooks() == []


def test_a_webhook_whose_name_now_resolves_to_a_private_address_is_not_called(app, monkeypatch):
    """Checked again at each delivery: a name that resolved to a public address when saved may
    point at the shop's own network by the time an event is sent."""
    calls = []
    monkeypatch.setattr(webhooks.requests, "post", lambda *a, **k: calls.append(a))
    public = [(2, 1, 6, "", ("93.184.216.34", 0))]
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", lambda *a, **k: public)
    with app.app_context():
        webhook = webhooks.create_webhook(
            {"url": "https://hooks.example.com/x", "events": ["ticket.created"], "enabled": True})
        webhook_id = webhook.id
    monkeypatch.setattr(webhooks.socket, "getaddrinfo",
                        lambda *a, **k: [(2, 1, 6, "", ("127.0.0.1", 0))])
    with app.app_context():
        make_ticket(make_chat("Store chat"))
    state_of(app).jobs.join()
    assert calls == []
    with app.app_context():
        (delivery,) = webhooks.recent_deliveries(webhooks.get_webhook(webhook_id))
        assert "private network" in delivery.error


def test_deleting_a_webhook_deletes_its_deliveries_on_sqlite_too(app, monkeypatch):
    """SQLite does not enforce foreign keys unless told: the log (with its payloads) went on
    living after its webhook, and the pending retry then crashed."""
    monkeypatch.setattr(webhooks, "refused_address", lambda url: None)
    monkeypatch.setattr(webhooks.requests, "post", _refuse_connection)
    state = state_of(app)
    with app.app_context():
        webhook_id = webhooks.create_webhook(
            {"url": "https://hooks.example.com/x", "events": ["ticket.created"], "enabled": True}
        ).id
        make_ticket(make_chat("Store chat"))
    state.jobs.join()
    with app.app_context():
        (delivery_id,) = state.db.session.scalars(sa.select(WebhookDelivery.id))
        webhooks.delete_webhook(webhooks.get_webhook(webhook_id))
        assert state.db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
        webhooks.deliver(delivery_id)  # the retry that was pending finds nothing to do


def _refuse_connection(*_args, **_kwargs):
    raise webhooks.requests.ConnectionError("refused")


# --- The Base token goes to the Base API URL and nowhere else ------------------------------------

@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_the_base_client_never_follows_a_redirect_with_the_token(code):
    """A redirecting API URL (a typo, a hijacked host) must not carry the token elsewhere."""
    seen = []
    catcher, catcher_thread, catcher_url = _serve(
        lambda environ: seen.append(environ.get("HTTP_X_BLTOKEN")) or (200, {}, b"{}"))
    redirector, redirector_thread, url = _serve(
        lambda environ: (code, {"Location": catcher_url + "/connector.php"}, b""))
    try:
        with BaseClient(url=url + "/connector.php", token=TOKEN, retries=0) as client:
            with pytest.raises(BaseUnavailable, match="redirect"):
                client.call("getOrderStatusList")
    finally:
        for server, thread in ((catcher, catcher_thread), (redirector, redirector_thread)):
            server.shutdown()
            thread.join(timeout=5)
    assert seen == []


def _serve(answer):
    """A loopback HTTP server answering every request with ``answer(environ)``."""
    def app(environ, start_response):
        status, headers, body = answer(environ)
        start_response(f"{status} X", list(headers.items()))
        return [body]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


# --- Client message ids reach only their own author's messages -----------------------------------

def _start_anonymously(app, **changes):
    """Start chat as a stranger; the visitor's token and the ticket id."""
    with app.app_context():
        key = make_chat("Store chat", allowed_origins=[SHOP]).public_key
    body = start_chat(app.test_client(), key, name="Mallory", message="Hi", **changes)
    state_of(app).jobs.join()
    return body["token"], body["ticket"]["id"]


def _customer_sends(app, token, client_msg_id, body="x"):
    return app.test_client().post(
        "/chat/widget/tickets/messages", json={"body": body, "client_msg_id": client_msg_id},
        headers={"Authorization": f"Bearer {token}", "Origin": SHOP})


def test_a_customer_never_reaches_an_automations_internal_note_by_its_id(app):
    """The reported steps: a rule replies and adds an internal note; the customer reads the
    reply's id and sends the note's guessable id."""
    with app.app_context():
        _rule(actions=[{"type": "auto_reply", "value": "We got it."},
                       {"type": "internal_note", "value": "VIP: refund without asking"}])
    token, ticket_id = _start_anonymously(app)
    listing = app.test_client().get("/chat/widget/tickets/messages",
                                    headers={"Authorization": f"Bearer {token}", "Origin": SHOP})
    (reply,) = [m for m in listing.json["messages"] if m["author_kind"] == "automation"]
    assert reply["client_msg_id"] is None  # an automation's key is never shown
    for guess in ("automation:1:0", "automation:1:1"):
        response = _customer_sends(app, token, guess, body=f"guess {guess}")
        assert response.status_code == 201
        assert response.json["message"]["body"] == f"guess {guess}"
        assert response.json["message"]["author_kind"] == "customer"
    assert "VIP: refund without asking" in _bodies(app, ticket_id, "automation")


def test_a_customer_never_reaches_an_agents_note_by_its_id(app, auth):
    token, ticket_id = _start_anonymously(app)
    client = app.test_client()
    type(auth)(client).login("alice@shop.test")
    note = client.post(f"/chat/inbox/tickets/{ticket_id}/messages",
                       json={"body": "Internal: customer is rude", "internal": True,
                             "client_msg_id": "known-id"},
                       headers={"X-CSRFToken": type(auth)(client).csrf_token()})
    assert note.status_code == 201
    response = _customer_sends(app, token, "known-id", body="my own words")
    assert response.json["message"]["body"] == "my own words"
    assert _bodies(app, ticket_id, "agent") == ["Internal: customer is rude"]


def test_a_customer_cannot_suppress_a_rules_note_by_sending_its_id_first(app):
    with app.app_context():
        _rule(actions=[{"type": "internal_note", "value": "Check this one"}])
    _token, ticket_id = _start_anonymously(app, client_msg_id="automation:1:0")
    assert _bodies(app, ticket_id, "automation") == ["Check this one"]


def test_an_api_reply_is_stored_even_when_the_customer_used_its_id(app):
    from responso_chat.integrations import api_tokens

    token, ticket_id = _start_anonymously(app)
    _customer_sends(app, token, "reply-1", body="customer text")
    with app.app_context():
        secret = api_tokens.create_token("2", "test")[1]
    response = app.test_client().post(
        f"/chat/api/tickets/{ticket_id}/messages", json={"body": "Agent answer",
                                                         "client_msg_id": "reply-1"},
        headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201 and response.json["body"] == "Agent answer"
    assert _bodies(app, ticket_id, "agent") == ["Agent answer"]
