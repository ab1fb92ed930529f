"""Agents' availability: set in the inbox, online only with an inbox page open; a chat that
closes while none of its agents is online; what the widget's config says about who is
there (never an e-mail) and how soon the chat usually replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from responso_chat.conversation import availability, chats, messages
from responso_chat.models import Chat, Message, Ticket, utcnow
from tests.factories import make_chat, make_ticket

SHOP = "https://shop.example"
FORM = {"name": "Zoe", "email": "zoe@example.com", "subject": "Hi", "message": "Hello",
        "page_url": "", "page_title": "", "language": "en", "client_msg_id": "s-1"}


@pytest.fixture
def chat(app):
    with app.app_context():
        chat = make_chat(agent_ids=("2", "3"), allowed_origins=[SHOP])
        return {"id": chat.id, "key": chat.public_key}


def config(client, key):
    return client.get(f"/chat/widget/{key}/config", headers={"Origin": SHOP}).json


def test_agents_are_online_with_an_inbox_open_and_not_set_away(app, chat):
    with app.app_context():
        assert availability.online_agents(chat["id"]) == []
        availability.agent_connected("socket-a", "2")
        availability.agent_connected("socket-b", "1")  # the admin: not one of the chat's
        assert [a.name for a in availability.online_agents(chat["id"])] == ["Alice Agent"]
        availability.set_availability("2", "away")
        assert availability.chosen("2") == "away"
        assert availability.online_agents(chat["id"]) == []
        availability.set_availability("2", "online")
        availability.agent_disconnected("socket-a", "2")
        assert availability.online_agents(chat["id"]) == []
        with pytest.raises(ValueError):
            availability.set_availability("2", "busy")


def test_the_widget_names_agents_without_e_mails():
    assert availability.public_name("Alice Agent") == {"name": "Alice", "initials": "AA"}
    assert availability.public_name("zoe@shop.example") == {"name": "", "initials": "Z"}
    assert availability.public_name("") == {"name": "", "initials": "?"}


def test_config_says_who_is_online_and_closes_without_agents(client, app, chat):
    with app.app_context():
        availability.agent_connected("socket-a", "2")
    body = config(client, chat["key"])
    assert body["agents_online"] == [{"name": "Alice", "initials": "AA"}]
    assert body["open_now"] is True
    assert "alice@shop.test" not in str(body)
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.get(Chat, chat["id"]).closed_without_agents = True
        state.db.session.commit()
        now = utcnow()
        assert chats.open_state(state.db.session.get(Chat, chat["id"]), now)[0] is True
        availability.set_availability("2", "offline")
        assert chats.open_state(state.db.session.get(Chat, chat["id"]), now)[0] is False
    body = config(client, chat["key"])
    assert body["open_now"] is False and body["agents_online"] == []


def test_start_chat_follows_the_agents_rule(client, app, chat):
    with app.app_context():
        state = app.extensions["responso_chat"]
        db_chat = state.db.session.get(Chat, chat["id"])
        db_chat.closed_without_agents = True
        db_chat.out_of_hours_behaviour = "hide_widget"
        state.db.session.commit()
    response = client.post(f"/chat/widget/{chat['key']}/tickets", json=FORM,
                           headers={"Origin": SHOP})
    assert response.status_code == 409
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.session.get(Chat, chat["id"]).out_of_hours_behaviour = "show_message"
        state.db.session.commit()
    response = client.post(f"/chat/widget/{chat['key']}/tickets", json=FORM,
                           headers={"Origin": SHOP})
    assert response.status_code == 201 and response.json["ticket"]["out_of_hours"] is True


def test_usual_reply_time_is_the_median_first_reply(app, chat):
    with app.app_context():
        state = app.extensions["responso_chat"]
        db_chat = state.db.session.get(Chat, chat["id"])
        assert availability.usual_reply_minutes(chat["id"]) is None
        for minutes in (2, 4, 30):
            ticket = make_ticket(db_chat)
            messages.post_agent_message(ticket, "2", "Alice Agent", "Hi")
            reply = state.db.session.query(Message).filter_by(
                ticket_id=ticket.id, author_kind="agent").one()
            reply.created_at = state.db.session.get(Ticket, ticket.id).created_at + \
                timedelta(minutes=minutes)
        make_ticket(db_chat)  # never answered: not counted
        state.db.session.commit()
        assert availability.usual_reply_minutes(chat["id"]) is None  # kept a few minutes
        state.reply_times.clear()
        assert availability.usual_reply_minutes(chat["id"]) == 4


def test_old_tickets_do_not_count(app, chat):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = make_ticket(state.db.session.get(Chat, chat["id"]))
        messages.post_agent_message(ticket, "2", "Alice Agent", "Hi")
        state.db.session.get(Ticket, ticket.id).created_at = datetime(2020, 1, 1, tzinfo=UTC)
        state.db.session.commit()
        assert availability.usual_reply_minutes(chat["id"]) is None


def test_an_agent_sets_their_availability(client, auth, app):
    auth.login("alice@shop.test")
    page = client.get("/chat/inbox/").get_data(as_text=True)
    assert "My status" in page
    token = auth.csrf_token()
    response = client.post("/chat/inbox/availability", json={"status": "away"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json == {"ok": True, "status": "away"}
    response = client.post("/chat/inbox/availability",
                           data={"status": "offline", "next": "/chat/inbox/?view=mine",
                                 "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/chat/inbox/?view=mine")
    back = client.post("/chat/inbox/availability",
                       data={"status": "online", "next": "https://evil.example/",
                             "csrf_token": token})
    assert back.headers["Location"].endswith("/chat/inbox/")
    with app.app_context():
        assert availability.chosen("2") == "online"


def test_bad_availability_is_refused(client, auth, app):
    auth.login("alice@shop.test")
    token = auth.csrf_token()
    for body in ({"status": "busy"}, {}, {"status": ["away"]}):
        response = client.post("/chat/inbox/availability", json=body,
                               headers={"X-CSRFToken": token})
        assert response.status_code == 422 and "status" in response.json["errors"], body
    with app.app_context():
        assert availability.chosen("2") == "online"


def test_availability_is_for_agents_with_the_csrf_token(client, auth, app):
    response = client.post("/chat/inbox/availability", json={"status": "away"},
                           headers={"X-CSRFToken": auth.csrf_token()})
    assert response.status_code in (302, 401)
    auth.login("carl@shop.test")
    response = client.post("/chat/inbox/availability", json={"status": "away"},
                           headers={"X-CSRFToken": auth.csrf_token()})
    assert response.status_code == 403
    auth.logout()
    auth.login("alice@shop.test")
    assert client.post("/chat/inbox/availability", json={"status": "away"}).status_code == 400
    with app.app_context():
        assert availability.chosen("2") == "online" and availability.chosen("4") == "online"


def test_the_chat_form_sets_closed_without_agents(client, auth, app, chat):
    auth.login("admin@shop.test")
    page = client.get(f"/chat/admin/chats/{chat['id']}/edit").get_data(as_text=True)
    assert "Out of hours while no agent is online" in page
