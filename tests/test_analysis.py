"""A customer message's sentiment and context: shown to agents (never to the customer),
corrected by an agent with access, and the corrections used to score the classifier."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from responso_chat.cli import responso_chat_cli
from responso_chat.conversation import analysis, messages, visitor
from responso_chat.infra.broker import agent_ticket_channel, ticket_channel
from responso_chat.models import Message, Ticket
from responso_chat.users import Agent
from tests.conftest import csrf_from_page
from tests.factories import make_chat, make_ticket

ALICE = Agent("2", "Alice Agent", "alice@shop.test")


@pytest.fixture
def world(app):
    """Alice's chat with a ticket of two customer messages (seq 1 and 3) and a reply."""
    with app.app_context():
        chat = make_chat()
        ticket = make_ticket(chat, message="Hello, my parcel has not arrived.")
        messages.post_agent_message(ticket, "2", "Alice Agent", "Checking")
        messages.post_customer_message(ticket, "Thanks, that is great")
        return SimpleNamespace(ticket=ticket.id, token=visitor.issue_token(ticket))


def message_row(app, ticket_id, seq):
    with app.app_context():
        state = app.extensions["responso_chat"]
        message = state.db.session.query(Message).filter_by(ticket_id=ticket_id, seq=seq).one()
        ticket = state.db.session.get(Ticket, ticket_id)
        return SimpleNamespace(sentiment=message.sentiment, context=message.context,
                               by=message.analysis_corrected_by,
                               at=message.analysis_corrected_at,
                               ticket=(ticket.sentiment, ticket.context))


def correct_url(ticket_id, seq):
    return f"/chat/inbox/tickets/{ticket_id}/messages/{seq}/analysis"


def test_a_new_customer_message_tells_only_the_agents_its_analysis(app, world):
    with app.app_context():
        state = app.extensions["responso_chat"]
        agents, customer = [], []
        state.broker.subscribe(agent_ticket_channel(world.ticket), agents.append)
        state.broker.subscribe(ticket_channel(world.ticket), customer.append)
        ticket = state.db.session.get(Ticket, world.ticket)
        messages.post_customer_message(ticket, "This is terrible, still nothing")
    (event,) = [e for e in agents if e["type"] == "analysis"]
    assert event == {"type": "analysis", "ticket_id": world.ticket, "seq": 4,
                     "sentiment": "negative", "context": event["context"], "corrected": False}
    assert not any(e["type"] == "analysis" or "sentiment" in e for e in customer)


def test_correcting_the_latest_message_corrects_the_ticket_too(app, world):
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, world.ticket)
        analysis.correct(ticket, 3, "negative", "complaint", ALICE)
    row = message_row(app, world.ticket, 3)
    assert (row.sentiment, row.context, row.by) == ("negative", "complaint", "2")
    assert row.at is not None and row.ticket == ("negative", "complaint")
    with app.app_context():
        ticket = app.extensions["responso_chat"].db.session.get(Ticket, world.ticket)
        analysis.correct(ticket, 1, "neutral", "shipping", ALICE)
    assert message_row(app, world.ticket, 1).context == "shipping"
    assert message_row(app, world.ticket, 1).ticket == ("negative", "complaint")  # not latest


def test_only_customer_messages_and_known_values_can_be_corrected(app, world):
    with app.app_context():
        ticket = app.extensions["responso_chat"].db.session.get(Ticket, world.ticket)
        for seq, sentiment, context, field in ((2, "neutral", "other", "seq"),
                                               (99, "neutral", "other", "seq"),
                                               (1, "angry", "other", "sentiment"),
                                               (1, "neutral", "weather", "context")):
            with pytest.raises(analysis.ChangeRefused) as refused:
                analysis.correct(ticket, seq, sentiment, context, ALICE)
            assert field in refused.value.errors
    assert message_row(app, world.ticket, 1).by is None


