"""The OpenAPI document: valid OpenAPI 3 that matches the routes, a readable reference page,
and schemathesis finding no server error and no answer that breaks the document."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from responso_chat.automations import rules
from responso_chat.inbox import contacts, tasks
from responso_chat.integrations import api_tokens
from responso_chat.users import Agent
from tests.factories import make_chat, make_ticket
from tests.hostapp import create_host_app

API = "/chat/api"


def test_document_is_valid_openapi_3(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.0 meta-schema
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
    }
    for resource in ("chats", "tickets", "tags", "contacts", "tasks", "automation-rules"):
        one = "{" + {"automation-rules": "rule", "tickets": "ticket"}.get(
            resource, resource.rstrip("s")
        ) + "_id}"
        assert {
            ("GET", f"{API}/{resource}"),
            ("POST", f"{API}/{resource}"),
            ("GET", f"{API}/{resource}/{one}"),
            ("PATCH", f"{API}/{resource}/{one}"),
        } <= operations, resource
    assert ("POST", f"{API}/tickets/{{ticket_id}}/messages") in operations
    assert document["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    assert document["paths"][f"{API}/health"]["get"]["security"] == []


def test_every_api_route_is_documented(app):
    documented = app.test_client().get(f"{API}/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("responso_chat.api.") and rule.endpoint not in (
            "responso_chat.api.openapi_document",
            "responso_chat.api.docs",
        ):
            path = rule.rule.replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in documented[path], (method, path)


def test_docs_page_lists_operations_and_schemas(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "List tickets" in html and f"{API}/tickets/{{ticket_id}}/messages" in html
    assert 'id="schema-Ticket"' in html and 'href="#schema-TicketPage"' in html
    assert "<script" not in html  # no renderer fetched from elsewhere


# --- schemathesis --------------------------------------------------------------------------


@pytest.fixture
def admin_token(app):
    """An admin's API token, in a world with one record of every kind."""
    with app.app_context():
        chat = make_chat()
        ticket = make_ticket(chat)
        alice = Agent("2", "Alice Agent", "alice@shop.test")
        tasks.create_task(alice, title="Call back", ticket=ticket)
        contacts.create_contact(name="Zoe", email="zoe@example.com")
        rules.create_rule(
            {
                "name": "Urgent",
                "trigger": "new_ticket",
                "actions": [{"type": "set_priority", "value": "high"}],
            }
        )
        return api_tokens.create_token("1", "schemathesis")[1]


def _document() -> dict:
    """The document as a host app serves it (read once, when the tests are collected)."""
    app = create_host_app("sqlite://", TESTING=True)
    return app.test_client().get(f"{API}/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same cases on every run
    database=None,  # no example database written into the checkout
    suppress_health_check=list(HealthCheck),
)
def test_api_against_its_document(case, app, admin_token):
    """Generated requests (valid and invalid) with an admin's token: no server error, and
    every answer has a documented status, content type and schema."""
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
                ],
    )
