"""Rating after the chat: the visitor's endpoint, the one-day change window, the agents'
rating event, the API's ticket, the ``ticket.rated`` webhook and the side panel."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from responso_chat.conversation import messages, ratings, ticket_changes, visitor
from responso_chat.infra.broker import agent_ticket_channel
from responso_chat.integrations import api_tokens
from responso_chat.models import TicketRating, utcnow
from responso_chat.state import plugin_state
from responso_chat.users import Agent
from tests.factories import make_chat, make_ticket
from tests.test_webhooks import PRIVATE_OK, Receiver, add_webhook

SHOP = "https://shop.example"
ALICE = Agent("2", "Alice Agent", "alice@shop.test")


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Origin": SHOP}


@pytest.fixture
def ended(app):
    """A chat ticket Alice solved; its id and the customer's visitor token."""
    with app.app_context():
        ticket = make_ticket(make_chat(allowed_origins=[SHOP]))
        messages.post_agent_message(ticket, "2", "Alice Agent", "Here is your tracking link.")
        ticket_changes.set_status(ticket, "solved", ALICE)
        return {"id": ticket.id, "token": visitor.issue_token(ticket)}


def rate(client, token, **body):
    return client.post("/chat/widget/tickets/rating", json=body, headers=bearer(token))


def stored(app, ticket_id):
    with app.app_context():
        row = plugin_state().db.session.get(TicketRating, ticket_id)
        return None if row is None else (row.score, row.comment)


def test_the_customer_rates_an_ended_chat_and_sees_it_after_a_reload(app, client, ended):
    response = rate(client, ended["token"], score=4, comment="  Quick and kind.  ")
    assert response.status_code == 201
    given = response.json["rating"]
    assert (given["score"], given["comment"], given["changeable"]) == (4, "Quick and kind.", True)
    assert stored(app, ended["id"]) == (4, "Quick and kind.")
    resumed = client.get("/chat/widget/tickets/messages?after=0", headers=bearer(ended["token"]))
    assert resumed.json["ticket"]["rating"]["score"] == 4
    # changed within the day: the same row, 200
    again = rate(client, ended["token"], score=2)
    assert again.status_code == 200 and again.json["rating"]["comment"] == ""
    assert stored(app, ended["id"]) == (2, "")
    with app.app_context():
        assert plugin_state().db.session.scalar(
            sa.select(sa.func.count()).select_from(TicketRating)) == 1


def test_a_rating_is_read_only_after_the_change_window(app, client, ended):
    assert rate(client, ended["token"], score=5).status_code == 201
    with app.app_context():
        row = plugin_state().db.session.get(TicketRating, ended["id"])
        row.created_at = utcnow() - timedelta(hours=24, seconds=1)
        plugin_state().db.session.commit()
    refused = rate(client, ended["token"], score=1, comment="Changed my mind")
    assert refused.status_code == 409
    assert "can no longer be changed" in refused.json["errors"]["_request"][0]
    assert "24 hours" in refused.json["errors"]["_request"][0]
    assert stored(app, ended["id"]) == (5, "")
    resumed = client.get("/chat/widget/tickets/messages?after=0", headers=bearer(ended["token"]))
    assert resumed.json["ticket"]["rating"]["changeable"] is False


def test_the_window_comes_from_the_settings(make_app):
    app = make_app(RESPONSO_CHAT_RATING_CHANGE_WINDOW=60)
    with app.app_context():
        ticket = make_ticket(make_chat())
        ticket_changes.set_status(ticket, "closed", ALICE)
        now = utcnow()
        rating, created = ratings.rate(ticket, 3, "", now=now)
        assert created and ratings.may_change(rating, now + timedelta(seconds=59))
        assert not ratings.may_change(rating, now + timedelta(seconds=60))
        with pytest.raises(ratings.ChangeRefused, match="60 seconds"):
            ratings.rate(ticket, 4, "", now=now + timedelta(seconds=61))


@pytest.mark.parametrize("status", ["open", "pending", "spam"])
def test_only_a_solved_or_closed_chat_can_be_rated(app, client, status):
    with app.app_context():
        ticket = make_ticket(make_chat())
        if status != "open":
            ticket_changes.set_status(ticket, status, ALICE)
        token, ticket_id = visitor.issue_token(ticket), ticket.id
    response = rate(client, token, score=5)
    assert response.status_code == 409
    assert response.json["errors"]["_request"] == [ratings.NOT_ENDED]
    assert stored(app, ticket_id) is None


