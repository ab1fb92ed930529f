"""Access and CSRF, generated from the app's URL map.

Every plugin endpoint × every role of ``tests.access_matrix`` is requested and must give the
table's answer; a route without an entry fails here, named. Every state-changing route of the
cookie-authenticated pages refuses a request without a CSRF token, and the token-authenticated
routes (widget, API) give nothing more to the session cookie than to an anonymous caller.
"""

from __future__ import annotations

import pytest
from responso_chat.blueprints import TOKEN_AUTHENTICATED, UNSAFE_METHODS

from tests.access_matrix import MATRIX, ROLES
from tests.hardening import (
    allowed_role,
    answer_of,
    callers_for,
    database_fingerprint,
    entry_body,
    entry_url,
    fresh_world,
    ids,
    matches,
    matrix_app,
    plugin_routes,
    request_as,
)
from tests.hostapp import create_host_app


def _collection_routes() -> list[tuple[str, str]]:
    app = create_host_app("sqlite://", TESTING=True)
    return sorted(set(plugin_routes(app)) | set(MATRIX))


ALL_KEYS = _collection_routes()


@pytest.fixture(scope="module")
def world_app(tmp_path_factory):
    """One host app for the module (each entry gets its own fresh rows), served live too."""
    with matrix_app(f"sqlite:///{tmp_path_factory.mktemp('access') / 'shop.db'}") as app:
        yield app


@pytest.fixture(scope="module")
def callers(world_app):
    """A logged-in caller per role."""
    return callers_for(world_app)


def test_every_endpoint_has_an_entry(world_app):
    routes = set(plugin_routes(world_app))
    missing = sorted(routes - set(MATRIX))
    assert not missing, "add these endpoints to tests/access_matrix.py:\n" + "\n".join(
        f"  {endpoint} {method}" for endpoint, method in missing
    )
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"entries of tests/access_matrix.py for no route: {stale}"


@pytest.mark.parametrize("key", ALL_KEYS, ids=ids(ALL_KEYS))
def test_access(world_app, callers, key):
    entry = MATRIX.get(key)
    if entry is None:
        pytest.fail(f"{key} has no entry in tests/access_matrix.py")
    if key not in plugin_routes(world_app):
        pytest.fail(f"{key} is in tests/access_matrix.py but not in the URL map")
    world = fresh_world(world_app)
    wrong = []
    for role in ROLES:
        status, location = request_as(world_app, callers[role], key, entry, world)
        expected = entry.answer(role)
        if not matches(expected, status, location):
            wrong.append(f"{role}: expected {expected}, got {status} {location}".rstrip())
    assert not wrong, f"{key}:\n  " + "\n  ".join(wrong)


def _unsafe_keys(auth_kinds):
    return [
        key for key in sorted(MATRIX)
        if key[1] in UNSAFE_METHODS and MATRIX[key].auth in auth_kinds
    ]


SESSION_UNSAFE = _unsafe_keys({"session"})
TOKEN_KEYS = [key for key in sorted(MATRIX) if MATRIX[key].auth in ("visitor", "api")]


def test_every_state_changing_route_is_in_the_csrf_checks(world_app):
    unsafe = {key for key in plugin_routes(world_app) if key[1] in UNSAFE_METHODS}
    checked = set(SESSION_UNSAFE) | {k for k in TOKEN_KEYS if k[1] in UNSAFE_METHODS}
    assert unsafe == checked
    token_blueprints = {key[0].split(".")[1] for key in TOKEN_KEYS}
    assert token_blueprints <= TOKEN_AUTHENTICATED
    for key in SESSION_UNSAFE:
        assert key[0].split(".")[1] not in TOKEN_AUTHENTICATED, key


@pytest.mark.parametrize("key", SESSION_UNSAFE, ids=ids(SESSION_UNSAFE))
def test_csrf_token_is_required(world_app, callers, key):
    entry = MATRIX[key]
    caller = callers[allowed_role(entry)]
    world = fresh_world(world_app)
    before = database_fingerprint(world_app)
    status, _ = request_as(world_app, caller, key, entry, world, csrf=False)
    assert status == 400, f"{key} accepted a form without a CSRF token ({status})"
    # A forged token and a JSON request without one are refused too, with a JSON error.
    endpoint, method = key
    url = entry_url(world_app, endpoint, world)
    response = caller.client.open(url, method=method, data={"csrf_token": "forged"})
    assert response.status_code == 400
    response = caller.client.open(url, method=method, json=entry_body(entry, caller.role, world),
                                  headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "csrf_token" in response.get_json()["errors"]
    assert database_fingerprint(world_app) == before  # nothing was written
    # With its token, the same request goes through.
    status, location = request_as(world_app, caller, key, entry, world)
    assert matches(entry.answer(caller.role), status, location)


@pytest.mark.parametrize("key", TOKEN_KEYS, ids=ids(TOKEN_KEYS))
def test_session_cookie_is_no_credential_for_token_routes(world_app, callers, key):
    entry = MATRIX[key]
    world = fresh_world(world_app)
    anonymous, _ = request_as(world_app, callers["anonymous"], key, entry, world)
    for role in ("visitor", "agent", "admin"):
        status, _ = request_as(world_app, callers[role], key, entry, world, credentials=False)
        assert answer_of(status, "") == answer_of(anonymous, ""), (role, status, anonymous)

