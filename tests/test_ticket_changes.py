"""Side-panel changes and quick actions: each is recorded as a system line with who did it,
published to the agents and the inbox, and refused with 400/422 on bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from responso_chat.conversation import messages, ticket_changes
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.infra.broker import INBOX_CHANNEL, agent_ticket_channel, ticket_channel
from responso_chat.models import Contact, Tag, Team, Ticket, ticket_details
from responso_chat.users import Agent
from tests.factories import make_chat, make_ticket

ALICE = Agent("2", "Alice Agent", "alice@shop.test")


class Desk:
    """Alice logged in, looking at one ticket; records what the broker publishes."""

    def __init__(self, app, client, auth):
        self.app, self.client = app, client
        self.state = app.extensions["responso_chat"]
        with app.app_context():
            chat = make_chat(agent_ids=("2", "3"))
            ticket = make_ticket(chat, email="Zoe@Example.com")
            team = Team(name="Returns")
            self.state.db.session.add(team)
            self.state.db.session.commit()
            self.ticket_id, self.team_id, self.chat_id = ticket.id, team.id, chat.id
        auth.login("alice@shop.test")
        self.token = auth.csrf_token()
        self.events = []
        for channel in (
            ticket_channel(self.ticket_id), agent_ticket_channel(self.ticket_id), INBOX_CHANNEL
        ):
            self.state.broker.subscribe(
                channel, lambda event, channel=channel: self.events.append((channel, event))
            )

    def post(self, action: str, **data):
        """POST JSON to the ticket's ``action``, as the page's fetch does."""
        return self.client.post(
            f"/chat/inbox/tickets/{self.ticket_id}/{action}",
            json=data,
            headers={"X-CSRFToken": self.token, "Accept": "application/json"},
        )

    def form(self, action: str, **data):
        """POST an HTML form to the ticket's ``action``."""
        return self.client.post(
            f"/chat/inbox/tickets/{self.ticket_id}/{action}",
            data={"csrf_token": self.token, **data},
        )

    def ticket(self):
        self.state.db.session.expire_all()
        return self.state.db.session.get(Ticket, self.ticket_id, options=ticket_details())

    def lines(self) -> list[tuple[str, bool]]:
        """(text, internal) of the ticket's system lines."""
        rows = messages.messages_after(self.ticket_id, 0, include_internal=True)
        return [(m.body, m.internal) for m in rows if m.author_kind == "system"]


@pytest.fixture
def desk(app, client, auth):
    return Desk(app, client, auth)


@pytest.mark.parametrize(
    ("action", "data", "field", "value", "line"),
    [
        ("status", {"status": "pending"}, "status", "pending", "Alice Agent set status to pending"),
        ("priority", {"priority": "high"}, "priority", "high", "Alice Agent set priority to high"),
        ("assignee", {"assignee": "3"}, "assignee_id", "3",
         "Alice Agent assigned the ticket to Bob Other"),
        ("close", {}, "status", "closed", "Alice Agent set status to closed"),
        ("autoresponder", {}, "disable_next_autoresponder", True,
         "Alice Agent disabled the next auto-responder"),
    ],
)
def test_each_change_is_recorded_with_who_and_published(desk, action, data, field, value, line):
    response = desk.post(action, **data)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ok"] is True
    with desk.app.app_context():
        assert getattr(desk.ticket(), field) == value
        assert (line, True) in desk.lines()
    inbox_events = [e for c, e in desk.events if c == INBOX_CHANNEL]
    assert {"type": "inbox", "ticket_id": desk.ticket_id, "chat_id": desk.chat_id,
            "event": "changed"} in inbox_events
    pushed = [e["body"] for c, e in desk.events if c == agent_ticket_channel(desk.ticket_id)]
    assert line in pushed
    customer_saw = [e for c, e in desk.events if c == ticket_channel(desk.ticket_id)]
    assert all(e.get("body") != line for e in customer_saw)  # change records stay internal
    statuses = [e for e in customer_saw if e["type"] == "status"]
    if field == "status":
        assert statuses == [{"type": "status", "ticket_id": desk.ticket_id, "status": value}]
    else:
        assert statuses == []


