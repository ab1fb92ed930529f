"""Security headers, request size limits, rate limits, the demo's cookies, and what the logs
never hold (tokens, secrets, message bodies)."""

from __future__ import annotations

import json
import logging
import re
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from flask import request
from responso_chat.blueprints import MAX_PAGE_BODY, MAX_TOKEN_BODY, page_csp
from responso_chat.blueprints.ws import VISITOR_PROTOCOL
from werkzeug.test import EnvironBuilder

from responso_chat.conversation.visitor import issue_token
from responso_chat.demo.app import create_app as create_demo_app
from responso_chat.models import Ticket
from responso_chat.orders import sync as orders
from responso_chat.vocab import WEBHOOK_EVENTS
from tests.conftest import csrf_from_page
from tests.factories import make_chat, make_ticket
from tests.hardening import VisitorSocket, handshake_status

SHOP = "https://shop.example"
FORM = {
    "name": "Zoe Customer",
    "email": "zoe@example.com",
    "subject": "Where is my order?",
    "message": "Hello, my parcel has not arrived.",
}


@pytest.fixture
def world(app):
    """A chat of Alice's with a ticket: ids, public key and the ticket's visitor token."""
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        ticket = make_ticket(chat)
        return {"key": chat.public_key, "ticket_id": ticket.id, "token": issue_token(ticket)}


# --- headers ---------------------------------------------------------------------------------

PAGES = (
    "/chat/admin/",
    "/chat/admin/chats/new",
    "/chat/admin/automations/",
    "/chat/admin/integrations/base",
    "/chat/inbox/",
    "/chat/inbox/tasks",
    "/chat/inbox/contacts",
    "/chat/inbox/teams",
    "/chat/inbox/projects",
    "/chat/inbox/nowhere-404",
    "/chat/admin/webhooks/",
    "/chat/account/api-tokens",
    "/chat/api/docs",
)


def test_admin_and_inbox_pages_carry_the_strict_csp(client, auth, world):
    auth.login("admin@shop.test")
    for path in (*PAGES, f"/chat/inbox/tickets/{world['ticket_id']}"):
        response = client.get(path)
        policy = response.headers.get("Content-Security-Policy")
        if response.status_code == 404 and policy is None:
            continue  # no route: not a plugin page
        assert response.status_code == 200, path
        assert policy == page_csp("localhost"), path
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["connect-src"] == "'self' ws://localhost wss://localhost"
        assert directives["img-src"] == "'self' data:"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'self'"
        assert directives["base-uri"] == "'self'"
        assert directives["form-action"] == "'self'"
        assert "unsafe" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_refusals_and_redirects_of_pages_carry_it_too(client, auth):
    assert "Content-Security-Policy" in client.get("/chat/admin/").headers  # to the login
    auth.login("alice@shop.test")
    refused = client.get("/chat/admin/")
    assert refused.status_code == 403 and "Content-Security-Policy" in refused.headers


def test_widget_api_and_static_answers_have_no_page_csp(client, world):
    for path in (
        f"/chat/widget/{world['key']}/config",
        f"/chat/widget/{world['key']}/loader.js",
        "/chat/static/widget/widget.js",
        "/chat/static/app.css",
        "/chat/api/health",
    ):
        response = client.get(path)
        response.close()
        assert response.status_code == 200, path
        assert "Content-Security-Policy" not in response.headers, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path


def test_a_hostile_host_header_cannot_write_into_the_policy(client, auth):
    auth.login("admin@shop.test")
    response = client.get("/chat/inbox/", headers={"Host": "evil.test;script-src *"})
    policy = response.headers["Content-Security-Policy"]
    assert "script-src *" not in policy and "evil" not in policy
    assert "connect-src 'self';" in policy


def test_the_widget_scripts_need_no_eval():
    from importlib.resources import files

    folder = files("responso_chat") / "static" / "responso_chat" / "widget"
    for name in ("loader.js", "widget.js"):
        source = (folder / name).read_text()
        for needle in ("eval(", "new Function", "setTimeout(\"", "setInterval(\""):
            assert needle not in source, (name, needle)


# --- the demo's session cookie -----------------------------------------------------------------


def _demo_login_cookie(tmp_path, **config):
    app = create_demo_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}",
        "TESTING": True,
        **config,
    })
    from responso_chat import migrations
    from responso_chat.demo.app import create_shop_tables
    from responso_chat.demo.seed import DEMO_LOGINS, seed_shop_users

    with app.app_context():
        migrations.upgrade()
        create_shop_tables()
        seed_shop_users()
    client = app.test_client()
    base_url = f"{app.config['PREFERRED_URL_SCHEME']}://localhost"
    page = client.get("/login", base_url=base_url).get_data(as_text=True)
    _role, email, password = DEMO_LOGINS[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url=base_url, headers={"Referer": base_url + "/"}, data={
        "email": email, "password": password, "csrf_token": token
    })
    assert response.status_code == 302
    state = app.extensions["responso_chat"]
    try:
        return [v for k, v in response.headers.items() if k == "Set-Cookie"]
    finally:
        state.jobs.close()
        with app.app_context():
            state.db.engine.dispose()


