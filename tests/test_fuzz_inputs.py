"""Malformed input never makes a 500: property-based tests (hypothesis) over every schema and
every endpoint of the URL map, hand-made broken bodies, and the customer's socket frames.

A refusal is a clear 4xx (400/422 with ``{"errors": ...}`` for JSON clients); whatever the
input, no request raises (the app runs with TESTING, so an exception fails the test).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import json
import pkgutil
import re
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError
from responso_chat.blueprints import UNSAFE_METHODS
from werkzeug.datastructures import MultiDict

import responso_chat.schemas
from responso_chat.automations import describe
from responso_chat.conversation.visibility import WEEKDAYS
from responso_chat.conversation.websocket import VISITOR_PROTOCOL
from responso_chat.schemas import admin, automation_rules, chat_form
from responso_chat.schemas.common import MAX_ID
from responso_chat.state import EXTENSION_KEY
from tests.access_matrix import MATRIX
from tests.hardening import (
    VisitorSocket,
    allowed_role,
    bearer_headers,
    callers_for,
    entry_url,
    fresh_world,
    handshake,
    ids,
    matrix_app,
    plugin_routes,
)

#: Server and job threads of the live app may use the global ``random`` while hypothesis
#: draws an example, which it reports as a deprecation; the strategies here never do.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def repeated(char: str, times: int):
    """A strategy for ``char * times`` whose repr stays short (hypothesis warns, and with
    warnings as errors fails, when it has to print a strategy holding a huge literal)."""
    return st.just(char).map(lambda c: c * times)


#: Text with everything a browser or a script may send: controls, NUL, RTL marks, emoji,
#: markup, very long words (no lone surrogates: those are not encodable in a request).
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60
) | st.sampled_from([
    "", " ", "\x00", "\u202e", "<script>x</script>", "{{7*7}}", "9" * 40, "-1", "1e309",
    "NaN", "null", "true", "2024-02-30", "25:99", "../../etc/passwd",
]) | repeated("a", 6000) | repeated("é", 300)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | TEXT,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=8,
)


def _schema_classes():
    """Every schema class defined in a module of ``responso_chat.schemas``."""
    found = set()
    for info in pkgutil.iter_modules(responso_chat.schemas.__path__):
        module = importlib.import_module(f"responso_chat.schemas.{info.name}")
        found.update(
            obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Schema)
            and obj.__module__ == module.__name__
        )
    return sorted(found, key=lambda cls: cls.__name__)


SCHEMAS = _schema_classes()


def make_schema(cls, choices=None):
    """An instance of a schema class (the rule schema needs the choice lists)."""
    if "choices" in inspect.signature(cls.__init__).parameters:
        return cls(choices=choices if choices is not None else describe.value_choices())
    return cls()


def _field_names() -> list[str]:
    names = set()
    for cls in SCHEMAS:
        for name, field in make_schema(cls, choices={}).fields.items():
            names.add(field.data_key or name)
    for entry in MATRIX.values():
        names.update(entry.body or {})
    for day in WEEKDAYS:
        names.update({f"hours_{day}_mode", f"hours_{day}_start", f"hours_{day}_end"})
    for i in range(2):
        names.update({f"conditions-{i}-field", f"conditions-{i}-operator",
                      f"conditions-{i}-value", f"actions-{i}-type", f"actions-{i}-value"})
    names.update({"form_action", "action", "next", "fragment"})
    return sorted(names)


FIELD_NAMES = _field_names()
KEYS = st.sampled_from(FIELD_NAMES) | TEXT
FORMS = st.lists(st.tuples(KEYS, TEXT), max_size=12)
JSON_BODIES = st.dictionaries(KEYS, JSON_VALUES, max_size=8) | JSON_VALUES


@pytest.fixture(scope="module")
def fuzz_app(postgres_server):
    """The access matrix's app on PostgreSQL, stricter than SQLite about what text it stores
    (rate limits out of the way, fresh rows per endpoint)."""
    with matrix_app(postgres_server.create_database(f"fuzz_{uuid.uuid4().hex[:12]}")) as app:
        yield app


@pytest.fixture(scope="module")
def fuzz_callers(fuzz_app):
    """A logged-in caller per role."""
    return callers_for(fuzz_app)


# --- schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("schema_class", SCHEMAS, ids=[cls.__name__ for cls in SCHEMAS])
def test_every_schema_refuses_garbage_with_validation_errors_only(fuzz_app, schema_class):
    with fuzz_app.app_context():
        fields = make_schema(schema_class).fields
    known = st.fixed_dictionaries(
        {}, optional={(f.data_key or name): JSON_VALUES for name, f in fields.items()}
    )

    @FUZZ
    @given(data=known | JSON_BODIES)
    def check(data):
        with fuzz_app.test_request_context():
            try:
                result = make_schema(schema_class).load(data)
            except ValidationError as exc:
                assert isinstance(exc.messages, dict | list)
            else:
                assert isinstance(result, dict)

    check()


@pytest.mark.parametrize("to_input, schema_class", [
    (chat_form.chat_form_input, chat_form.ChatSchema),
    (automation_rules.automation_form_input, automation_rules.AutomationRuleSchema),
    (admin.webhook_form_input, admin.WebhookSchema),
], ids=["chat", "automation", "webhook"])
def test_html_forms_of_garbage_become_validation_errors(fuzz_app, to_input, schema_class):
    @FUZZ
    @given(form=FORMS)
    def check(form):
        with fuzz_app.test_request_context():
            values = to_input(MultiDict(form))
            try:
                make_schema(schema_class).load(values)
            except ValidationError:
                pass

    check()


# --- every endpoint ---------------------------------------------------------------------------

UNSAFE = [key for key in sorted(MATRIX) if key[1] in UNSAFE_METHODS
          and MATRIX[key].auth != "websocket"]
SAFE = [key for key in sorted(MATRIX) if key[1] == "GET" and MATRIX[key].auth != "websocket"
        and key[0] != "responso_chat.static"]
QUERY_KEYS = st.sampled_from([
    "view", "chat", "status", "priority", "tag", "assignee", "team", "q", "cursor", "after",
    "page", "scope", "done", "fragment", "ticket_id", "current", "limit", "per_page",
]) | TEXT


def _send(app, caller, key, entry, world, *, form=None, json_body=None, query=None):
    endpoint, method = key
    headers = bearer_headers(app, caller, entry, world)
    if entry.auth == "session":
        headers["X-CSRFToken"] = caller.csrf
    kwargs = {}
    if json_body is not None:
        kwargs["data"] = json.dumps(json_body)
        kwargs["content_type"] = "application/json"
        headers["Accept"] = "application/json"
    elif form is not None:
        kwargs["data"] = MultiDict(form)
    response = caller.client.open(entry_url(app, endpoint, world), method=method,
                                  headers=headers, query_string=query, **kwargs)
    response.close()
    return response


def _check(response, json_wanted: bool):
    assert response.status_code < 500, response.status_code
    if json_wanted and 400 <= response.status_code < 500 and response.is_json:
        assert "errors" in response.get_json()


@pytest.mark.parametrize("key", UNSAFE, ids=ids(UNSAFE))
def test_random_bodies_never_make_a_server_error(fuzz_app, fuzz_callers, key):
    entry = MATRIX[key]
    world = fresh_world(fuzz_app)
    caller = fuzz_callers[allowed_role(entry)]
    token_auth = entry.auth in ("visitor", "api")

    @FUZZ
    @given(form=FORMS, json_body=JSON_BODIES)
    def check(form, json_body):
        if not token_auth:
            _check(_send(fuzz_app, caller, key, entry, world, form=form), False)
        _check(_send(fuzz_app, caller, key, entry, world, json_body=json_body), True)

    check()


@pytest.mark.parametrize("key", SAFE, ids=ids(SAFE))
def test_random_query_strings_never_make_a_server_error(fuzz_app, fuzz_callers, key):
    entry = MATRIX[key]
    world = fresh_world(fuzz_app)
    caller = fuzz_callers[allowed_role(entry)]

    @FUZZ
    @given(query=st.lists(st.tuples(QUERY_KEYS, TEXT), max_size=5))
    def check(query):
        _check(_send(fuzz_app, caller, key, entry, world, query=MultiDict(query)), False)

    check()


def test_ids_no_row_can_have_are_not_found_on_every_route(fuzz_app, fuzz_callers):
    """An id in the URL past the database's 32-bit integers answers 404 on every route that
    has one, for every method, before anything looks it up (PostgreSQL would refuse the number:
    a 500). Found by the query-string fuzzing above, on the task page's ``ticket_id``."""
    world = fresh_world(fuzz_app)
    routes = {key: re.findall(r"<int:(\w+)>", rule.rule)
              for key, rule in plugin_routes(fuzz_app).items()}
    checked = []
    for key, names in sorted(routes.items()):
        if not names or MATRIX[key].auth == "websocket":
            continue
        caller = fuzz_callers[allowed_role(MATRIX[key])]
        impossible = {**world, **{name: MAX_ID + 1 for name in names}}
        response = caller.client.open(
            entry_url(fuzz_app, key[0], impossible), method=key[1],
            headers={"X-CSRFToken": caller.csrf}, data={"body": "x", "status": "closed"},
        )
        assert response.status_code == 404, (key, response.status_code)
        checked.append(key)
    assert len(checked) >= 30
    caller = fuzz_callers["admin"]
    for path in ("/chat/inbox/tasks", "/chat/inbox/tasks/new"):
        assert caller.client.get(f"{path}?ticket_id={MAX_ID + 1}").status_code < 500
    response = caller.client.post("/chat/inbox/tasks/new", headers={"X-CSRFToken": caller.csrf},
                                  data={"title": "Call back", "ticket_id": MAX_ID + 1})
    assert response.status_code == 422 and b"No such ticket." in response.data
    assert caller.client.get(f"/chat/inbox/contacts?page={10**30}").status_code == 200
    for name in ("chat", "team"):  # inbox filters
        assert caller.client.get(f"/chat/inbox/?{name}={MAX_ID + 1}").status_code == 400
    response = caller.client.post(f"/chat/inbox/tickets/{world['ticket_id']}/team",
                                  headers={"X-CSRFToken": caller.csrf},
                                  json={"team": MAX_ID + 1})
    assert response.status_code == 422 and response.get_json()["errors"]["team"]