def test_the_ticket_page_shows_and_corrects_the_analysis(client, auth, app, world):
    auth.login("alice@shop.test")
    page = client.get(f"/chat/inbox/tickets/{world.ticket}").get_data(as_text=True)
    assert "Save correction" in page and "Customer mood" in page
    response = client.post(correct_url(world.ticket, 1),
                           json={"sentiment": "negative", "context": "shipping"},
                           headers={"X-CSRFToken": csrf_from_page(page)})
    assert response.status_code == 200
    assert response.json["analysis"] == {"type": "analysis", "ticket_id": world.ticket,
                                         "seq": 1, "sentiment": "negative",
                                         "context": "shipping", "corrected": True}
    form = client.post(correct_url(world.ticket, 3),
                       data={"sentiment": "positive", "context": "other",
                             "csrf_token": csrf_from_page(page)})
    assert form.status_code == 303 and form.headers["Location"].endswith("#rc-msg-3")
    page = client.get(f"/chat/inbox/tickets/{world.ticket}").get_data(as_text=True)
    assert page.count("data-rc-corrected>corrected<") == 2  # the template keeps it hidden


def test_bad_corrections_are_refused_with_the_field(client, auth, app, world):
    auth.login("alice@shop.test")
    token = auth.csrf_token()
    for body, field in (({"sentiment": "furious", "context": "other"}, "sentiment"),
                        ({"sentiment": "neutral"}, "context"),
                        ({"sentiment": ["x"], "context": "other"}, "sentiment")):
        response = client.post(correct_url(world.ticket, 1), json=body,
                               headers={"X-CSRFToken": token})
        assert response.status_code == 422 and field in response.json["errors"], body
    response = client.post(correct_url(world.ticket, 2),  # the agent's reply
                           json={"sentiment": "neutral", "context": "other"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422 and "seq" in response.json["errors"]
    assert message_row(app, world.ticket, 1).by is None


def test_corrections_need_an_agent_with_access_and_the_csrf_token(client, auth, app, world):
    body = {"sentiment": "negative", "context": "complaint"}
    response = client.post(correct_url(world.ticket, 1), json=body,
                           headers={"X-CSRFToken": auth.csrf_token()})
    assert response.status_code in (302, 401)
    for email, status in (("carl@shop.test", 403), ("bob@shop.test", 404)):
        auth.login(email)
        response = client.post(correct_url(world.ticket, 1), json=body,
                               headers={"X-CSRFToken": auth.csrf_token()})
        assert response.status_code == status, email
        auth.logout()
    auth.login("alice@shop.test")
    assert client.post(correct_url(world.ticket, 1), json=body).status_code == 400
    response = client.post(correct_url(world.ticket, 1), json=body,
                           headers={"Authorization": f"Bearer {world.token}"})
    assert response.status_code == 400  # a visitor token is no CSRF token either
    assert message_row(app, world.ticket, 1).by is None


def test_the_widget_never_sees_the_analysis(client, app, world):
    response = client.get("/chat/widget/tickets/messages?after=0",
                          headers={"Authorization": f"Bearer {world.token}"})
    assert response.status_code == 200
    assert all("sentiment" not in m and "context" not in m for m in response.json["messages"])
    assert "sentiment" not in response.json["ticket"]


def test_the_classifier_is_scored_on_the_corrections(app, world, runner):
    result = runner.invoke(responso_chat_cli, ["classifier", "evaluate"])
    assert result.exit_code == 0 and "No corrected messages yet" in result.output
    with app.app_context():
        ticket = app.extensions["responso_chat"].db.session.get(Ticket, world.ticket)
        analysis.correct(ticket, 1, "negative", "shipping", ALICE)
        analysis.correct(ticket, 3, "positive", "payment", ALICE)
        rows = analysis.corrections()
        assert [row[1:] for row in rows] == [
            ("Thanks, that is great", "positive", "payment"),
            ("Hello, my parcel has not arrived.", "negative", "shipping"),
        ]
        score = analysis.evaluate(app.extensions["responso_chat"].classifier, rows)
    assert score["messages"] == 2 and 0 <= score["sentiment"] <= 1
    result = runner.invoke(responso_chat_cli, ["classifier", "evaluate"])
    assert result.exit_code == 0 and result.output.startswith("2 corrected messages:")
    exported = runner.invoke(responso_chat_cli, ["classifier", "evaluate", "--export"])
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert lines[0][1:] == ["Thanks, that is great", "positive", "payment"]
