"""The JSON API: tokens, every resource (list, read, create, update), filters, pagination,
access rules and errors."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from responso_chat.automations import rules
from responso_chat.inbox import tasks
from responso_chat.integrations import api_tokens
from responso_chat.models import ApiToken, Chat, Team, Ticket
from responso_chat.state import plugin_state
from responso_chat.users import Agent
from tests.conftest import csrf_from_page
from tests.factories import make_chat, make_ticket

API = "/chat/api"
ALICE = Agent("2", "Alice Agent", "alice@shop.test")


class Caller:
    """Requests to the API with one token (or none)."""

    def __init__(self, client, token=None):
        self.client, self.token = client, token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path, **query):
        return self.client.get(API + path, query_string=query, headers=self._headers())

    def post(self, path, json=None, **kwargs):
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.post(API + path, json=json, headers=headers, **kwargs)

    def patch(self, path, json=None, **kwargs):
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.patch(API + path, json=json, headers=headers, **kwargs)


@pytest.fixture
def world(app, client):
    """Alice's chat with a ticket, Bob's own chat, and a token per account."""
    with app.app_context():
        chat = make_chat("Store chat", agent_ids=("2",))
        other = make_chat("Other chat", agent_ids=("3",))
        ticket = make_ticket(chat, "Where is my order?")
        tokens = {uid: api_tokens.create_token(uid, "test")[1] for uid in ("1", "2", "3", "4")}
        ids = SimpleNamespace(chat=chat.id, other=other.id, ticket=ticket.id)
    return SimpleNamespace(
        ids=ids,
        admin=Caller(client, tokens["1"]),
        alice=Caller(client, tokens["2"]),
        bob=Caller(client, tokens["3"]),
        carl=Caller(client, tokens["4"]),
        anonymous=Caller(client),
        tokens=tokens,
    )


def errors_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["errors"]


# --- authentication --------------------------------------------------------------------------


def test_no_or_wrong_token_is_401(world):
    response = world.anonymous.get("/tickets")
    assert errors_of(response, 401)["_request"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert Caller(world.admin.client, "rc_not-a-token").get("/tickets").status_code == 401
    response = world.admin.client.get(f"{API}/tickets", headers={"Authorization": "Basic eDp5"})
    assert response.status_code == 401


def test_session_cookie_alone_is_401(world, auth):
    auth.login("admin@shop.test")
    assert world.anonymous.get("/tickets").status_code == 401
    response = world.anonymous.post("/tags", json={"name": "cookie"})
    assert response.status_code == 401


def test_revoked_token_is_401(app, world):
    assert world.alice.get("/tickets").status_code == 200
    with app.app_context():
        row = api_tokens.list_tokens("2")[0]
        assert row.last_used_at is not None
        assert api_tokens.revoke_token(row) is True
        assert api_tokens.revoke_token(row) is False
    assert world.alice.get("/tickets").status_code == 401


def test_token_is_stored_hashed_and_of_a_user_who_must_still_be_an_agent(app, world):
    with app.app_context():
        rows = plugin_state().db.session.scalars(
            plugin_state().db.select(ApiToken)
        ).all()
        assert all(world.tokens[row.user_id] not in (row.token_hash, row.name) for row in rows)
        assert {row.token_hash for row in rows} == {
            api_tokens.hash_token(token) for token in world.tokens.values()
        }
    assert errors_of(world.carl.get("/tickets"), 403)  # a customer's token
    with app.app_context():
        host = app.extensions["host_shop"]
        host.db.session.delete(host.db.session.get(host.Account, 3))
        host.db.session.commit()
    assert world.bob.get("/tickets").status_code == 401  # the user is gone


def test_health_document_and_docs_need_no_token(client):
    assert client.get(f"{API}/health").get_json()["database"] == "ok"
    assert client.get(f"{API}/openapi.json").status_code == 200
    assert client.get(f"{API}/docs").status_code == 200


# --- tickets -----------------------------------------------------------------------------------


def test_ticket_list_follows_the_inbox_access_rules(world):
    admin = world.admin.get("/tickets").get_json()
    assert [t["id"] for t in admin["data"]] == [world.ids.ticket]
    assert admin["next_cursor"] is None
    assert [t["id"] for t in world.alice.get("/tickets").get_json()["data"]] == [world.ids.ticket]
    assert world.bob.get("/tickets").get_json()["data"] == []
    assert world.alice.get(f"/tickets/{world.ids.ticket}").get_json()["subject"] == (
        "Where is my order?"
    )
    assert errors_of(world.bob.get(f"/tickets/{world.ids.ticket}"), 404)


def test_ticket_list_pages_with_a_cursor_and_filters(app, world):
    with app.app_context():
        chat = plugin_state().db.session.get(Chat, world.ids.chat)
        for n in range(4):
            make_ticket(chat, f"Refund {n}", email=f"c{n}@example.com")
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = world.alice.get("/tickets", **query).get_json()
        assert len(page["data"]) <= 2
        seen += [t["id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)  # newest activity first
    refunds = world.alice.get("/tickets", q="refund").get_json()["data"]
    assert len(refunds) == 4
    assert world.alice.get("/tickets", assignee="none").get_json()["data"]
    assert world.alice.get("/tickets", assignee="me").get_json()["data"] == []
    assert world.admin.get("/tickets", chat=world.ids.other).get_json()["data"] == []
    assert world.alice.get("/tickets", status="closed").get_json()["data"] == []
    assert "cursor" in errors_of(world.alice.get("/tickets", cursor="forged"), 400)
    assert "status" in errors_of(world.alice.get("/tickets", status="lost"), 400)
    assert "limit" in errors_of(world.alice.get("/tickets", limit=1000), 400)
    assert "chat" in errors_of(world.alice.get("/tickets", chat=2**40), 400)


def test_open_a_ticket(world):
    body = {
        "chat_id": world.ids.chat,
        "customer_name": "Yann",
        "customer_email": "yann@example.com",
        "subject": "Size exchange",
        "message": "Can I swap for an M?",
    }
    response = world.alice.post("/tickets", json=body)
    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["status"] == "open" and ticket["last_sender"] == "customer"
    first = world.alice.get(f"/tickets/{ticket['id']}/messages").get_json()["data"][0]
    assert (first["author_kind"], first["body"]) == ("customer", "Can I swap for an M?")
    assert "chat_id" in errors_of(world.bob.post("/tickets", json=body), 422)
    errors = errors_of(world.alice.post("/tickets", json={"chat_id": "1", "extra": 1}), 422)
    assert {"chat_id", "customer_email", "subject", "message", "extra"} <= set(errors)


def test_change_a_ticket_records_each_change(app, world):
    with app.app_context():
        team = Team(name="Returns")
        plugin_state().db.session.add(team)
        plugin_state().db.session.commit()
        team_id = team.id
    url = f"/tickets/{world.ids.ticket}"
    changes = {
        "status": "pending",
        "priority": "high",
        "assignee_id": "2",
        "team_id": team_id,
        "tags": ["VIP", "  refund  "],
        "watcher_ids": ["1"],
    }
    ticket = world.alice.patch(url, json=changes).get_json()
    assert (ticket["status"], ticket["priority"], ticket["assignee_id"]) == (
        "pending",
        "high",
        "2",
    )
    assert (ticket["team_id"], ticket["tags"], ticket["watcher_ids"]) == (
        team_id,
        ["refund", "vip"],
        ["1"],
    )
    lines = world.alice.get(f"{url}/messages", include_internal="true").get_json()["data"]
    notes = [m["body"] for m in lines if m["author_kind"] == "system"]
    assert "Alice Agent set status to pending" in notes
    assert "Alice Agent added tag vip" in notes
    ticket = world.alice.patch(url, json={"tags": ["vip"], "assignee_id": None}).get_json()
    assert (ticket["tags"], ticket["assignee_id"]) == (["vip"], None)


def test_a_refused_ticket_change_changes_nothing(world):
    url = f"/tickets/{world.ids.ticket}"
    errors = errors_of(world.alice.patch(url, json={"priority": "high", "assignee_id": "4"}), 422)
    assert "assignee_id" in errors
    assert world.alice.get(url).get_json()["priority"] == "normal"
    assert "team_id" in errors_of(world.alice.patch(url, json={"team_id": 999}), 422)
    assert "status" in errors_of(world.alice.patch(url, json={"status": "lost"}), 422)
    assert "tags" in errors_of(world.alice.patch(url, json={"tags": [" "]}), 422)
    assert "color" in errors_of(world.alice.patch(url, json={"color": "red"}), 422)
    assert errors_of(world.bob.patch(url, json={"priority": "low"}), 404)


# --- messages ----------------------------------------------------------------------------------


def test_messages_reply_note_follow_and_read(world):
    url = f"/tickets/{world.ids.ticket}/messages"
    reply = world.alice.post(url, json={"body": "On its way!", "client_msg_id": "crm-1"})
    assert reply.status_code == 201
    assert reply.get_json()["author_name"] == "Alice Agent"
    again = world.alice.post(url, json={"body": "On its way!", "client_msg_id": "crm-1"})
    assert again.get_json()["id"] == reply.get_json()["id"]  # idempotent
    note = world.alice.post(url, json={"body": "Check the carrier", "internal": True})
    assert note.get_json()["internal"] is True
    everything = world.alice.get(url).get_json()["data"]
    assert [m["seq"] for m in everything] == [1, 2, 3]
    public = world.alice.get(url, include_internal="false").get_json()["data"]
    assert [m["seq"] for m in public] == [1, 2]
    after = world.alice.get(url, after=1, limit=1).get_json()
    assert [m["seq"] for m in after["data"]] == [2]
    rest = world.alice.get(url, after=1, limit=1, cursor=after["next_cursor"]).get_json()
    assert ([m["seq"] for m in rest["data"]], rest["next_cursor"]) == ([3], None)
    assert world.alice.get(f"{url}/2").get_json()["body"] == "On its way!"
    assert errors_of(world.alice.get(f"{url}/99"), 404)
    assert "body" in errors_of(world.alice.post(url, json={"body": "   "}), 422)
    assert errors_of(world.bob.get(url), 404)
    assert errors_of(world.bob.post(url, json={"body": "Hi"}), 404)


# --- tags, contacts ----------------------------------------------------------------------------


def test_tags(world):
    created = world.alice.post("/tags", json={"name": "  Gift   Wrap "})
    assert created.status_code == 201
    tag = created.get_json()
    assert tag["name"] == "gift wrap"
    assert "name" in errors_of(world.bob.post("/tags", json={"name": "GIFT wrap"}), 422)
    assert "name" in errors_of(world.bob.post("/tags", json={"name": "x" * 51}), 422)
    world.alice.post("/tags", json={"name": "return"})
    assert [t["name"] for t in world.bob.get("/tags", q="gift").get_json()["data"]] == [
        "gift wrap"
    ]
    assert world.bob.get(f"/tags/{tag['id']}").get_json() == tag
    assert errors_of(world.alice.patch(f"/tags/{tag['id']}", json={"name": "gifts"}), 403)
    renamed = world.admin.patch(f"/tags/{tag['id']}", json={"name": "Gifts"}).get_json()
    assert renamed == {"id": tag["id"], "name": "gifts"}
    assert errors_of(world.admin.patch(f"/tags/{tag['id']}", json={"name": "return"}), 422)


def test_contacts(world):
    body = {"name": "Zoe", "email": "Zoe@Example.com", "phone": "+33 6 00"}
    contact = world.bob.post("/contacts", json=body).get_json()
    assert (contact["email"], contact["phone"]) == ("zoe@example.com", "+33 6 00")
    assert "email" in errors_of(world.alice.post("/contacts", json=body), 422)
    assert "email" in errors_of(world.alice.post("/contacts", json={"name": "X"}), 422)
    url = f"/contacts/{contact['id']}"
    changed = world.alice.patch(url, json={"phone": "", "notes": "VIP"}).get_json()
    assert (changed["name"], changed["phone"], changed["notes"]) == ("Zoe", "", "VIP")
    assert world.alice.get(url).get_json() == changed
    assert [c["id"] for c in world.alice.get("/contacts", q="zoe").get_json()["data"]] == [
        contact["id"]
    ]
    assert world.alice.get("/contacts", q="nobody").get_json()["data"] == []
    assert errors_of(world.alice.get("/contacts/4242"), 404)


# --- tasks -------------------------------------------------------------------------------------


def test_tasks_follow_ticket_access(app, world):
    with app.app_context():
        ticket = plugin_state().db.session.get(Ticket, world.ids.ticket)
        linked = tasks.create_task(ALICE, title="Call the carrier", ticket=ticket).id
    created = world.bob.post("/tasks", json={"title": "Order boxes", "assignee_id": "3"})
    assert created.status_code == 201
    mine = created.get_json()
    assert [t["id"] for t in world.bob.get("/tasks").get_json()["data"]] == [mine["id"]]
    assert {t["id"] for t in world.alice.get("/tasks").get_json()["data"]} == {linked, mine["id"]}
    assert [t["id"] for t in world.bob.get("/tasks", assignee="me").get_json()["data"]] == [
        mine["id"]
    ]
    assert [t["id"] for t in world.alice.get("/tasks", ticket_id=world.ids.ticket).get_json()[
        "data"
    ]] == [linked]
    assert errors_of(world.bob.get(f"/tasks/{linked}"), 404)
    link = {"title": "Sneaky", "ticket_id": world.ids.ticket}
    assert "ticket_id" in errors_of(world.bob.post("/tasks", json=link), 422)
    assert "assignee_id" in errors_of(
        world.bob.post("/tasks", json={"title": "X", "assignee_id": "4"}), 422
    )
    url = f"/tasks/{linked}"
    task = world.alice.patch(url, json={"title": "Call DHL", "due_date": "2030-01-31"}).get_json()
    assert (task["title"], task["due_date"], task["done"]) == ("Call DHL", "2030-01-31", False)
    assert world.alice.patch(url, json={"done": True}).get_json()["done"] is True
    assert [t["id"] for t in world.alice.get("/tasks", done="true").get_json()["data"]] == [linked]
    assert "due_date" in errors_of(world.alice.patch(url, json={"due_date": "soon"}), 422)
    lines = world.alice.get(f"/tickets/{world.ids.ticket}/messages").get_json()["data"]
    assert any("updated task" in m["body"] for m in lines)
    assert any("completed task" in m["body"] for m in lines)


# --- chats and automation rules (admins) -------------------------------------------------------


def test_chats_need_an_admin(world):
    assert errors_of(world.alice.get("/chats"), 403)
    assert errors_of(world.alice.get(f"/chats/{world.ids.chat}"), 403)
    assert errors_of(world.alice.post("/chats", json={"name": "Mine"}), 403)
    chats = world.admin.get("/chats").get_json()["data"]
    assert [c["name"] for c in chats] == ["Store chat", "Other chat"]
    assert world.admin.get("/chats", enabled="false").get_json()["data"] == []
    assert "secret" not in chats[0]


def test_create_and_change_a_chat(world):
    body = {
        "name": "Night desk",
        "agent_ids": ["2"],
        "opening_hours": {"fri": [["22:00", "02:00"]], "sun": [["00:00", "24:00"]]},
        "paths": ["/checkout", "/cart/*"],
        "path_rule_type": "whitelist",
    }
    response = world.admin.post("/chats", json=body)
    assert response.status_code == 201, response.get_json()
    chat = response.get_json()
    assert chat["opening_hours"]["fri"] == [["22:00", "02:00"]]
    assert chat["opening_hours"]["sun"] == [["00:00", "24:00"]]
    assert chat["opening_hours"]["mon"] == [["09:00", "17:00"]]  # the form's default
    assert (chat["paths"], chat["agent_ids"]) == (["/checkout", "/cart/*"], ["2"])
    url = f"/chats/{chat['id']}"
    changed = world.admin.patch(url, json={"enabled": False, "opening_hours": {"mon": []}})
    assert changed.status_code == 200, changed.get_json()
    chat = changed.get_json()
    assert (chat["enabled"], chat["opening_hours"]["mon"], chat["name"]) == (
        False,
        [],
        "Night desk",
    )
    assert world.admin.get(url).get_json() == chat
    errors = errors_of(world.admin.patch(url, json={"name": "Store chat"}), 422)
    assert errors == {"name": ["Another chat already has this name."]}
    overlap = {"opening_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}
    assert "mon" in errors_of(world.admin.patch(url, json=overlap), 422)["opening_hours"]
    assert "agent_ids" in errors_of(world.admin.patch(url, json={"agent_ids": ["4"]}), 422)
    assert "name" in errors_of(world.admin.post("/chats", json={}), 422)


def test_automation_rules(app, world):
    body = {
        "name": "VIP first",
        "trigger": "new_ticket",
        "conditions": [{"field": "subject", "operator": "contains", "value": "order"}],
        "actions": [{"type": "set_priority", "value": "high"}],
    }
    assert errors_of(world.alice.post("/automation-rules", json=body), 403)
    created = world.admin.post("/automation-rules", json=body)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert (rule["enabled"], rule["match"], rule["position"]) == (True, "all", 0)
    url = f"/automation-rules/{rule['id']}"
    changed = world.admin.patch(url, json={"enabled": False}).get_json()
    assert (changed["enabled"], changed["conditions"]) == (False, rule["conditions"])
    assert world.admin.get(url).get_json() == changed
    assert world.admin.get("/automation-rules", enabled="true").get_json()["data"] == []
    bad = {**body, "actions": [{"type": "explode", "value": ""}]}
    assert "actions" in errors_of(world.admin.post("/automation-rules", json=bad), 422)
    assert errors_of(world.alice.get(url), 403)
    with app.app_context():
        assert len(rules.list_rules()) == 1


# --- bad requests ------------------------------------------------------------------------------


def test_bad_requests_get_json_errors(world):
    url = f"/tickets/{world.ids.ticket}/messages"
    assert errors_of(world.alice.post(url, data="{", content_type="application/json"), 400)
    assert errors_of(world.alice.post(url, json=["a list"]), 400)
    assert errors_of(world.alice.post(url, data="body=hi"), 400)  # a form, not JSON
    assert errors_of(world.alice.post(url, json={"body": "a\x00b"}), 400)
    surrogate = '{"body": "\\ud800"}'  # valid JSON, but no UTF-8 text
    assert errors_of(world.alice.post(url, data=surrogate, content_type="application/json"), 400)
    assert errors_of(world.alice.get("/tickets", q="a\x00b"), 400)
    deep = "[" * 100_000 + "]" * 100_000
    assert world.alice.post(url, data=deep, content_type="application/json").status_code in (
        400,
        413,
    )
    huge = {"body": "x" * (1024 * 1024)}
    assert errors_of(world.alice.post(url, json=huge), 413)
    assert errors_of(world.alice.get("/tickets/abc"), 404)
    assert errors_of(world.alice.get(f"/tickets/{2**40}"), 404)
    assert errors_of(world.alice.get("/tickets/0"), 404)
    assert errors_of(world.alice.get("/tags/1"), 404)
    long_body = {"body": "x" * 6000}
    assert "body" in errors_of(world.alice.post(url, json=long_body), 422)


# --- the "API tokens" page ---------------------------------------------------------------------


def test_token_page_needs_an_agent(client, auth):
    assert client.get("/chat/account/api-tokens").status_code == 302
    auth.login("carl@shop.test")
    assert client.get("/chat/account/api-tokens").status_code == 403


def test_create_a_token_shown_once_then_revoke_it(app, client, auth):
    auth.login("alice@shop.test")
    page = client.get("/chat/account/api-tokens")
    assert "No token yet" in page.get_data(as_text=True)
    csrf = csrf_from_page(page.get_data(as_text=True))
    refused = client.post("/chat/account/api-tokens", data={"csrf_token": csrf, "name": "  "})
    assert refused.status_code == 422 and "Enter a name" in refused.get_data(as_text=True)
    created = client.post(
        "/chat/account/api-tokens", data={"csrf_token": csrf, "name": "CRM sync"}
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(rc_[A-Za-z0-9_-]{43})"', created.get_data(as_text=True))[1]
    assert Caller(client, token).get("/tickets").status_code == 200
    listing = client.get("/chat/account/api-tokens").get_data(as_text=True)
    assert token not in listing and "CRM sync" in listing and f"rc_…{token[-4:]}" in listing
    with app.app_context():
        (row,) = api_tokens.list_tokens("2")
        token_id = row.id
    auth.logout()
    auth.login("bob@shop.test")  # someone else's token: not found
    bob_csrf = auth.csrf_token()
    revoke = f"/chat/account/api-tokens/{token_id}/revoke"
    assert client.post(revoke, data={"csrf_token": bob_csrf}).status_code == 404
    assert Caller(client, token).get("/tickets").status_code == 200
    auth.logout()
    auth.login("alice@shop.test")
    response = client.post(revoke, data={"csrf_token": auth.csrf_token()})
    assert response.status_code == 303
    assert "Revoked" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert Caller(client, token).get("/tickets").status_code == 401
