"""A message on a solved, closed or spam ticket: customers reopen it within the reopen
window (over HTTP and the websocket), agents reopen it when they say so, the API always does
and says so; notes and spam never reopen."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from responso_chat.conversation import messages, ticket_changes, visitor
from responso_chat.infra.broker import ticket_channel
from responso_chat.integrations import api_tokens
from responso_chat.models import Ticket, utcnow
from responso_chat.users import Agent
from tests.conftest import csrf_from_page
from tests.factories import make_chat, make_ticket

ALICE = Agent("2", "Alice Agent", "alice@shop.test")
SHOP = "https://shop.example"


@pytest.fixture
def world(app):
    """Alice's chat with a ticket she closed, its visitor token and API tokens."""
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        ticket = make_ticket(chat)
        ticket_changes.close_ticket(ticket, ALICE)
        tokens = {uid: api_tokens.create_token(uid, "test")[1] for uid in ("1", "2", "3", "4")}
        return SimpleNamespace(ticket=ticket.id, token=visitor.issue_token(ticket),
                               api=tokens)


def ticket_row(app, ticket_id):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        lines = [(m.author_kind, m.internal, m.body) for m in
                 messages.messages_after(ticket_id, 0, include_internal=True)]
        return SimpleNamespace(status=ticket.status, ended_at=ticket.ended_at, lines=lines)


def end_long_ago(app, ticket_id, status="closed"):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        ticket.status = status
        ticket.ended_at = utcnow() - timedelta(days=8)
        state.db.session.commit()


def widget_send(client, token, body="Me again", client_msg_id="c-9"):
    return client.post("/chat/widget/tickets/messages",
                       json={"body": body, "client_msg_id": client_msg_id},
                       headers={"Authorization": f"Bearer {token}", "Origin": SHOP})


# --- services ---------------------------------------------------------------------------


def test_closing_keeps_when_the_ticket_ended_and_reopening_forgets_it(app, world):
    row = ticket_row(app, world.ticket)
    assert row.status == "closed" and row.ended_at is not None
    with app.app_context():
        ticket = app.extensions["responso_chat"].db.session.get(Ticket, world.ticket)
        ticket_changes.set_status(ticket, "spam", ALICE)
        assert ticket.ended_at == row.ended_at  # still the time it first ended
        ticket_changes.set_status(ticket, "open", ALICE)
        assert ticket.ended_at is None


def test_customer_message_reopens_a_recently_closed_ticket_status_first(app, world):
    with app.app_context():
        state = app.extensions["responso_chat"]
        seen = []
        state.broker.subscribe(ticket_channel(world.ticket), seen.append)
        ticket = state.db.session.get(Ticket, world.ticket)
        message, created = messages.post_customer_message(ticket, "One more thing", "c-1")
        assert created and ticket.status == "open" and ticket.ended_at is None
        assert [e["type"] for e in seen[:2]] == ["status", "message"]
        assert seen[0]["status"] == "open"
        again, created = messages.post_customer_message(ticket, "One more thing", "c-1")
        assert not created and again.id == message.id
    row = ticket_row(app, world.ticket)
    assert row.status == "open"
    assert row.lines[-2:] == [
        ("customer", False, "One more thing"),
        ("system", True, "The customer wrote again: the ticket, closed, is open again"),
    ]


def test_customer_message_on_a_ticket_ended_long_ago_or_spam_is_refused(app, world):
    for status in ("closed", "spam"):
        end_long_ago(app, world.ticket, status)
        with app.app_context():
            ticket = app.extensions["responso_chat"].db.session.get(Ticket, world.ticket)
            assert not messages.customer_may_reopen(ticket.status, ticket.ended_at)
            with pytest.raises(messages.ConversationEnded):
                messages.post_customer_message(ticket, "Hello?")
    assert ticket_row(app, world.ticket).status == "spam"


def test_spam_is_never_reopenable_and_a_zero_window_never_reopens(app, make_app):
    with app.app_context():
        assert not messages.customer_may_reopen("spam", None)
        assert messages.customer_may_reopen("solved", None)
        assert not messages.customer_may_reopen("open", None)
    other = make_app(RESPONSO_CHAT_REOPEN_WINDOW=0)
    with other.app_context():
        assert not messages.customer_may_reopen("closed", None)


def test_reopen_window_setting_is_checked(make_app):
    from responso_chat.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="REOPEN_WINDOW"):
        make_app(RESPONSO_CHAT_REOPEN_WINDOW=-1)


def test_agent_reply_needs_reopen_and_notes_never_reopen(app, world):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, world.ticket)
        with pytest.raises(messages.ReopenRequired):
            messages.post_agent_message(ticket, "2", "Alice Agent", "Hi again")
        note = messages.post_agent_message(ticket, "2", "Alice Agent", "fyi", internal=True)
        assert note.internal and ticket.status == "closed"
        reply = messages.post_agent_message(ticket, "2", "Alice Agent", "Hi again", "a-1",
                                            reopen=True)
        assert reply.reopened and ticket.status == "open"
        ticket_changes.close_ticket(ticket, ALICE)
        again = messages.post_agent_message(ticket, "2", "Alice Agent", "Hi again", "a-1")
        assert again.id == reply.id and not again.reopened and ticket.status == "closed"
    lines = ticket_row(app, world.ticket).lines
    assert ("system", True, "Alice Agent reopened the ticket with a reply") in lines
    assert sum(1 for line in lines if line[2] == "Hi again") == 1


# --- the widget over HTTP -----------------------------------------------------------------