#: ``after`` values no sequence number has: a digit that is no decimal digit ("²".isdigit()
#: is True but int("²") fails), a sign, an exponent, a number past 32 bits.
NOT_SEQUENCE_NUMBERS = ("²", "-1", "1e3", "99999999999", "")
#: Every endpoint that reads ``?after=``.
AFTER_ENDPOINTS = (
    "responso_chat.widget.resume",
    "responso_chat.inbox.ticket_messages",
    "responso_chat.api.message_list",
    "responso_chat.ws.visitor",
)


@pytest.mark.parametrize("endpoint", AFTER_ENDPOINTS)
def test_an_after_that_is_no_sequence_number_is_a_400_in_json(fuzz_app, fuzz_callers, endpoint):
    world = fresh_world(fuzz_app)
    entry = MATRIX[(endpoint, "GET")]
    caller = fuzz_callers[allowed_role(entry)]
    headers = bearer_headers(fuzz_app, caller, entry, world)
    for after in NOT_SEQUENCE_NUMBERS:
        url = entry_url(fuzz_app, endpoint, world, urlencode({"after": after}))
        if entry.auth == "websocket":  # a real handshake, the token as a subprotocol
            status, body = handshake(fuzz_app.live.url + url, {
                "Sec-WebSocket-Protocol": f"{VISITOR_PROTOCOL}, {world['visitor_token']}"})
        else:
            response = caller.client.get(url, headers=headers)
            status, body = response.status_code, response.get_data()
        assert status == 400, (after, status)
        assert json.loads(body)["errors"]["after"], after



