"""Transferring a ticket to another agent or a team: through the ticket change service (its
lines, the ``assigned`` event), a note only agents see, the new agent told at once on their
own channel, the customer told who joined and never shown the note (HTTP and websocket)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from responso_chat.conversation import messages
from responso_chat.conversation.visitor import issue_token
from responso_chat.infra.broker import (
    INBOX_CHANNEL,
    agent_channel,
    agent_ticket_channel,
    ticket_channel,
)
from responso_chat.integrations import api_tokens
from responso_chat.models import ChatAgent, OutboxEntry, Team, TeamMember, Ticket
from tests.factories import make_chat, make_ticket
from tests.test_realtime_ws import agent_socket, visitor_socket
from tests.test_realtime_ws import server as server  # noqa: F401 - the live server fixture

NOTE = "VIP customer: the refund is approved, please send the label"
JSON = {"Accept": "application/json"}


class Desk:
    """Alice logged in. Ticket ``shared`` is in a chat of Alice and Bob; ticket ``alone`` in
    a chat of Alice's only. Records what the broker publishes on the channels that count."""

    def __init__(self, app, client, auth):
        self.app, self.client = app, client
        self.state = app.extensions["responso_chat"]
        with app.app_context():
            session = self.state.db.session
            self.shared = make_ticket(make_chat("Both", agent_ids=("2", "3"))).id
            self.alone = make_ticket(make_chat("Alice only", agent_ids=("2",))).id
            team = Team(name="Returns", member_rows=[TeamMember(user_id="3"),
                                                     TeamMember(user_id="2")])
            session.add(team)
            session.commit()
            self.team_id = team.id
            self.tokens = {uid: api_tokens.create_token(uid, "t")[1] for uid in ("1", "2", "3")}
        auth.login("alice@shop.test")
        self.csrf = auth.csrf_token()
        self.events = []
        channels = [ticket_channel(self.shared), agent_ticket_channel(self.shared),
                    INBOX_CHANNEL, agent_channel("1"), agent_channel("2"), agent_channel("3")]
        for channel in channels:
            self.state.broker.subscribe(
                channel, lambda event, channel=channel: self.events.append((channel, event))
            )

    def transfer(self, ticket_id=None, as_json=True, **data):
        url = f"/chat/inbox/tickets/{ticket_id or self.shared}/transfer"
        if as_json:
            return self.client.post(url, json=data, headers={"X-CSRFToken": self.csrf, **JSON})
        return self.client.post(url, data={"csrf_token": self.csrf, **data})

    def api(self, ticket_id, user="2", **body):
        return self.client.post(f"/chat/api/tickets/{ticket_id}/transfer", json=body,
                                headers={"Authorization": f"Bearer {self.tokens[user]}"})

    def ticket(self, ticket_id=None):
        self.state.db.session.expire_all()
        return self.state.db.session.get(Ticket, ticket_id or self.shared)

    def conversation(self, ticket_id=None):
        rows = messages.messages_after(ticket_id or self.shared, 0, include_internal=True)
        return [(m.author_kind, m.body, m.internal) for m in rows[1:]]  # after the first


@pytest.fixture
def desk(app, client, auth):
    return Desk(app, client, auth)


def test_transfer_to_an_agent(app, desk):
    response = desk.transfer(target="agent:3", note=NOTE)
    assert response.status_code == 200 and response.json["ticket"]["assignee_id"] == "3"
    with app.app_context():
        assert desk.ticket().assignee_id == "3"
        assert desk.conversation() == [
            ("system", "Alice Agent transferred the ticket to Bob Other", True),
            ("agent", NOTE, True),
            ("system", "Bob Other joined the chat", False),
        ]
        jobs = desk.state.db.session.scalars(sa.select(OutboxEntry.job)).all()
    assert "responso_chat.conversation.event_jobs.on_assigned" in jobs  # webhooks, rules
    customer = [event for channel, event in desk.events if channel == ticket_channel(desk.shared)]
    assert [e.get("body") or e.get("name") for e in customer] == [
        "Bob Other joined the chat", "Bob Other"
    ]
    assert NOTE not in repr(customer)
    told = [(channel, event) for channel, event in desk.events if event["type"] == "transferred"]
    assert told == [(agent_channel("3"), {
        "type": "transferred", "ticket_id": desk.shared, "subject": "Where is my order?",
        "by": "Alice Agent", "note": NOTE, "team": None,
    })]
    # Bob opening the ticket does not say again that he joined; the note is on the page
    desk.client.post("/logout")
    desk.client.post("/login", data={"email": "bob@shop.test", "password": "secret-pass"})
    page = desk.client.get(f"/chat/inbox/tickets/{desk.shared}",
                           headers={"Sec-Fetch-Site": "same-origin"}).get_data(as_text=True)
    assert NOTE in page and "Internal note" in page
    with app.app_context():
        assert len(desk.conversation()) == 3