def test_team_tags_and_watchers(desk):
    assert desk.post("team", team=desk.team_id).status_code == 200
    assert desk.post("team", team="").status_code == 200
    assert desk.post("tags", tag="  VIP   Customer ").status_code == 200
    assert desk.post("tags", tag="vip customer").get_json()["ticket"]["tags"] == ["vip customer"]
    assert desk.post("tags", tag="refund").status_code == 200
    assert desk.post("tags/remove", tag="Refund").status_code == 200
    assert desk.post("watchers", user_id="3").get_json()["ticket"]["watcher_ids"] == ["3"]
    assert desk.post("watchers/remove", user_id="3").get_json()["ticket"]["watcher_ids"] == []
    with desk.app.app_context():
        ticket = desk.ticket()
        assert [t.name for t in ticket.tags] == ["vip customer"] and ticket.team_id is None
        names = desk.state.db.session.execute(sa.select(Tag.name).order_by(Tag.name)).scalars()
        assert list(names) == ["refund", "vip customer"]  # created on the fly, kept
        assert [text for text, internal in desk.lines() if internal] == [
            "Alice Agent set team to Returns",
            "Alice Agent removed the team",
            "Alice Agent added tag vip customer",
            "Alice Agent added tag refund",
            "Alice Agent removed tag refund",
            "Alice Agent added Bob Other as a watcher",
            "Alice Agent removed Bob Other from the watchers",
        ]