@pytest.mark.parametrize("body, field", [
    ({}, "score"),
    ({"score": 0}, "score"),
    ({"score": 6}, "score"),
    ({"score": "5"}, "score"),
    ({"score": 4.5}, "score"),
    ({"score": None}, "score"),
    ({"score": 3, "comment": "x" * 1001}, "comment"),
    ({"score": 3, "comment": 12}, "comment"),
])
def test_bad_ratings_are_refused_by_field(app, client, ended, body, field):
    response = rate(client, ended["token"], **body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert stored(app, ended["id"]) is None


def test_a_rating_needs_the_tickets_own_token(app, client, ended):
    assert client.post("/chat/widget/tickets/rating", json={"score": 5}).status_code == 401
    assert rate(client, ended["token"] + "x", score=5).status_code == 401
    with app.app_context():
        other = make_ticket(make_chat("Other chat"))
        ticket_changes.set_status(other, "solved", ALICE)
        other_token = visitor.issue_token(other)
        other_id = other.id
    assert rate(client, other_token, score=1).status_code == 201
    assert stored(app, ended["id"]) is None and stored(app, other_id) == (1, "")
    not_json = client.post("/chat/widget/tickets/rating", data="score=5",
                           headers=bearer(ended["token"]))
    assert not_json.status_code == 400


def test_ratings_are_rate_limited(make_app):
    app = make_app(RESPONSO_CHAT_SEND_RATE_LIMIT="2 per minute")
    with app.app_context():
        ticket = make_ticket(make_chat())
        ticket_changes.set_status(ticket, "solved", ALICE)
        token = visitor.issue_token(ticket)
    client = app.test_client()
    assert [rate(client, token, score=n).status_code for n in (1, 2, 3)] == [201, 200, 429]


def test_agents_get_the_rating_event_and_the_api_shows_the_rating(app, client, ended):
    events = []
    with app.app_context():
        plugin_state().broker.subscribe(agent_ticket_channel(ended["id"]), events.append)
        token = api_tokens.create_token("2", "ratings")[1]
    rate(client, ended["token"], score=5, comment="<b>Great</b>")
    (event,) = [e for e in events if e["type"] == "rating"]
    assert (event["ticket_id"], event["score"], event["comment"]) == (ended["id"], 5,
                                                                      "<b>Great</b>")
    api = client.get(f"/chat/api/tickets/{ended['id']}",
                     headers={"Authorization": f"Bearer {token}"}).json
    assert api["rating"]["score"] == 5 and api["rating"]["comment"] == "<b>Great</b>"
    assert api["first_response_at"] is not None
    listed = client.get("/chat/api/tickets",
                        headers={"Authorization": f"Bearer {token}"}).json
    assert [t["rating"]["score"] for t in listed["data"] if t["id"] == ended["id"]] == [5]


def test_the_side_panel_shows_the_rating_escaped(app, client, auth, ended):
    rate(client, ended["token"], score=3, comment="<script>alert(1)</script>")
    auth.login("alice@shop.test")
    page = client.get(f"/chat/inbox/tickets/{ended['id']}").get_data(as_text=True)
    assert "3 out of 5" in page and 'id="rc-ticket-rating"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_ticket_rated_webhook(make_app):
    app = make_app(**PRIVATE_OK)
    receiver = Receiver()
    try:
        add_webhook(app, receiver.url, events=["ticket.rated"])
        with app.app_context():
            ticket = make_ticket(make_chat())
            ticket_changes.set_status(ticket, "closed", ALICE)
            token = visitor.issue_token(ticket)
        client = app.test_client()
        rate(client, token, score=4, comment="Fine")
        rate(client, token, score=5, comment="Better")
        first, second = (json.loads(r["body"]) for r in receiver.wait_for(2))
    finally:
        receiver.stop()
    assert {first["event"], second["event"]} == {"ticket.rated"}
    by_changed = {p["data"]["changed"]: p["data"]["ticket"] for p in (first, second)}
    assert set(by_changed) == {False, True}
    assert by_changed[True]["rating"]["score"] == 5
    assert by_changed[True]["rating"]["comment"] == "Better"


def test_first_response_is_the_first_public_agent_reply(app):
    with app.app_context():
        ticket = make_ticket(make_chat())
        assert ticket.first_response_at is None
        messages.post_agent_message(ticket, "2", "Alice Agent", "A note", internal=True)
        assert ticket.first_response_at is None
        messages.post_agent_message(ticket, "2", "Alice Agent", "Hello!")
        first = ticket.first_response_at
        assert first is not None and first >= ticket.created_at
        messages.post_agent_message(ticket, "2", "Alice Agent", "Anything else?")
        assert ticket.first_response_at == first