def test_transfer_to_a_team_unassigns_and_tells_its_agents(app, desk):
    desk.transfer(target="agent:3")
    desk.events.clear()
    response = desk.transfer(target=f"team:{desk.team_id}", note="Returns, please")
    assert response.status_code == 200
    with app.app_context():
        ticket = desk.ticket()
        assert (ticket.assignee_id, ticket.team_id) == (None, desk.team_id)
        assert desk.conversation()[-2:] == [
            ("system", "Alice Agent transferred the ticket to the team Returns", True),
            ("agent", "Returns, please", True),
        ]
    told = [channel for channel, event in desk.events if event["type"] == "transferred"]
    assert told == [agent_channel("3")]  # Alice made it: she is not told


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"target": "agent:99"}, "target", "Choose an agent from the list."),
        ({"target": "agent:4"}, "target", "Choose an agent from the list."),  # a customer
        ({"target": "agent:2"}, "target", "The ticket is already Alice Agent's."),
        ({"target": "team:999"}, "target", "Choose a team from the list."),
        ({"target": ""}, "target", "Choose an agent or a team"),
        ({"target": "nobody:1"}, "target", "Choose an agent or a team"),
        ({}, "target", "Choose an agent or a team"),
        ({"target": "agent:3", "note": "x" * 1001}, "note", "at most 1000 characters"),
        ({"target": "agent:3", "note": "\u202eevil"}, "note", "text-direction"),
    ],
)
def test_bad_transfers_are_refused_and_nothing_is_written(app, desk, data, field, message):
    with app.app_context():
        desk.ticket().assignee_id = "2"
        desk.state.db.session.commit()
        before = desk.conversation()
    response = desk.transfer(**data)
    assert response.status_code == 422
    assert message in " ".join(response.json["errors"][field])
    page = desk.transfer(as_json=False, form="transfer", **data)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert f'id="rc-transfer-{field}-error"' in html  # next to its field, the form open
    assert '<details class="rc-transfer" id="rc-transfer" open>' in html
    with app.app_context():
        assert desk.ticket().assignee_id == "2"
        assert desk.conversation() == before
    assert not [e for _c, e in desk.events if e["type"] in ("transferred", "message")]


def test_an_agent_without_access_to_the_chat_is_neither_offered_nor_accepted(app, desk):
    page = desk.client.get(f"/chat/inbox/tickets/{desk.alone}").get_data(as_text=True)
    options = page.split('id="rc-transfer-target"', 1)[1].split("</select>", 1)[0]
    assert "Ada Admin" in options and "Bob Other" not in options
    assert "Alice Agent" not in options  # not to herself
    response = desk.transfer(desk.alone, target="agent:3")
    assert response.status_code == 422
    assert response.json["errors"]["target"] == [
        "Bob Other has no access to this chat: choose one of its agents."
    ]
    assert desk.api(desk.alone, agent_id="3").status_code == 422
    assert desk.api(desk.alone, agent_id="1").status_code == 200
    with app.app_context():
        assert desk.ticket(desk.alone).assignee_id == "1"