BROKEN_BODIES = {
    "not json": ("application/json", b"{'name': 'single quotes'"),
    "not utf-8 json": ("application/json", b'{"name": "\xff\xfe"}'),
    "nested too deeply": ("application/json", b"[" * 50000),
    "huge number": ("application/json", b'{"ticket_id": 1' + b"0" * 5000 + b"}"),
    "json array": ("application/json", b"[1, 2, 3]"),
    "json string": ("application/json", b'"hello"'),
    "nan": ("application/json", b'{"after": NaN, "body": Infinity}'),
    "form not utf-8": ("application/x-www-form-urlencoded", b"name=%ff%fe&body=%c3%28"),
    "form bad escapes": ("application/x-www-form-urlencoded", b"name=%zz&&=&body=%"),
    "multipart without boundary": ("multipart/form-data", b"--x\r\nnothing"),
    "multipart garbage": ("multipart/form-data; boundary=b", b"--b\r\nContent-Dis\r\n\r\n"),
    "plain text": ("text/plain", b"hello"),
    "empty json": ("application/json", b""),
    "lone surrogate": ("application/json", b'{"name": "\\ud800", "body": "\\udfff"}'),
}


@pytest.mark.parametrize("key", UNSAFE, ids=ids(UNSAFE))
def test_broken_bodies_get_a_clear_refusal(fuzz_app, fuzz_callers, key):
    entry = MATRIX[key]
    world = fresh_world(fuzz_app)
    caller = fuzz_callers[allowed_role(entry)]
    for name, (content_type, data) in BROKEN_BODIES.items():
        headers = bearer_headers(fuzz_app, caller, entry, world)
        if "json" in content_type:
            headers["Accept"] = "application/json"
        if entry.auth == "session":
            headers["X-CSRFToken"] = caller.csrf
        response = caller.client.open(entry_url(fuzz_app, key[0], world), method=key[1],
                                      data=data, content_type=content_type, headers=headers)
        response.close()
        assert response.status_code < 500, name
        if response.is_json and response.status_code >= 400:
            assert "errors" in response.get_json(), name
        if entry.auth != "session":  # the widget and the API always answer JSON
            assert response.is_json, name