def test_demo_session_cookie_is_httponly_and_samesite_lax(tmp_path):
    (cookie,) = [c for c in _demo_login_cookie(tmp_path) if c.startswith("session=")]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes  # served over plain http by `make demo`


def test_demo_session_cookie_is_secure_when_served_over_https(tmp_path):
    (cookie,) = [
        c for c in _demo_login_cookie(tmp_path, PREFERRED_URL_SCHEME="https")
        if c.startswith("session=")
    ]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly"} <= attributes


# --- request size limits ---------------------------------------------------------------------


def test_widget_bodies_over_64_kb_are_refused_with_413_json(app, client, world):
    big = {**FORM, "message": "x" * MAX_TOKEN_BODY}
    response = client.post(f"/chat/widget/{world['key']}/tickets", json=big,
                           headers={"Origin": SHOP})
    assert response.status_code == 413
    assert "too large" in response.json["errors"]["_request"][0]
    response = client.post("/chat/widget/tickets/messages",
                           json={"body": "y" * MAX_TOKEN_BODY, "client_msg_id": "big"},
                           headers={"Authorization": f"Bearer {world['token']}"})
    assert response.status_code == 413 and response.is_json


def test_a_streamed_body_without_a_length_is_cut_at_the_limit(app, world):
    """Chunked bodies announce no length: reading stops at the limit, and the cut JSON is
    refused (400) without creating anything."""
    body = json.dumps({**FORM, "message": "z" * (2 * MAX_TOKEN_BODY)}).encode()
    builder = EnvironBuilder(
        path=f"/chat/widget/{world['key']}/tickets", method="POST", data=body,
        content_type="application/json",
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    with app.request_context(environ):
        response = app.full_dispatch_request()
        assert len(request.get_data()) == MAX_TOKEN_BODY
    assert response.status_code == 400
    assert response.json["errors"]["_request"] == ["Send a JSON object."]
    with app.app_context():
        state = app.extensions["responso_chat"]
        assert state.db.session.query(Ticket).count() == 1  # the world's only


def test_page_forms_have_a_larger_limit_and_the_hosts_smaller_one_wins(make_app, world):
    app = make_app()
    client = app.test_client()
    client.post("/login", data={"email": "alice@shop.test", "password": "secret-pass"})
    token = client.get("/csrf-token").get_data(as_text=True)
    notes = "n" * (MAX_TOKEN_BODY * 2)  # fine for a page's form
    response = client.post("/chat/inbox/contacts", data={
        "csrf_token": token, "name": "Big notes", "email": "big@contacts.test", "notes": notes,
    })
    assert response.status_code != 413
    response = client.post("/chat/inbox/contacts", data={
        "csrf_token": token, "name": "Huge", "email": "huge@contacts.test",
        "notes": "n" * MAX_PAGE_BODY,
    })
    assert response.status_code == 413
    small = make_app(MAX_CONTENT_LENGTH=1024)
    with small.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    response = small.test_client().post(
        f"/chat/widget/{key}/tickets", json={**FORM, "message": "m" * 2000}
    )
    assert response.status_code == 413 and "more than 1 KB" in response.json["errors"][
        "_request"][0]


# --- rate limits ---------------------------------------------------------------------------


def _limited(response):
    assert response.status_code == 429, response.status_code
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.json["errors"]["_request"]
    return response


@pytest.mark.parametrize("endpoint", ["config", "loader", "resume", "send", "start"])
def test_every_public_widget_endpoint_is_rate_limited_with_retry_after(make_app, endpoint):
    app = make_app(
        RESPONSO_CHAT_PUBLIC_RATE_LIMIT="3 per minute",
        RESPONSO_CHAT_SEND_RATE_LIMIT="3 per minute",
        RESPONSO_CHAT_START_CHAT_RATE_LIMIT="3 per minute",
    )
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        key, token = chat.public_key, issue_token(make_ticket(chat))
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token}", "Origin": SHOP}
    calls = {
        "config": lambda i: client.get(f"/chat/widget/{key}/config", headers={"Origin": SHOP}),
        "loader": lambda i: client.get(f"/chat/widget/{key}/loader.js"),
        "resume": lambda i: client.get("/chat/widget/tickets/messages", headers=bearer),
        "send": lambda i: client.post("/chat/widget/tickets/messages", headers=bearer,
                                      json={"body": f"m{i}", "client_msg_id": f"c{i}"}),
        "start": lambda i: client.post(f"/chat/widget/{key}/tickets", json=FORM,
                                       headers={"Origin": SHOP}),
    }
    for i in range(3):
        response = calls[endpoint](i)
        response.close()
        assert response.status_code < 400, (i, response.status_code)
    response = _limited(calls[endpoint](3))
    if endpoint != "loader":  # the script itself is loaded by a <script> tag, no CORS
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    # Another visitor (another address) is not affected.
    other = client.get(f"/chat/widget/{key}/config",
                       environ_overrides={"REMOTE_ADDR": "192.0.2.77"}, headers={"Origin": SHOP})
    assert other.status_code == 200