def test_widget_summary_says_whether_a_message_reopens(client, app, world):
    response = client.get("/chat/widget/tickets/messages?after=0",
                          headers={"Authorization": f"Bearer {world.token}", "Origin": SHOP})
    assert response.json["ticket"]["ended"] and response.json["ticket"]["reopenable"]
    end_long_ago(app, world.ticket)
    response = client.get("/chat/widget/tickets/messages?after=0",
                          headers={"Authorization": f"Bearer {world.token}", "Origin": SHOP})
    assert response.json["ticket"]["ended"] and not response.json["ticket"]["reopenable"]


def test_widget_send_reopens_a_closed_ticket(client, app, world):
    response = widget_send(client, world.token)
    assert response.status_code == 201
    assert response.json["message"]["body"] == "Me again"
    assert ticket_row(app, world.ticket).status == "open"


def test_widget_send_on_a_ticket_ended_long_ago_is_a_409(client, app, world):
    end_long_ago(app, world.ticket)
    response = widget_send(client, world.token)
    assert response.status_code == 409
    assert "start a new chat" in response.json["errors"]["_request"][0]
    assert ticket_row(app, world.ticket).status == "closed"


def test_widget_send_with_bad_input_or_no_token_changes_nothing(client, app, world):
    assert widget_send(client, world.token, body="  ").status_code == 422
    assert widget_send(client, "forged").status_code == 401
    assert ticket_row(app, world.ticket).status == "closed"


# --- the inbox ---------------------------------------------------------------------------


def inbox_post(client, auth, ticket_id, **data):
    auth.login("alice@shop.test")
    page = client.get(f"/chat/inbox/tickets/{ticket_id}")
    return client.post(f"/chat/inbox/tickets/{ticket_id}/messages",
                       json={"body": "Are you still there?", **data},
                       headers={"X-CSRFToken": csrf_from_page(page.get_data(as_text=True))})


def test_inbox_reply_on_a_closed_ticket_asks_first(client, auth, app, world):
    response = inbox_post(client, auth, world.ticket)
    assert response.status_code == 409
    assert response.json["reopen_required"] is True and response.json["status"] == "closed"
    assert "Reopen and send" in response.json["errors"]["body"][0]
    assert ticket_row(app, world.ticket).status == "closed"
    response = inbox_post(client, auth, world.ticket, reopen=True, client_msg_id="r-1")
    assert response.status_code == 201
    assert ticket_row(app, world.ticket).status == "open"


def test_inbox_page_offers_reopen_and_send_on_a_closed_ticket(client, auth, world):
    auth.login("alice@shop.test")
    html = client.get(f"/chat/inbox/tickets/{world.ticket}").get_data(as_text=True)
    assert "Reopen and send" in html
    assert 'name="reopen" value="true"' in html


def test_inbox_form_without_javascript_gets_the_page_back_with_the_error(client, auth, world,
                                                                        app):
    auth.login("alice@shop.test")
    page = client.get(f"/chat/inbox/tickets/{world.ticket}")
    response = client.post(f"/chat/inbox/tickets/{world.ticket}/messages",
                           data={"body": "Hello", "csrf_token":
                                 csrf_from_page(page.get_data(as_text=True))})
    assert response.status_code == 409
    assert "Reopen and send" in response.get_data(as_text=True)
    assert ticket_row(app, world.ticket).status == "closed"


def test_inbox_reply_refused_to_strangers_customers_and_agents_without_access(client, auth,
                                                                              app, world):
    response = client.post(f"/chat/inbox/tickets/{world.ticket}/messages",
                           json={"body": "x", "reopen": True},
                           headers={"X-CSRFToken": auth.csrf_token()})
    assert response.status_code in (302, 401)
    for email, status in (("carl@shop.test", 403), ("bob@shop.test", 404)):
        auth.login(email)
        response = client.post(f"/chat/inbox/tickets/{world.ticket}/messages",
                               json={"body": "x", "reopen": True},
                               headers={"X-CSRFToken": auth.csrf_token()})
        assert response.status_code == status, email
        auth.logout()
    assert ticket_row(app, world.ticket).status == "closed"


def test_inbox_reopen_needs_the_csrf_token(client, auth, app, world):
    auth.login("alice@shop.test")
    response = client.post(f"/chat/inbox/tickets/{world.ticket}/messages",
                           json={"body": "x", "reopen": True})
    assert response.status_code == 400
    assert ticket_row(app, world.ticket).status == "closed"


def test_inbox_reopen_must_be_a_boolean(client, auth, app, world):
    response = inbox_post(client, auth, world.ticket, reopen="perhaps")
    assert response.status_code == 422 and "reopen" in response.json["errors"]


# --- the API -----------------------------------------------------------------------------


def test_api_reply_reopens_and_says_so_notes_do_not(client, app, world):
    headers = {"Authorization": f"Bearer {world.api['2']}"}
    note = client.post(f"/chat/api/tickets/{world.ticket}/messages",
                       json={"body": "internal", "internal": True}, headers=headers)
    assert note.status_code == 201 and note.json["ticket_reopened"] is False
    assert ticket_row(app, world.ticket).status == "closed"
    reply = client.post(f"/chat/api/tickets/{world.ticket}/messages",
                        json={"body": "We are back"}, headers=headers)
    assert reply.status_code == 201 and reply.json["ticket_reopened"] is True
    assert ticket_row(app, world.ticket).status == "open"
    listed = client.get(f"/chat/api/tickets/{world.ticket}/messages", headers=headers)
    assert all(m["ticket_reopened"] is False for m in listed.json["data"])


def test_api_reply_refused_without_rights(client, app, world):
    for token, status in ((None, 401), (world.api["3"], 404), (world.api["4"], 403)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.post(f"/chat/api/tickets/{world.ticket}/messages",
                               json={"body": "x"}, headers=headers)
        assert response.status_code == status, token
    assert ticket_row(app, world.ticket).status == "closed"