def test_an_assignee_must_be_able_to_open_the_ticket(app, desk):
    """The side panel offers, and the inbox and the API accept, only agents of the ticket's
    chat: assigned to anyone else, a ticket would belong to someone who never sees it."""
    page = desk.client.get(f"/chat/inbox/tickets/{desk.alone}").get_data(as_text=True)
    options = page.split('id="rc-assignee"', 1)[1].split("</select>", 1)[0]
    assert "Ada Admin" in options and "Alice Agent" in options
    assert "Bob Other" not in options
    url = f"/chat/inbox/tickets/{desk.alone}/assignee"
    refused = desk.client.post(url, json={"assignee": "3"},
                               headers={"X-CSRFToken": desk.csrf, **JSON})
    assert refused.status_code == 422
    assert refused.json["errors"]["assignee"] == [
        "Bob Other has no access to this chat: choose one of its agents."
    ]
    api = desk.client.patch(f"/chat/api/tickets/{desk.alone}",
                            json={"priority": "urgent", "assignee_id": "3"},
                            headers={"Authorization": f"Bearer {desk.tokens['2']}"})
    assert api.status_code == 422 and "assignee_id" in api.json["errors"]
    with app.app_context():
        ticket = desk.ticket(desk.alone)
        assert (ticket.assignee_id, ticket.priority) == ("2", "normal")  # nothing half-done
    assert desk.client.post(url, json={"assignee": "1"},
                            headers={"X-CSRFToken": desk.csrf, **JSON}).status_code == 200
    with app.app_context():
        assert desk.ticket(desk.alone).assignee_id == "1"

def test_rights(app, desk, client, auth):
    assert client.post(f"/chat/inbox/tickets/{desk.shared}/transfer",
                       data={"target": "agent:3"}).status_code == 400  # no CSRF token
    auth.logout()
    assert client.post(f"/chat/inbox/tickets/{desk.shared}/transfer",
                       data={"target": "agent:3", "csrf_token": auth.csrf_token()}
                       ).status_code == 302  # to the login
    for email, status in (("carl@shop.test", 403), ("bob@shop.test", 404)):
        auth.login(email)
        response = client.post(
            f"/chat/inbox/tickets/{desk.alone}/transfer", json={"target": "agent:1"},
            headers={"X-CSRFToken": auth.csrf_token(), **JSON},
        )
        assert response.status_code == status
        auth.logout()
    assert desk.api(desk.alone, user="3", agent_id="1").status_code == 404
    with app.app_context():
        visitor = issue_token(desk.ticket(desk.alone))
    refused = client.post(f"/chat/api/tickets/{desk.alone}/transfer", json={"agent_id": "1"},
                          headers={"Authorization": f"Bearer {visitor}"})
    assert refused.status_code == 401
    with app.app_context():
        assert desk.ticket(desk.alone).assignee_id is None


def test_api_transfer(app, desk):
    response = desk.api(desk.shared, agent_id="3", note=NOTE)
    assert response.status_code == 200 and response.json["assignee_id"] == "3"
    assert desk.api(desk.shared, agent_id="3", team_id=desk.team_id).status_code == 422
    assert desk.api(desk.shared).json["errors"] == {
        "target": ["Choose an agent or a team (one of them)."]
    }
    assert desk.api(desk.shared, agent_id="1", note="x" * 1001).status_code == 422
    assert desk.api(desk.shared, team_id=desk.team_id).json["team_id"] == desk.team_id


def test_the_customer_never_gets_the_note_over_the_socket_or_http(app, server, client):  # noqa: F811
    customer = visitor_socket(server)
    customer.next("message")
    bob = agent_socket(app, server, "bob@shop.test")
    with app.app_context():
        state = app.extensions["responso_chat"]
        chat_id = state.db.session.get(Ticket, server.ticket_id).chat_id
        state.db.session.add(ChatAgent(chat_id=chat_id, user_id="3"))  # Bob joins the chat
        state.db.session.commit()
    client.post("/login", data={"email": "alice@shop.test", "password": "secret-pass"})
    csrf = client.get("/csrf-token").get_data(as_text=True)
    response = client.post(f"/chat/inbox/tickets/{server.ticket_id}/transfer",
                           json={"target": "agent:3", "note": NOTE},
                           headers={"X-CSRFToken": csrf, **JSON})
    assert response.status_code == 200
    told = bob.next("transferred")
    assert (told["by"], told["note"], told["ticket_id"]) == ("Alice Agent", NOTE,
                                                            server.ticket_id)
    events = customer.collect(2, "message", "agent_joined")
    assert [e.get("body") or e.get("name") for e in events] == [
        "Bob Other joined the chat", "Bob Other"
    ]
    customer.nothing("message")
    resumed = client.get("/chat/widget/tickets/messages?after=0",
                         headers={"Authorization": f"Bearer {server.token}",
                                  "Origin": "https://shop.example"}).json
    bodies = [m["body"] for m in resumed["messages"]]
    assert bodies[-1] == "Bob Other joined the chat"
    assert NOTE not in repr(resumed) and "transferred" not in repr(resumed)