def test_the_visitor_socket_handshake_is_rate_limited(make_app, live_server):
    app = make_app(RESPONSO_CHAT_PUBLIC_RATE_LIMIT="2 per minute")
    with app.app_context():
        chat = make_chat()
        token = issue_token(make_ticket(chat))
    server = live_server(app)
    url = server.url + "/chat/ws/visitor"
    protocol = {"Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {token}"}
    assert handshake_status(url + "?after=x", protocol) == 400
    assert handshake_status(url + "?after=y", protocol) == 400
    assert handshake_status(url, protocol) == 429


# --- logs ---------------------------------------------------------------------------------


class _Receiver:
    """A webhook receiver on loopback that answers 500 to every POST (so failures get logged)."""

    def __init__(self):
        def wsgi(environ, start_response):
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            self.hits += 1
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"nope"]

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                logging.getLogger("tests.receiver").info(args[0] % args[1:])

        self.hits = 0
        self.server = make_server("127.0.0.1", 0, wsgi, handler_class=Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_no_token_secret_or_message_body_reaches_the_logs(
    make_app, live_server, caplog, monkeypatch
):
    from responso_chat.demo.base_standin import create_standin_app, serve_standin
    from responso_chat.integrations import webhooks

    base_token = "bl-secret-token-for-logs-5b7d"
    standin = create_standin_app(token="another-token-so-calls-fail")
    base_server, base_thread, base_url = serve_standin(standin)
    receiver = _Receiver()
    caplog.set_level(logging.DEBUG)
    # The server's request log, even if a logging setup of another test turned it off.
    server_log = logging.getLogger("werkzeug")
    monkeypatch.setattr(server_log, "disabled", False)
    monkeypatch.setattr(server_log, "propagate", True)
    caplog.set_level(logging.INFO, logger="werkzeug")
    try:
        app = make_app(RESPONSO_CHAT_BASE_API_URL=base_url, RESPONSO_CHAT_BASE_API_TOKEN=base_token,
                       RESPONSO_CHAT_WEBHOOK_PRIVATE_NETWORKS=True)  # a loopback receiver
        with app.app_context():
            chat = make_chat(allowed_origins=[SHOP])
            hook = webhooks.create_webhook({"url": receiver.url, "events": list(WEBHOOK_EVENTS),
                                            "enabled": True})
            secrets = [base_token, hook.secret, chat.secret]
        server = live_server(app)
        bodies = ["Customer says the parcel 7731 is lost", "Agent answers code 4455-ZX"]
        # A conversation: Start chat, a message over HTTP and one over the socket, a reply.
        started = requests.post(
            f"{server.url}/chat/widget/{chat.public_key}/tickets",
            json={**FORM, "message": bodies[0]}, headers={"Origin": SHOP}, timeout=10,
        ).json()
        token = started["token"]
        secrets.append(token)
        requests.post(f"{server.url}/chat/widget/tickets/messages", timeout=10,
                      json={"body": bodies[0] + " again", "client_msg_id": "log-1"},
                      headers={"Authorization": f"Bearer {token}", "Origin": SHOP})
        socket = VisitorSocket(server.url, token, origin=SHOP)
        socket.send(type="send", body=bodies[0] + " by socket", client_msg_id="log-2")
        assert socket.next("message")["body"] == bodies[0]
        socket.close()
        agent = requests.Session()
        agent.post(f"{server.url}/login", data={"email": "alice@shop.test",
                                                "password": "secret-pass"}, timeout=10)
        page = agent.get(f"{server.url}/chat/inbox/tickets/{started['ticket']['id']}", timeout=10)
        agent.post(f"{server.url}/chat/inbox/tickets/{started['ticket']['id']}/messages",
                   data={"body": bodies[1], "csrf_token": csrf_from_page(page.text)}, timeout=10)
        # A Base call that fails (the token is refused), and webhooks that fail and retry.
        with app.app_context():
            with pytest.raises(orders.OrdersError):
                orders.refresh_ticket_orders(
                    app.extensions["responso_chat"].db.session.get(
                        Ticket, started["ticket"]["id"]
                    )
                )
        app.extensions["responso_chat"].jobs.join()
        assert receiver.hits >= 2
    finally:
        receiver.stop()
        base_server.shutdown()
        base_thread.join(timeout=5)
    text = "\n".join(
        record.getMessage() + (record.exc_text or "") + str(record.args or "")
        for record in caplog.records
    )
    assert "/chat/ws/visitor" in text  # the server's request log was captured
    assert "status 500" in text or "500" in text
    for secret in secrets:
        assert secret not in text
    for body in bodies:
        assert body not in text
