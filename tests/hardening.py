"""Helpers of the hardening suites (security, fuzzing, faults, soak): requesting an access-matrix
entry as a role, raw websocket handshakes, the customer's socket as the widget opens it, and
counting a ticket's messages."""

from __future__ import annotations

import http.client
import itertools
import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import url_for
from responso_chat.blueprints import UNSAFE_METHODS
from responso_chat.blueprints.ws import VISITOR_PROTOCOL

from responso_chat import models
from responso_chat.models import Message
from tests import access_matrix
from tests.access_matrix import LOGIN, OK, REDIRECT
from tests.conftest import LiveServer, _dispose, _prepare
from tests.hostapp import PASSWORD, create_host_app
from tests.wsclient import BrowserLikeClient, Socket

TIMEOUT = 5
PLUGIN = "responso_chat."
IGNORED_METHODS = {"HEAD", "OPTIONS"}
_serial = itertools.count(1)


# --- the access matrix's machinery -------------------------------------------------------------


def plugin_routes(app) -> dict[tuple[str, str], object]:
    """Every (endpoint, method) of the plugin in ``app``'s URL map, with its rule."""
    return {
        (rule.endpoint, method): rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(PLUGIN)
        for method in rule.methods - IGNORED_METHODS
    }


def ids(keys) -> list[str]:
    """Readable test ids of (endpoint, method) keys."""
    return [f"{endpoint.removeprefix(PLUGIN)}-{method}" for endpoint, method in keys]


@contextmanager
def matrix_app(database_url: str):
    """A host app on ``database_url`` (its tables created) with rate limits out of the way,
    served live too (``app.live``); each entry is then tried on its own :func:`fresh_world`."""
    folder = tempfile.mkdtemp(prefix="responso-chat-matrix-files-")
    app = create_host_app(
        database_url,
        TESTING=True,
        RESPONSO_CHAT_START_CHAT_RATE_LIMIT="10000 per minute",
        RESPONSO_CHAT_SEND_RATE_LIMIT="10000 per minute",
        RESPONSO_CHAT_PUBLIC_RATE_LIMIT="10000 per minute",
        RESPONSO_CHAT_WS_FRAME_RATE_LIMIT="10000 per second",
        RESPONSO_CHAT_FILES_FOLDER=folder,
    )
    _prepare(app, migrate=False)
    app.live = LiveServer(app)
    try:
        yield app
    finally:
        app.live.stop()
        _dispose(app)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_world(app) -> dict:
    """New rows for one entry (:func:`tests.access_matrix.build_world`), once the background
    jobs they start (automations, order sync) have finished, so later writes are the test's."""
    with app.app_context():
        world = access_matrix.build_world(next(_serial))
    app.extensions["responso_chat"].jobs.join()
    return world


class Caller:
    """A role's test client: logged in as the role's account, with its CSRF token."""

    def __init__(self, app, role: str):
        self.role = role
        self.client = app.test_client()
        email = access_matrix.ACCOUNTS[role]
        if email:
            response = self.client.post("/login", data={"email": email, "password": PASSWORD})
            assert response.status_code == 302
        self.csrf = self.client.get("/csrf-token").get_data(as_text=True)

    def cookie_header(self) -> dict:
        """The session cookie as a ``Cookie`` header (for raw handshakes)."""
        cookie = self.client.get_cookie("session")
        return {"Cookie": f"session={cookie.value}"} if cookie else {}


def callers_for(app) -> dict[str, Caller]:
    """A logged-in :class:`Caller` per role."""
    return {role: Caller(app, role) for role in access_matrix.ROLES}


def allowed_role(entry) -> str:
    """The least powerful role an entry lets through: the visitor for token routes of the
    widget, else the agent, else the admin."""
    if entry.auth == "visitor" and entry.visitor not in (LOGIN, 401, 403, 404):
        return "visitor"
    return "agent" if entry.agent not in (LOGIN, 401, 403, 404) else "admin"


def entry_url(app, endpoint: str, world: dict, query: str = "") -> str:
    """The path of ``endpoint`` with its URL variables taken from ``world``."""
    rule = next(rule for (name, _m), rule in plugin_routes(app).items() if name == endpoint)
    with app.test_request_context():
        url = url_for(endpoint, **{name: world[name] for name in rule.arguments})
    url = urlsplit(url)._replace(scheme="", netloc="").geturl()  # websockets: ws://...
    return f"{url}?{query}" if query else url


