"""Conversation services: customer and agent messages, system lines, agents joining, seen."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from responso_chat.conversation import messages, tickets, wire
from responso_chat.inbox import queries as inbox
from responso_chat.infra.broker import INBOX_CHANNEL, agent_ticket_channel, ticket_channel
from tests.factories import make_chat, make_ticket


class Recorder:
    """Listens on broker channels and keeps (channel, event) pairs."""

    def __init__(self, broker, *channels):
        self.events = []
        for channel in channels:
            broker.subscribe(channel, lambda event, channel=channel: self.events.append(
                (channel, event)
            ))

    def of_type(self, kind):
        return [(channel, event) for channel, event in self.events if event["type"] == kind]


@pytest.fixture
def conversation(app):
    """A chat, a ticket in it and a recorder on the ticket's channels and the inbox."""
    with app.app_context():
        state = app.extensions["responso_chat"]
        chat = make_chat()
        ticket = make_ticket(chat)
        recorder = Recorder(
            state.broker, ticket_channel(ticket.id), agent_ticket_channel(ticket.id), INBOX_CHANNEL
        )
        yield state, chat, ticket, recorder


def test_channels_are_named_per_ticket():
    assert ticket_channel(7) == "ticket:7"
    assert agent_ticket_channel(7) == "ticket:7:agents"


def test_opening_a_ticket_announces_it_to_the_inbox(app):
    with app.app_context():
        state = app.extensions["responso_chat"]
        chat = make_chat()
        inbox = Recorder(state.broker, INBOX_CHANNEL)
        ticket = make_ticket(chat, message="My parcel arrived broken, this is terrible")
        assert inbox.events == [
            (
                INBOX_CHANNEL,
                {"type": "inbox", "ticket_id": ticket.id, "chat_id": chat.id, "event": "created"},
            )
        ]
        assert ticket.sentiment == "negative"
        assert messages.messages_after(ticket.id)[0].sentiment == "negative"


def test_customer_messages_are_idempotent_by_client_id(conversation):
    state, chat, ticket, recorder = conversation
    first, created = messages.post_customer_message(ticket, "Any news?", client_msg_id="c-1")
    again, created_again = messages.post_customer_message(ticket, "Any news?", "c-1")
    assert created and not created_again and again.id == first.id and first.seq == 2
    sent = recorder.of_type("message")
    assert [(c, e["seq"], e["body"]) for c, e in sent] == [(ticket_channel(ticket.id), 2,
                                                            "Any news?")]
    assert recorder.of_type("inbox")[0][1]["event"] == "activity"
    assert ticket.last_sender == "customer"


def test_a_posted_message_is_sent_back_without_reading_it_again(conversation):
    state, chat, ticket, _recorder = conversation
    message, _created = messages.post_customer_message(ticket, "Where is it?", "c-3")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(state.db.engine, "before_cursor_execute", record)
    try:
        event = wire.message(message)
    finally:
        sa.event.remove(state.db.engine, "before_cursor_execute", record)
    assert statements == []
    state.db.session.expire_all()
    assert wire.message(message) == event  # what was kept is what was stored


def test_messages_are_committed_before_they_are_published(conversation):
    state, chat, ticket, _recorder = conversation
    seen_in_database = []

    def check(event):
        if event["type"] != "message":
            return
        with state.db.engine.connect() as other:  # another connection sees committed rows only
            seen_in_database.append(
                other.execute(
                    sa.text("SELECT body FROM responso_chat_message WHERE ticket_id = :t AND "
                            "seq = :s"),
                    {"t": ticket.id, "s": event["seq"]},
                ).scalar()
            )

    state.broker.subscribe(ticket_channel(ticket.id), check)
    messages.post_customer_message(ticket, "Committed?", client_msg_id="c-2")
    messages.post_agent_message(ticket, "2", "Alice Agent", "Yes")
    assert seen_in_database == ["Committed?", "Yes"]


def test_customer_cannot_write_into_a_spam_ticket_and_pending_reopens(conversation):
    state, chat, ticket, _recorder = conversation
    ticket.status = "pending"
    state.db.session.commit()
    messages.post_customer_message(ticket, "Still there?")
    assert ticket.status == "open"
    ticket.status = "spam"
    state.db.session.commit()
    with pytest.raises(messages.ConversationEnded):
        messages.post_customer_message(ticket, "Hello again")
    assert [m.body for m in messages.messages_after(ticket.id, 1)] == ["Still there?"]


def test_agent_replies_are_public_and_notes_go_to_agents_only(conversation):
    state, chat, ticket, recorder = conversation
    reply = messages.post_agent_message(ticket, 2, "Alice Agent", "On its way", "a-1")
    again = messages.post_agent_message(ticket, 2, "Alice Agent", "On its way", "a-1")
    assert again.id == reply.id
    note = messages.post_agent_message(ticket, "2", "Alice Agent", "Check Base", internal=True)
    assert reply.author_id == "2" and note.internal
    channels = [(c, e["body"]) for c, e in recorder.of_type("message")]
    assert channels == [
        (ticket_channel(ticket.id), "On its way"),
        (agent_ticket_channel(ticket.id), "Check Base"),
    ]
    assert [e["event"] for _c, e in recorder.of_type("inbox")] == ["activity"]
    assert ticket.last_sender == "agent"
    customer_view = [m.body for m in messages.messages_after(ticket.id)]
    assert customer_view == ["Hello, my parcel has not arrived.", "On its way"]