def test_json_nested_too_deeply_is_a_400_not_a_500(fuzz_app):
    """Regression: Python's JSON parser raises RecursionError (not ValueError) on deep nesting,
    which every view's ``get_json(silent=True)`` let through as a 500."""
    world = fresh_world(fuzz_app)
    response = fuzz_app.test_client().post(
        f"/chat/widget/{world['public_key']}/tickets", data="[" * 50000,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json == {"errors": {"_request": ["The JSON body is nested too deeply."]}}


def test_unstorable_text_is_refused_not_a_500(fuzz_app, fuzz_callers):
    """Regression: PostgreSQL cannot store NUL, and no database a lone surrogate (JSON's
    ``\\ud83d`` escape), so such text failed deep in a view (a 500, or a dead socket)
    wherever it came in: a form, JSON, the query, the URL, a frame."""
    world = fresh_world(fuzz_app)
    visitor, alice = fuzz_callers["visitor"], fuzz_callers["agent"]
    bearer = {"Authorization": f"Bearer {world['visitor_token']}"}
    refused = {
        "JSON": visitor.client.post(
            f"/chat/widget/{world['public_key']}/tickets",
            json={"name": "Nul\x00", "email": "n@example.com", "subject": "s", "message": "m"}),
        "nested JSON": visitor.client.post("/chat/widget/tickets/messages", headers=bearer,
                                           json={"body": "ok", "client_msg_id": ["\x00"]}),
        "lone surrogate": visitor.client.post(
            "/chat/widget/tickets/messages", headers=bearer, content_type="application/json",
            data='{"body": "\\ud83d alone", "client_msg_id": "s-1"}'),
        "URL": visitor.client.get("/chat/widget/%00/config"),
        "query": alice.client.get("/chat/inbox/?q=%00"),
        "form": alice.client.post(f"/chat/inbox/tickets/{world['ticket_id']}/messages",
                                  data={"body": "a\x00b", "csrf_token": alice.csrf}),
    }
    for where, response in refused.items():
        assert response.status_code == 400, where
    assert refused["JSON"].json["errors"] == {
        "_request": ["Text may not contain NUL characters or lone surrogates."]
    }
    socket = VisitorSocket(fuzz_app.live.url, world["visitor_token"])
    try:
        socket.send(type="send", body="a\x00b", client_msg_id="nul-1")
        assert socket.next("error")["error"] == "bad_request"
        socket.ws.send('{"type": "send", "body": "\\udfff", "client_msg_id": "nul-3"}')
        assert socket.next("error")["error"] == "bad_request"
        socket.send(type="send", body="after the NUL", client_msg_id="nul-2")
        event = socket.next("message")
        while event["client_msg_id"] != "nul-2":  # the conversation's first message comes too
            assert "\x00" not in event["body"]
            event = socket.next("message")
    finally:
        socket.close()


# --- the customer's socket -------------------------------------------------------------------

FRAMES = st.one_of(
    TEXT,
    JSON_BODIES.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["send", "typing", "seen", "page", "subscribe", "x", ""])},
        optional={"body": JSON_VALUES, "client_msg_id": JSON_VALUES, "seq": JSON_VALUES,
                  "url": JSON_VALUES, "title": JSON_VALUES, "typing": JSON_VALUES},
    ).map(json.dumps),
    repeated("[", 20000),
)


def test_garbage_frames_never_break_the_customers_socket(fuzz_app):
    world = fresh_world(fuzz_app)
    socket = VisitorSocket(fuzz_app.live.url, world["visitor_token"])
    counter = itertools.count()
    try:
        assert socket.next("status")

        @settings(max_examples=60, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(frame=FRAMES)
        def check(frame):
            # A frame over the size limit closes the socket by design (1009, tested in
            # test_websocket_trust); garbage under it must leave the socket open.
            limit = fuzz_app.extensions[EXTENSION_KEY].setting("WS_MAX_FRAME_SIZE")
            assume(len(frame.encode()) <= limit)
            socket.ws.send(frame)

        check()
        # Still open and working: a real message goes through once.
        socket.send(type="send", body=f"still here {next(counter)}", client_msg_id="alive-1")
        deadline_event = socket.next("message", timeout=10)
        while deadline_event["client_msg_id"] != "alive-1":
            deadline_event = socket.next("message", timeout=10)
        assert deadline_event["body"] == "still here 0"
    finally:
        socket.close()
    assert plugin_routes(fuzz_app)  # the app is still whole