def test_unassign_and_repeat_changes_record_once(desk):
    desk.post("assignee", assignee="2")
    desk.post("assignee", assignee="2")
    desk.post("assignee", assignee="")
    desk.post("priority", priority="normal")  # already normal: nothing to record
    with desk.app.app_context():
        assert desk.ticket().assignee_id is None
        assert [t for t, _ in desk.lines()] == [
            "Alice Agent assigned the ticket to Alice Agent",
            "Alice Agent unassigned the ticket",
        ]


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("status", {"status": "archived"}, "status"),
        ("status", {}, "status"),
        ("priority", {"priority": "critical"}, "priority"),
        ("assignee", {"assignee": "99"}, "assignee"),
        ("assignee", {"assignee": "4"}, "assignee"),  # a customer, not an agent
        ("team", {"team": 999}, "team"),
        ("team", {"team": "returns"}, "team"),
        ("tags", {"tag": "x" * 51}, "tag"),
        ("tags", {"tag": "   "}, "tag"),
        ("watchers", {"user_id": "99"}, "watcher"),
        ("watchers", {}, "user_id"),
        ("new-ticket", {"subject": "", "body": "Hello"}, "subject"),
        ("new-ticket", {"subject": "Hi", "body": " "}, "body"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(desk, action, data, field):
    response = desk.post(action, **data)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    with desk.app.app_context():
        ticket = desk.ticket()
        assert (ticket.status, ticket.priority, ticket.assignee_id, ticket.team_id) == (
            "open", "normal", None, None
        )
        assert ticket.tags == [] and ticket.watcher_ids == [] and desk.lines() == []
        assert desk.state.db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar() == 1
    assert desk.events == []


def test_not_json_object_is_a_bad_request(desk):
    response = desk.client.post(
        f"/chat/inbox/tickets/{desk.ticket_id}/status",
        data="[1, 2]",
        content_type="application/json",
        headers={"X-CSRFToken": desk.token},
    )
    assert response.status_code == 400
    assert "_request" in response.get_json()["errors"]


def test_missing_csrf_token_is_refused(desk):
    response = desk.client.post(
        f"/chat/inbox/tickets/{desk.ticket_id}/priority", data={"priority": "high"}
    )
    assert response.status_code == 400
    with desk.app.app_context():
        assert desk.ticket().priority == "normal"


def test_html_forms_redirect_and_show_errors_next_to_the_field(desk):
    response = desk.form("priority", priority="urgent")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/chat/inbox/tickets/{desk.ticket_id}")
    refused = desk.form("tags", tag="y" * 60)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="rc-tag-error"' in html and "at most 50 characters" in html
    assert 'value="' + "y" * 60 + '"' in html  # the form keeps what was typed
    refused = desk.form("new-ticket", form="new_ticket", subject="", body="Keep me")
    html = refused.get_data(as_text=True)
    assert 'id="rc-new-subject-error"' in html and ">Keep me</textarea>" in html
    with desk.app.app_context():
        assert desk.ticket().priority == "urgent"


def test_a_failing_system_line_leaves_the_change_unwritten(desk, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(messages, "add_system_line", broken)
    with desk.app.app_context():
        ticket = desk.ticket()
        with pytest.raises(RuntimeError):
            ticket_changes.set_priority(ticket, "urgent", ALICE)
        assert desk.ticket().priority == "normal"
    assert desk.events == []


def test_add_sender_to_contacts_creates_then_updates(desk):
    first = desk.post("contact")
    assert first.get_json()["created"] is True
    with desk.app.app_context():
        contact = desk.state.db.session.execute(sa.select(Contact)).scalar_one()
        assert (contact.name, contact.email) == ("Zoe Customer", "zoe@example.com")
        contact.name, contact.notes = "", "Prefers phone"
        desk.state.db.session.commit()
    second = desk.post("contact")
    assert second.get_json()["created"] is False
    assert second.get_json()["contact_id"] == first.get_json()["contact_id"]
    with desk.app.app_context():
        contact = desk.state.db.session.execute(sa.select(Contact)).scalar_one()
        assert (contact.name, contact.notes) == ("Zoe Customer", "Prefers phone")
        assert [t for t, _ in desk.lines()] == [
            "Alice Agent added Zoe Customer <zoe@example.com> in the contacts",
            "Alice Agent updated Zoe Customer <zoe@example.com> in the contacts",
        ]
    page = desk.client.get(f"/chat/inbox/tickets/{desk.ticket_id}").get_data(as_text=True)
    assert "In contacts" in page


def test_disable_next_autoresponder_only_once(desk):
    desk.post("autoresponder")
    again = desk.post("autoresponder")
    assert again.get_json()["ticket"]["disable_next_autoresponder"] is True
    with desk.app.app_context():
        assert desk.lines() == [("Alice Agent disabled the next auto-responder", True)]
    page = desk.client.get(f"/chat/inbox/tickets/{desk.ticket_id}").get_data(as_text=True)
    assert "The next auto-responder is disabled." in page


def test_new_ticket_to_this_customer(desk):
    response = desk.post("new-ticket", subject="Your return label", body="Here it is.")
    assert response.status_code == 200
    new_id = response.get_json()["new_ticket_id"]
    assert response.get_json()["redirect"].endswith(f"/chat/inbox/tickets/{new_id}")
    with desk.app.app_context():
        new = desk.state.db.session.get(Ticket, new_id, options=ticket_details())
        assert (new.chat_id, new.customer_email, new.assignee_id, new.subject) == (
            desk.chat_id, "Zoe@Example.com", "2", "Your return label"
        )
        first = messages.messages_after(new_id, 0)
        assert [(m.author_kind, m.author_name, m.body) for m in first] == [
            ("agent", "Alice Agent", "Here it is.")
        ]
        assert (f"Alice Agent created ticket #{new_id} for this customer", True) in desk.lines()
    created = [e for c, e in desk.events if c == INBOX_CHANNEL and e["event"] == "created"]
    assert [e["ticket_id"] for e in created] == [new_id]
    form = desk.form("new-ticket", form="new_ticket", subject="Another", body="Hi again")
    assert form.status_code == 303 and "/chat/inbox/tickets/" in form.headers["Location"]


def test_take_over_of_a_ticket_assigned_to_someone_else(desk):
    with desk.app.app_context():
        ticket_changes.assign(desk.ticket(), "3", ALICE)
    desk.events.clear()
    assert desk.post("take-over").status_code == 200
    with desk.app.app_context():
        assert desk.ticket().assignee_id == "2"
        texts = [t for t, _ in desk.lines()]
        assert "Alice Agent took over the ticket from Bob Other" in texts
        assert "Alice Agent joined the chat" in texts
    assert any(e["type"] == "agent_joined" for c, e in desk.events)


def test_services_refuse_without_the_blueprint(app):
    with app.app_context():
        ticket = make_ticket(make_chat())
        for call in (
            lambda: ticket_changes.set_status(ticket, "gone", ALICE),
            lambda: ticket_changes.set_priority(ticket, "meh", ALICE),
            lambda: ticket_changes.add_tag(ticket, "", ALICE),
            lambda: ticket_changes.set_team(ticket, 12345, ALICE),
        ):
            with pytest.raises(ChangeRefused):
                call()
        assert ticket_changes.normalize_tag("  Big\tSpender ") == "big spender"