def test_system_lines_are_added_without_commit(conversation):
    state, chat, ticket, recorder = conversation
    line = messages.add_system_line(ticket, "Alice set priority to high", author_id=2)
    assert line.author_kind == "system" and line.internal and line.author_id == "2"
    state.db.session.rollback()
    assert messages.messages_after(ticket.id, include_internal=True)[-1].seq == 1
    line = messages.add_system_line(ticket, "Priority high")
    state.db.session.commit()
    messages.publish_messages([line])
    assert recorder.of_type("message") == [
        (agent_ticket_channel(ticket.id), wire.message(line))
    ]


def test_an_agent_joining_takes_the_ticket_once(conversation):
    state, chat, ticket, recorder = conversation
    assert tickets.join_by_agent(ticket, "2", "Alice Agent")
    assert ticket.assignee_id == "2"
    assert tickets.join_by_agent(ticket, 2, "Alice Agent")  # opening it again: nothing new
    assert not tickets.join_by_agent(ticket, "3", "Bob Other")
    assert ticket.assignee_id == "2"
    lines = [m for m in messages.messages_after(ticket.id) if m.author_kind == "system"]
    assert [(m.body, m.internal) for m in lines] == [("Alice Agent joined the chat", False)]
    assert recorder.of_type("agent_joined") == [
        (ticket_channel(ticket.id),
         {"type": "agent_joined", "ticket_id": ticket.id, "name": "Alice Agent"})
    ]
    assert "changed" in [e["event"] for _c, e in recorder.of_type("inbox")]
    assert tickets.visitor_summary(ticket)["agent_name"] == "Alice Agent"


def test_joined_line_is_in_the_customers_language(app):
    with app.app_context():
        ticket = make_ticket(make_chat(), language="fr")
        tickets.join_by_agent(ticket, "2", "Alice")
        assert messages.messages_after(ticket.id)[-1].body == "Alice a rejoint la conversation"


def test_take_over_records_who_had_the_ticket(conversation):
    state, chat, ticket, recorder = conversation
    tickets.join_by_agent(ticket, "2", "Alice Agent")
    tickets.take_over(ticket, "3", "Bob Other", previous_name="Alice Agent")
    assert ticket.assignee_id == "3"
    internal = messages.messages_after(ticket.id, include_internal=True)[-2]
    assert internal.internal and internal.body == "Bob Other took over the ticket from Alice Agent"
    assert [e["name"] for _c, e in recorder.of_type("agent_joined")] == ["Alice Agent", "Bob Other"]


def test_an_agent_joining_is_not_the_tickets_last_message(conversation):
    state, chat, ticket, recorder = conversation
    asked_at = ticket.last_message_at
    tickets.join_by_agent(ticket, "2", "Alice Agent")
    state.db.session.refresh(ticket)
    assert (ticket.last_sender, ticket.last_message_at) == ("customer", asked_at)
    (line,) = [e for c, e in recorder.of_type("message") if c == ticket_channel(ticket.id)]
    assert line["body"] == "Alice Agent joined the chat"  # the customer is told
    assert [e["event"] for _c, e in recorder.of_type("inbox")] == ["changed"]  # not "activity"
    assert inbox.last_public_message(ticket).author_kind == "customer"  # the side panel's
    messages.post_agent_message(ticket, "2", "Alice Agent", "Let me check")
    answered_at = ticket.last_message_at
    tickets.take_over(ticket, "3", "Bob Other", previous_name="Alice Agent")
    state.db.session.refresh(ticket)
    assert (ticket.last_sender, ticket.last_message_at) == ("agent", answered_at)
    assert inbox.last_public_message(ticket).body == "Let me check"
    assert messages.messages_after(ticket.id)[-1].body == "Bob Other joined the chat"


def test_seen_marks_the_other_sides_messages(conversation):
    state, chat, ticket, recorder = conversation
    messages.post_agent_message(ticket, "2", "Alice Agent", "Hi")
    assert messages.mark_seen(ticket, "agent", 1)
    assert not messages.mark_seen(ticket, "agent", 1)
    assert messages.mark_seen(ticket, "customer", 2)
    seen = [m.seen_at is not None for m in messages.messages_after(ticket.id)]
    assert seen == [True, True]
    assert [(e["by"], e["seq"]) for _c, e in recorder.of_type("seen")] == [
        ("agent", 1), ("customer", 2)
    ]


def test_page_and_typing_events(conversation):
    state, chat, ticket, recorder = conversation
    tickets.record_page(ticket, "https://shop.test/cart", "Cart")
    tickets.record_page(ticket, "https://shop.test/cart", "Cart")
    messages.publish_typing(ticket, "customer", "Zoe", True)
    assert ticket.page_url == "https://shop.test/cart"
    assert recorder.of_type("page") == [
        (agent_ticket_channel(ticket.id),
         {"type": "page", "ticket_id": ticket.id, "url": "https://shop.test/cart",
          "title": "Cart"})
    ]
    (channel, typing), = recorder.of_type("typing")
    assert channel == ticket_channel(ticket.id) and typing["typing"] is True