def entry_body(entry, role: str, world: dict) -> dict:
    """The entry's body with ``{role}`` and the world's values filled in."""
    return {
        key: value.format(role=role, **world) if isinstance(value, str) else value
        for key, value in (entry.body or {}).items()
    }


def bearer_headers(app, caller, entry, world) -> dict:
    """The ``Authorization`` header a role sends to a token route (none for the others)."""
    token = None
    if entry.auth in ("visitor", "api") and caller.role == "visitor":
        token = world["visitor_token"]
    elif entry.auth == "api" and caller.role != "anonymous":
        with app.app_context():
            token = access_matrix.api_token(access_matrix.USER_IDS[caller.role])
    return {"Authorization": f"Bearer {token}"} if token else {}


def request_as(app, caller, key, entry, world, *, csrf=True, credentials=True):
    """Send the entry's request as ``caller``; returns ``(status, location)``.

    ``csrf=False`` leaves out the CSRF header; ``credentials=False`` leaves out the bearer
    token or the visitor's socket token (the session cookie still goes).
    """
    endpoint, method = key
    url = entry_url(app, endpoint, world, entry.query)
    if entry.auth == "websocket":
        headers = {"Origin": app.live.url, **caller.cookie_header()}
        if caller.role == "visitor" and credentials:
            headers["Sec-WebSocket-Protocol"] = f"{VISITOR_PROTOCOL}, {world['visitor_token']}"
        return handshake_status(app.live.url + url, headers), ""
    headers, kwargs = {}, {}
    unsafe = method in UNSAFE_METHODS
    if entry.auth == "session":
        if unsafe and csrf:
            headers["X-CSRFToken"] = caller.csrf
        if unsafe:
            kwargs["data"] = entry_body(entry, caller.role, world)
    else:
        if credentials:
            headers.update(bearer_headers(app, caller, entry, world))
        if unsafe:
            kwargs["json"] = entry_body(entry, caller.role, world)
    response = caller.client.open(url, method=method, headers=headers, **kwargs)
    response.close()
    return response.status_code, response.headers.get("Location", "")


def answer_of(status: int, location: str):
    """The answer class a response falls in."""
    if 300 <= status < 400:
        return LOGIN if location.split("?")[0].endswith("/login") else REDIRECT
    return OK if 200 <= status < 300 else status


def matches(expected, status: int, location: str) -> bool:
    """Whether a response is the expected answer."""
    if isinstance(expected, int):
        return status == expected
    return answer_of(status, location) == expected


# --- websockets --------------------------------------------------------------------------------


def handshake_status(url: str, headers: dict | None = None) -> int:
    """The HTTP status a websocket handshake to ``url`` gets (101 when accepted)."""
    return handshake(url, headers)[0]


def handshake(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    """The HTTP status and body a websocket handshake to ``url`` gets (body empty on 101)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        connection.request("GET", target, headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", **(headers or {}),
        })
        response = connection.getresponse()
        return response.status, b"" if response.status == 101 else response.read()
    finally:
        connection.close()


class VisitorSocket(Socket):
    """The customer's socket as widget.js opens it: the token as a subprotocol, not in the URL."""

    def __init__(self, server_url: str, token: str, after: int = 0, origin: str | None = None):
        url = server_url.replace("http://", "ws://") + f"/chat/ws/visitor?after={after}"
        self.ws = BrowserLikeClient.connect(
            url, subprotocols=[VISITOR_PROTOCOL, token],
            headers={"Origin": origin} if origin else {},
        )


# --- counting -----------------------------------------------------------------------------------


def database_fingerprint(app) -> dict[str, int]:
    """A hash of every row of every plugin table (to check that nothing was written), once
    the background jobs already under way are done."""
    state = app.extensions["responso_chat"]
    state.jobs.join()
    with app.app_context():
        fingerprint = {}
        for table in models.metadata.sorted_tables:
            rows = state.db.session.execute(
                sa.select(table).order_by(*table.primary_key.columns)
            ).all()
            fingerprint[table.name] = hash(repr(rows))
        state.db.session.remove()
    return fingerprint


def message_counts(app, ticket_id: int, include_internal: bool = True) -> Counter:
    """How many times each (author kind, body) is stored in the ticket's conversation."""
    state = app.extensions["responso_chat"]
    with app.app_context():
        query = sa.select(Message.author_kind, Message.body).where(Message.ticket_id == ticket_id)
        if not include_internal:
            query = query.where(Message.internal.is_(False))
        rows = state.db.session.execute(query).all()
        state.db.session.remove()
    return Counter((kind, body) for kind, body in rows)
