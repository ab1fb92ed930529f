"""Automations: conditions, actions, the runner's guarantees, signals, dry run, admin pages,
and the whole pipeline on PostgreSQL with a real Redis and RQ worker."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template_string

from responso_chat import signals
from responso_chat.automations import dry_run, rules, runner
from responso_chat.automations import facts as rule_facts
from responso_chat.conversation import messages, ticket_changes, tickets
from responso_chat.demo.base_standin import create_standin_app, serve_standin
from responso_chat.infra import outbox
from responso_chat.infra.jobs import RQJobs
from responso_chat.models import (
    AutomationRule,
    AutomationRun,
    Chat,
    Message,
    Order,
    OrderStatus,
    OrderSync,
    OutboxEntry,
    Team,
    Ticket,
    ticket_details,
    utcnow,
)
from responso_chat.orders import sync as orders
from responso_chat.users import Agent
from tests.factories import WEEKDAYS, make_chat, make_ticket
from tests.rqworker import work_burst

RUNNER = runner.RUNNER
ALICE = Agent("2", "Alice Agent", "alice@shop.test")
TOKEN = "bl-automations-token-3e9f"
CLOSED = {day: [] for day in WEEKDAYS}
ANGRY = "This is UNACCEPTABLE, my parcel arrived broken!!"


def state_of(app):
    return app.extensions["responso_chat"]


def rule_values(name="Angry customers", conditions=(), actions=(), **fields) -> dict:
    """The rule form's values (what ``create_rule`` validates)."""
    values = {
        "name": name,
        "enabled": True,
        "trigger": "new_ticket",
        "trigger_minutes": None,
        "match": "all",
        "conditions": [
            {"field": field, "operator": operator, "value": value}
            for field, operator, value in conditions
        ],
        "actions": [{"type": kind, "value": value} for kind, value in actions],
    }
    values.update(fields)
    return values


def add_rule(*args, **kwargs):
    """Create a rule through the service (validated like the admin form); returns its id."""
    return rules.create_rule(rule_values(*args, **kwargs)).id


def lines_of(app, ticket_id, kind=None):
    """The bodies of a ticket's messages (of one author kind), in order."""
    state = state_of(app)
    with app.app_context():
        query = sa.select(Message).where(Message.ticket_id == ticket_id).order_by(Message.seq)
        if kind:
            query = query.where(Message.author_kind == kind)
        return [m.body for m in state.db.session.scalars(query)]


def runs_of(app, ticket_id):
    state = state_of(app)
    with app.app_context():
        query = sa.select(AutomationRun).where(AutomationRun.ticket_id == ticket_id)
        return list(state.db.session.scalars(query))


def get_ticket(app, ticket_id):
    state = state_of(app)
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        state.db.session.expunge(ticket)
        return ticket


def open_ticket(app, chat_name="Store chat", message=ANGRY, **fields):
    """A chat (made if new) and a ticket opened in it; waits for the automation jobs.

    The customer's e-mail counts as verified unless told otherwise: rules only ever see the
    orders of a verified address (tests/test_trust.py covers the unverified ones)."""
    fields.setdefault("email_verified", True)
    state = state_of(app)
    with app.app_context():
        chat = state.db.session.scalar(
            sa.select(Chat).where(Chat.name == chat_name)
        ) or make_chat(chat_name)
        ticket_id = make_ticket(chat, message=message, **fields).id
    state.jobs.join()
    return ticket_id


def customer_writes(app, ticket_id, body):
    state = state_of(app)
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        message, _created = messages.post_customer_message(ticket, body)
        message_id = message.id
    state.jobs.join()
    return message_id


def add_order(app, base_order_id, email="zoe@example.com", status_id=1, days_ago=1, shop_id=""):
    state = state_of(app)
    with app.app_context():
        state.db.session.add(
            Order(
                base_order_id=base_order_id,
                shop_order_id=shop_id,
                status_id=status_id,
                email=email,
                date_add=utcnow() - timedelta(days=days_ago),
                total=Decimal("10.00"),
            )
        )
        state.db.session.commit()


def add_statuses(app, *pairs):
    state = state_of(app)
    with app.app_context():
        for status_id, name in pairs:
            state.db.session.add(OrderStatus(id=status_id, name=name))
        state.db.session.commit()


# --- Conditions --------------------------------------------------------------------------


@pytest.fixture
def facts_of(app):
    """``facts_of(ticket_id) -> bool of a condition``: evaluates on the ticket's latest message."""

    def check(ticket_id, field, operator, value):
        state = state_of(app)
        with app.app_context():
            ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
            facts = rule_facts.Facts(ticket)
            return rule_facts.condition_met(
                {"field": field, "operator": operator, "value": value}, facts
            )

    return check


def test_each_condition_field_and_operator(app, facts_of):
    state = state_of(app)
    ticket_id = open_ticket(
        app,
        subject="Commande abîmée",
        message="Bonjour, le colis est arrivé cassé, je ne suis pas content du tout.",
        email="Zoe@Example.COM",
    )
    with app.app_context():
        chat_id = state.db.session.get(Ticket, ticket_id).chat_id
        other_chat = make_chat("Other chat").id
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket_changes.add_tag(ticket, "VIP", ALICE)
        ticket_changes.set_priority(ticket, "high", ALICE)
    add_statuses(app, (1, "New"), (2, "Shipped"))
    add_order(app, 501, email="zoe@example.com", status_id=1, days_ago=10)
    add_order(app, 502, email="zoe@example.com", status_id=2, days_ago=1)

    expectations = [
        ("chat", "is", str(chat_id), True),
        ("chat", "is", str(other_chat), False),
        ("chat", "is_not", str(other_chat), True),
        ("chat", "in", [str(other_chat), str(chat_id)], True),
        ("channel", "is", "chat", True),
        ("channel", "is_not", "chat", False),
        ("sentiment", "is", "negative", True),
        ("sentiment", "in", ["positive", "neutral"], False),
        ("context", "is", "complaint", True),
        ("context", "is_not", "complaint", False),
        ("subject", "contains", "ABIME", True),  # accents and capitals do not matter
        ("subject", "not_contains", "abîmée", False),
        ("subject", "is", "commande abimee", True),
        ("subject", "is_not", "commande", True),
        ("message", "contains", "arrive casse", True),
        ("message", "contains", "CASSÉ", True),
        ("message", "not_contains", "refund", True),
        ("customer_email", "is", "zoe@example.com", True),
        ("customer_email", "contains", "@EXAMPLE", True),
        ("customer_email", "in", ["a@b.c", "ZOE@example.com"], True),
        ("customer_email", "not_contains", "zoe", False),
        ("email_domain", "is", "@example.com", True),
        ("email_domain", "in", ["shop.test", "example.org"], False),
        ("has_order", "is", "yes", True),
        ("has_order", "is", "no", False),
        ("order_status", "is", "2", True),  # the latest order's
        ("order_status", "is_not", "1", True),
        ("order_status", "in", ["1"], False),
        ("open_hours", "is", "yes", True),
        ("tag", "is", "vip", True),
        ("tag", "is_not", "vip", False),
        ("tag", "contains", "v", True),
        ("tag", "not_contains", "gold", True),
        ("priority", "is", "high", True),
        ("priority", "in", ["low", "normal"], False),
        ("status", "is", "open", True),
        ("status", "is_not", "open", False),
        ("language", "is", "fr", True),  # read in the message: the ticket has no language
        ("language", "in", ["en", "pl"], False),
    ]
    results = [(f, op, v, facts_of(ticket_id, f, op, v)) for f, op, v, _ in expectations]
    assert results == [(f, op, v, expected) for f, op, v, expected in expectations]


def test_conditions_without_orders_or_hours(app, facts_of):
    state = state_of(app)
    with app.app_context():
        chat = make_chat("Closed chat", opening_hours=CLOSED)
        ticket_id = make_ticket(
            chat, email="nobody@example.org", language="pl", message="Zażółć gęślą jaźń"
        ).id
    state.jobs.join()
    assert facts_of(ticket_id, "message", "contains", "ZAZOLC gesla")
    assert facts_of(ticket_id, "has_order", "is", "no")
    assert not facts_of(ticket_id, "order_status", "is", "1")
    assert facts_of(ticket_id, "order_status", "is_not", "1")  # no order: "is not" holds
    assert facts_of(ticket_id, "open_hours", "is", "no")
    assert facts_of(ticket_id, "language", "is", "pl")  # the ticket's own language wins
    assert facts_of(ticket_id, "email_domain", "is", "EXAMPLE.org")


def test_match_all_any_and_no_conditions(app):
    ticket_id = open_ticket(app)
    state = state_of(app)
    negative = {"field": "sentiment", "operator": "is", "value": "negative"}
    low = {"field": "priority", "operator": "is", "value": "low"}

    class Rule:
        def __init__(self, match, conditions):
            self.match, self.conditions = match, conditions

    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        facts = rule_facts.Facts(ticket)
        assert not rule_facts.rule_matches(Rule("all", [negative, low]), facts)
        assert rule_facts.rule_matches(Rule("any", [negative, low]), facts)
        assert rule_facts.rule_matches(Rule("any", []), facts)


# --- Actions ----------------------------------------------------------------------------


def test_ticket_actions_are_recorded_as_the_rule(app):
    state = state_of(app)
    with app.app_context():
        team = Team(name="Complaints")
        state.db.session.add(team)
        state.db.session.commit()
        team_id = team.id
        chat_id = make_chat("Store chat").id
        add_rule(
            "Sort complaints",
            conditions=[("chat", "is", str(chat_id)), ("context", "is", "complaint")],
            actions=[
                ("set_priority", "urgent"),
                ("add_tag", "Broken"),
                ("add_tag", "gone"),
                ("remove_tag", "gone"),
                ("assign_agent", "2"),
                ("assign_team", str(team_id)),
                ("set_status", "pending"),
                ("internal_note", "Check {{ customer_name }}'s photos"),
            ],
        )
    ticket_id = open_ticket(app)
    ticket = get_ticket(app, ticket_id)
    assert (ticket.priority, ticket.assignee_id, ticket.team_id, ticket.status) == (
        "urgent",
        "2",
        team_id,
        "pending",
    )
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        assert [t.name for t in ticket.tags] == ["broken"]
    assert lines_of(app, ticket_id, "system") == [
        "Automation Sort complaints set priority to urgent",
        "Automation Sort complaints added tag broken",
        "Automation Sort complaints added tag gone",
        "Automation Sort complaints removed tag gone",
        "Automation Sort complaints assigned the ticket to Alice Agent",
        "Automation Sort complaints set team to Complaints",
        "Automation Sort complaints set status to pending",
    ]
    assert lines_of(app, ticket_id, "automation") == ["Check Zoe Customer's photos"]
    (run,) = runs_of(app, ticket_id)
    assert [item["result"] for item in run.outcome] == ["done"] * 8


def test_auto_reply_template_and_notify_watchers(app):
    state = state_of(app)
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    add_statuses(app, (7, "Shipped"))
    add_order(app, 9001, status_id=7, shop_id="A-1200")
    with app.app_context():
        add_rule(
            "Reply",
            actions=[
                (
                    "auto_reply",
                    "Hi {{ customer_name }}, ticket #{{ ticket_id }} in {{ chat_name }}: order "
                    "{{ order_number }} is {{ order_status }}. {{ agent_name or 'An agent' }} "
                    "answers soon. {{ ''.__class__ }}",
                ),
                ("notify_watchers", "Angry {{ customer_email }}"),
            ],
        )
    with signals.watchers_notified.connected_to(listener, sender=app):
        ticket_id = open_ticket(app)
    (reply,) = lines_of(app, ticket_id, "automation")
    assert reply == (
        f"Hi Zoe Customer, ticket #{ticket_id} in Store chat: order A-1200 is Shipped. "
        "An agent answers soon. "
    ).strip()
    (run,) = runs_of(app, ticket_id)
    assert run.outcome[1] == {
        "action": "notify_watchers",
        "result": "skipped",
        "text": "the ticket has no watchers to notify",
    }
    # With a watcher, the notice is recorded for the agents and the host's signal is sent.
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket_changes.add_watcher(ticket, "3", ALICE)
        rules.update_rule(
            rules.list_rules()[0],
            rule_values("Reply", trigger="customer_message", actions=[("notify_watchers", "Hey")]),
        )
    with signals.watchers_notified.connected_to(listener, sender=app):
        customer_writes(app, ticket_id, "Hello?")
    assert lines_of(app, ticket_id, "system")[-1] == (
        "Automation Reply notified the watchers (Bob Other): Hey"
    )
    assert received == [{"ticket_id": ticket_id, "user_ids": ["3"], "text": "Hey"}]


def test_auto_reply_is_a_public_automation_message(app):
    events = []
    with app.app_context():
        add_rule("Hello", actions=[("auto_reply", "We got your message.")])
    broker = state_of(app).broker
    broker.subscribe("ticket:1", events.append)
    ticket_id = open_ticket(app)
    assert ticket_id == 1
    (event,) = [e for e in events if e.get("author_kind") == "automation"]
    assert event["body"] == "We got your message." and event["internal"] is False
    assert event["author_name"] == "Store chat"


@pytest.fixture
def base(make_app):
    """An app whose Base is a stand-in with two orders of Zoe (5001 older, 5002 newer)."""
    now = int(time.time())
    order = {"email": "zoe@example.com", "order_status_id": 1, "date_confirmed": now}
    wsgi = create_standin_app(
        TOKEN,
        orders=[
            {**order, "order_id": 5001, "shop_order_id": 11, "date_add": now - 86400 * 5},
            {**order, "order_id": 5002, "shop_order_id": 12, "date_add": now - 86400},
        ],
        statuses=[
            {"id": 1, "name": "New", "name_for_customer": "", "color": "#000000"},
            {"id": 2, "name": "Returned", "name_for_customer": "", "color": "#000000"},
        ],
    )
    server, thread, url = serve_standin(wsgi)
    app = make_app(RESPONSO_CHAT_BASE_API_URL=url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)
    app.standin = wsgi.standin
    yield app
    server.shutdown()
    thread.join(timeout=5)


def test_change_order_status_acts_on_the_mentioned_order_else_the_latest(base):
    app = base
    with app.app_context():
        orders.sync_status_list()  # the status choices come from Base
        add_rule(
            "Returns",
            trigger="customer_message",
            conditions=[("context", "is", "return")],
            actions=[("change_order_status", "2")],
        )
    ticket_id = open_ticket(app, subject="Hello", message="Hello")
    customer_writes(app, ticket_id, "I want to return order 5001, please refund me")
    assert app.standin.order(5001)["order_status_id"] == 2
    assert app.standin.order(5002)["order_status_id"] == 1
    assert lines_of(app, ticket_id, "system")[-1].startswith(
        "Automation Returns changed the status of Base order 5001 from “New” to “Returned”"
    )
    customer_writes(app, ticket_id, "And I want a refund for the other one too")
    assert app.standin.order(5002)["order_status_id"] == 2  # none mentioned: the latest


def test_failing_action_is_recorded_and_the_others_still_run(base):
    app = base
    with app.app_context():
        orders.sync_status_list()  # the status choices come from Base
        add_rule(
            "Complaint",
            trigger="customer_message",
            conditions=[("sentiment", "is", "negative")],
            actions=[
                ("change_order_status", "2"),
                ("set_priority", "high"),
                ("auto_reply", "Sorry {{ customer_name }}!"),
            ],
        )
    ticket_id = open_ticket(app, message="Hi")  # the orders are fetched from Base here
    app.standin.down = True
    customer_writes(app, ticket_id, ANGRY)
    assert get_ticket(app, ticket_id).priority == "high"
    assert lines_of(app, ticket_id, "automation")[-1] == "Sorry Zoe Customer!"
    failure = next(
        line for line in lines_of(app, ticket_id, "system") if "could not" in line
    )
    assert failure.startswith(
        "Automation Complaint could not change the order status in Base: Base could not be "
        "reached"
    )
    run = runs_of(app, ticket_id)[-1]
    assert [item["result"] for item in run.outcome] == ["failed", "done", "done"]
    assert "Base could not be reached" in run.outcome[0]["text"]


def test_runner_fetches_orders_never_fetched_before(base):
    app = base
    with app.app_context():
        chat_id = make_chat("Store chat").id
        add_rule(
            "Has order", conditions=[("has_order", "is", "yes")], actions=[("add_tag", "buyer")]
        )
        state = state_of(app)
        # The ticket is created without the order sync job racing the automation.
        chat = state.db.session.get(Chat, chat_id)
        ticket = tickets.open_chat_ticket(
            chat, name="Zoe", email="zoe@example.com", subject="Hi", message="Hi",
            email_verified=True,
        )
        ticket_id = ticket.id
    state.jobs.join()
    assert [t.name for t in get_ticket_tags(app, ticket_id)] == ["buyer"]


@pytest.mark.postgres
def test_an_auto_response_waiting_on_base_never_holds_the_ticket(make_app, postgres_url,
                                                                 monkeypatch):
    """The auto-response's order facts are fetched from Base before the ticket is locked: while
    the job waits on Base, the customer's next message can still update the ticket."""
    wsgi = create_standin_app(TOKEN, orders=[{
        "order_id": 5001, "shop_order_id": 11, "email": "zoe@example.com",
        "order_status_id": 1, "date_add": int(time.time()), "date_confirmed": int(time.time()),
    }])
    server, thread, url = serve_standin(wsgi)
    app = make_app(database_url=postgres_url, migrate=True, RESPONSO_CHAT_BASE_API_URL=url,
                   RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)
    state = state_of(app)
    locked_during_base_call = []
    fetch = orders.sync_customer_orders

    def fetch_and_try_the_ticket(email, client=None):
        with state.db.engine.connect() as other:  # as the customer's request would
            try:
                other.execute(sa.text("SET lock_timeout = '1s'"))
                other.execute(sa.text(
                    "SELECT id FROM responso_chat_ticket WHERE id = :id FOR UPDATE"
                ), {"id": ticket_id})
                locked_during_base_call.append(False)
            except sa.exc.OperationalError:
                locked_during_base_call.append(True)
        return fetch(email, client)

    monkeypatch.setattr(orders, "sync_customer_orders", fetch_and_try_the_ticket)
    # The new ticket's own order sync would race the rule's fetch: here the rule fetches.
    monkeypatch.setattr(orders, "sync_ticket_orders", lambda ticket_id: None)
    try:
        with app.app_context():
            chat = make_chat("Store chat")
            add_rule("Answer", trigger="customer_message",
                     actions=[("auto_reply", "Order {{ order_number }} is on its way.")])
            ticket = tickets.open_chat_ticket(
                chat, name="Zoe", email="zoe@example.com", subject="Hi", message="Where is it?",
                email_verified=True,
            )
            ticket_id = ticket.id
        state.jobs.join()
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert locked_during_base_call == [False]
    assert lines_of(app, ticket_id, "automation") == ["Order 11 is on its way."]


def get_ticket_tags(app, ticket_id):
    state = state_of(app)
    with app.app_context():
        return list(state.db.session.get(Ticket, ticket_id, options=ticket_details()).tags)


# --- The runner's guarantees -------------------------------------------------------------


def test_each_rule_acts_once_per_message_even_when_the_job_runs_again(app):
    state = state_of(app)
    with app.app_context():
        add_rule("Reply", actions=[("auto_reply", "Thanks!"), ("add_tag", "seen")])
    ticket_id = open_ticket(app)
    with app.app_context():
        first = state.db.session.scalar(
            sa.select(Message.id).where(Message.ticket_id == ticket_id)
        )
        assert runner.run_automations("new_ticket", ticket_id, first) == []
        assert runner.run_automations("new_ticket", ticket_id, first) == []
    assert lines_of(app, ticket_id, "automation") == ["Thanks!"]
    assert len(runs_of(app, ticket_id)) == 1


def test_loop_protection(app):
    """An automation's message or status change never triggers automations, and the hourly
    limit caps auto-responses."""
    state = state_of(app)
    app.config["RESPONSO_CHAT_AUTORESPONDER_LIMIT"] = 2
    with app.app_context():
        add_rule("Echo", trigger="customer_message", actions=[("auto_reply", "Echo")])
        add_rule(
            "Status ping-pong",
            trigger="status_changed",
            actions=[("set_status", "pending"), ("auto_reply", "Status!")],
        )
    ticket_id = open_ticket(app)
    customer_writes(app, ticket_id, "Again")
    customer_writes(app, ticket_id, "And again")
    assert lines_of(app, ticket_id, "automation") == ["Echo", "Echo"]
    run = runs_of(app, ticket_id)[-1]
    assert run.outcome == [
        {
            "action": "auto_reply",
            "result": "skipped",
            "text": "auto-response not sent: limit of 2 auto-responses an hour reached",
        }
    ]
    with app.app_context():
        automation_messages = state.db.session.scalars(
            sa.select(Message.id).where(
                Message.author_kind == "automation"
            )
        ).all()
        for message_id in automation_messages:  # never answer an automation's own message
            assert runner.run_automations("customer_message", ticket_id, message_id) == []
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket_changes.set_status(ticket, "solved", ALICE)
    state.jobs.join()
    # The agent's change ran the status rule once; its own change to pending did not.
    assert get_ticket(app, ticket_id).status == "pending"
    assert sum("set status to pending" in line for line in lines_of(app, ticket_id)) == 1


def test_disable_next_autoresponder_skips_exactly_one(app):
    state = state_of(app)
    with app.app_context():
        add_rule("Reply", trigger="customer_message", actions=[("auto_reply", "Got it")])
    ticket_id = open_ticket(app, message="First")
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket_changes.disable_next_autoresponder(ticket, ALICE)
    customer_writes(app, ticket_id, "Second")
    assert lines_of(app, ticket_id, "automation") == ["Got it"]
    assert not get_ticket(app, ticket_id).disable_next_autoresponder
    assert lines_of(app, ticket_id, "system")[-1] == (
        "Automation Reply did not send its auto-response: the next auto-responder was disabled "
        "for this ticket"
    )
    customer_writes(app, ticket_id, "Third")
    assert lines_of(app, ticket_id, "automation") == ["Got it", "Got it"]


def test_new_ticket_rules_run_on_the_first_customer_message_only(app):
    with app.app_context():
        add_rule("Welcome", actions=[("auto_reply", "Welcome")])
        add_rule("Every", trigger="customer_message", actions=[("add_tag", "customer")])
    ticket_id = open_ticket(app)
    customer_writes(app, ticket_id, "More")
    assert lines_of(app, ticket_id, "automation") == ["Welcome"]
    assert len(runs_of(app, ticket_id)) == 3  # Welcome once, Every on both messages


def test_rules_run_in_position_order_and_disabled_rules_never(app):
    with app.app_context():
        second = add_rule("Second", actions=[("set_priority", "low")])
        first = add_rule("First", actions=[("set_priority", "high")])
        add_rule("Off", enabled=False, actions=[("add_tag", "off")])
        rules.move_rule(rules.get_rule(first), "up")
        assert [r.id for r in rules.list_rules()][:2] == [first, second]
    ticket_id = open_ticket(app)
    assert get_ticket(app, ticket_id).priority == "low"  # First, then Second
    assert not get_ticket_tags(app, ticket_id)


def test_status_changed_trigger(app):
    state = state_of(app)
    with app.app_context():
        add_rule(
            "Thank on solve",
            trigger="status_changed",
            conditions=[("status", "is", "solved")],
            actions=[("auto_reply", "Glad we could help, {{ customer_name }}.")],
        )
    ticket_id = open_ticket(app)
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket_changes.set_status(ticket, "pending", ALICE)
        ticket_changes.set_status(ticket, "solved", ALICE)
    state.jobs.join()
    assert lines_of(app, ticket_id, "automation") == ["Glad we could help, Zoe Customer."]


def test_a_stale_status_change_runs_nothing(app):
    """Jobs of two quick changes may run in any order: the superseded one does nothing."""
    state = state_of(app)
    with app.app_context():
        add_rule(
            "Thank on solve",
            trigger="status_changed",
            conditions=[("status", "is", "solved")],
            actions=[("auto_reply", "Thanks!")],
        )
    ticket_id = open_ticket(app)
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket.status = "solved"
        state.db.session.commit()
        last = ticket.last_seq
        message_id = state.db.session.scalar(
            sa.select(Message.id).where(
                Message.ticket_id == ticket_id, Message.seq == last
            )
        )
        assert runner.run_automations(
            "status_changed", ticket_id, message_id, None, "pending"
        ) == []
        assert runner.run_automations("status_changed", ticket_id, message_id, None, "solved")


def scheduled_checks(app):
    """The delayed "no agent reply" checks in the outbox: (delay in seconds, args)."""
    state = state_of(app)
    Entry = OutboxEntry
    with app.app_context():
        rows = state.db.session.scalars(
            sa.select(Entry).where(Entry.job == RUNNER).order_by(Entry.id)
        ).all()
        return [((row.available_at - row.created_at).total_seconds(), row.args) for row in rows]


def test_no_agent_reply_is_scheduled_and_acts_once_per_wait(app):
    state = state_of(app)
    with app.app_context():
        rule_id = add_rule(
            "Nudge",
            trigger="no_agent_reply",
            trigger_minutes=15,
            actions=[("set_priority", "high"), ("notify_watchers", "Waiting")],
        )
    ticket_id = open_ticket(app)
    second = customer_writes(app, ticket_id, "Anyone?")
    scheduled = scheduled_checks(app)
    assert [delay for delay, _args in scheduled] == [900, 900]
    assert all(args[0] == "no_agent_reply" for _delay, args in scheduled)
    with app.app_context():
        first = scheduled[0][1][2]
        assert runner.run_automations("no_agent_reply", ticket_id, first, rule_id)
        assert runner.run_automations("no_agent_reply", ticket_id, second, rule_id) == []
    assert get_ticket(app, ticket_id).priority == "high"
    # An agent answers, the customer writes again: a new wait; an answer cancels the check.
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        messages.post_agent_message(ticket, "2", "Alice Agent", "Hello!")
        third = customer_writes(app, ticket_id, "Thanks, and?")
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        ticket_changes.set_priority(ticket, "normal", ALICE)
        messages.post_agent_message(ticket, "2", "Alice Agent", "On it")
        assert runner.run_automations("no_agent_reply", ticket_id, third, rule_id) == []
    assert get_ticket(app, ticket_id).priority == "normal"


def test_a_delayed_outbox_job_runs_later_in_process(app):
    state = state_of(app)
    with app.app_context():
        chat_id = make_chat("Before").id
        outbox.add("tests.jobs_for_tests.rename_chat", chat_id, "After", delay=0.05)
        state.db.session.commit()
        assert state.db.session.get(Chat, chat_id).name == "Before"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state.jobs.join()
        with app.app_context():
            if state.db.session.get(Chat, chat_id).name == "After":
                break
        time.sleep(0.02)
    with app.app_context():
        assert state.db.session.get(Chat, chat_id).name == "After"


def test_signals_are_sent_after_the_commit(app):
    seen = []

    def recorder(name):
        def receive(sender, **kwargs):
            assert sender is app
            seen.append((name, kwargs))

        return receive

    names = ("ticket_created", "message_created", "ticket_status_changed", "ticket_assigned")
    receivers = {name: recorder(name) for name in names}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, sender=app)
    try:
        with app.app_context():
            chat = make_chat(agent_ids=("2", "3"))
            ticket = make_ticket(chat)
            first = ticket.last_seq
            tickets.join_by_agent(ticket, "2", "Alice Agent")
            messages.post_agent_message(ticket, "2", "Alice Agent", "Hi")
            ticket_changes.set_status(ticket, "pending", ALICE)
            messages.post_customer_message(ticket, "Back")
            ticket_changes.assign(ticket, "3", ALICE)
            ticket_id = ticket.id
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver, sender=app)
    assert first == 1
    names = [(name, kwargs.get("author_kind") or kwargs.get("new") or kwargs.get("assignee_id"))
             for name, kwargs in seen]
    assert names == [
        ("ticket_created", None),
        ("message_created", "customer"),
        ("ticket_assigned", "2"),
        ("message_created", "agent"),
        ("ticket_status_changed", "pending"),
        ("message_created", "customer"),
        ("ticket_status_changed", "open"),
        ("ticket_assigned", "3"),
    ]
    assert seen[4][1] == {"ticket_id": ticket_id, "old": "open", "new": "pending", "by": ALICE}


# --- Dry run, side panel, failed jobs ------------------------------------------------------


def test_dry_run_says_what_would_happen_and_changes_nothing(app):
    state = state_of(app)
    ticket_id = open_ticket(app)
    with app.app_context():
        chat_id = state.db.session.get(Ticket, ticket_id).chat_id
        rule = rules.create_rule(
            rule_values(
                "Angry",
                enabled=False,
                conditions=[("chat", "is", str(chat_id)), ("sentiment", "is", "negative")],
                actions=[("set_priority", "high"), ("auto_reply", "Sorry {{ customer_name }}")],
            )
        )
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        before = (ticket.priority, ticket.last_seq)
        matched, would_do = dry_run.dry_run(rule, ticket)
        assert matched
        assert would_do == ["set priority: High", "send the auto-response “Sorry Zoe Customer”"]
        ticket.disable_next_autoresponder = True
        assert dry_run.dry_run(rule, ticket)[1][1] == (
            "not send the auto-response: the next auto-responder is disabled"
        )
        state.db.session.rollback()
        details = dry_run.dry_run_details(rule, ticket)
        assert details.conditions == [
            ("Integration (chat) is Store chat", True),
            ("Sentiment is Negative", True),
        ]
        state.db.session.expire_all()
        ticket = state.db.session.get(Ticket, ticket_id, options=ticket_details())
        assert (ticket.priority, ticket.last_seq) == before
        assert not runs_of(app, ticket_id)
        rule.conditions = [{"field": "sentiment", "operator": "is", "value": "positive"}]
        assert dry_run.dry_run(rule, ticket) == (False, [])


def test_side_panel_lists_the_runs(app):
    with app.app_context():
        add_rule("Tagger", actions=[("add_tag", "new"), ("add_tag", "new")])
    ticket_id = open_ticket(app)
    with app.test_request_context():
        ticket = get_ticket(app, ticket_id)
        html = render_template_string(
            '{% include "responso_chat/inbox/_automation_runs.html" %}', ticket=ticket
        )
    assert "<h3>Tagger</h3>" in html
    assert "added tag new" in html
    assert "Skipped: the ticket already had tag new" in html
    with app.app_context():
        (run,) = rules.runs_for_ticket(ticket_id)
    assert run.rule_name == "Tagger" and [item["result"] for item in run.outcome] == [
        "done",
        "skipped",
    ]


def test_failed_in_process_jobs_are_listed(app):
    state = state_of(app)
    with app.app_context():
        future = state.jobs.enqueue(RUNNER, "bogus", 1)
    with pytest.raises(ValueError):
        future.result(timeout=5)
    (failed,) = state.jobs.failed_jobs()
    assert failed.func_name == RUNNER and failed.args == ("bogus", 1)
    assert failed.error == "ValueError: unknown automation trigger 'bogus'"


# --- Admin pages ----------------------------------------------------------------------------


def form_data(csrf, name="Angry", trigger="new_ticket", minutes="", conditions=(), actions=()):
    data = {"csrf_token": csrf, "name": name, "enabled": "1", "trigger": trigger,
            "trigger_minutes": minutes, "match": "all"}
    for n, (field, operator, value) in enumerate(conditions):
        data[f"conditions-{n}-field"] = field
        data[f"conditions-{n}-operator"] = operator
        data[f"conditions-{n}-value"] = value
    for n, (kind, value) in enumerate(actions):
        data[f"actions-{n}-type"] = kind
        data[f"actions-{n}-value"] = value
    return data


def test_agents_get_403_and_anonymous_users_the_login(client, auth):
    assert client.get("/chat/admin/automations/").status_code == 302
    auth.login("alice@shop.test")
    for url in ("/chat/admin/automations/", "/chat/admin/automations/new",
                "/chat/admin/automations/failed-jobs"):
        assert client.get(url).status_code == 403
    assert client.post("/chat/admin/automations/new",
                       data={"csrf_token": auth.csrf_token()}).status_code == 403


def test_admin_creates_edits_and_orders_rules(app, client, auth):
    state = state_of(app)
    with app.app_context():
        chat_id = make_chat("Store chat").id
    auth.login("admin@shop.test")
    page = client.get("/chat/admin/automations/new")
    assert page.status_code == 200 and b"Add condition" in page.data
    csrf = auth.csrf_token()
    response = client.post(
        "/chat/admin/automations/new",
        data=form_data(
            csrf,
            conditions=[("chat", "is", str(chat_id)), ("sentiment", "in", "negative")],
            actions=[("set_priority", "high"), ("auto_reply", "Sorry {{ customer_name }}")],
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        (rule,) = rules.list_rules()
        assert rule.conditions == [
            {"field": "chat", "operator": "is", "value": str(chat_id)},
            {"field": "sentiment", "operator": "in", "value": ["negative"]},
        ]
        assert rule.actions[1] == {"type": "auto_reply", "value": "Sorry {{ customer_name }}"}
        rule_id = rule.id
        other_id = add_rule("Other", actions=[("add_tag", "x")])
    listing = client.get("/chat/admin/automations/").get_data(as_text=True)
    assert "Integration (chat) is Store chat and Sentiment is one of Negative" in listing
    client.post(f"/chat/admin/automations/{other_id}/move",
                data={"csrf_token": csrf, "direction": "up"})
    client.post(f"/chat/admin/automations/{rule_id}/enabled",
                data={"csrf_token": csrf, "enabled": "0"})
    with app.app_context():
        assert [(r.id, r.enabled) for r in rules.list_rules()] == [
            (other_id, True),
            (rule_id, False),
        ]
    edit = client.get(f"/chat/admin/automations/{rule_id}").get_data(as_text=True)
    assert 'value="Sorry {{ customer_name }}"' not in edit  # textarea content, escaped
    assert "Sorry {{ customer_name }}</textarea>" in edit
    client.post(f"/chat/admin/automations/{other_id}/delete", data={"csrf_token": csrf})
    with app.app_context():
        assert [r.id for r in rules.list_rules()] == [rule_id]
        assert state.db.session.get(AutomationRule, other_id) is None


def test_admin_form_errors_next_to_the_field_and_nothing_saved(app, client, auth):
    auth.login("admin@shop.test")
    csrf = auth.csrf_token()
    response = client.post(
        "/chat/admin/automations/new",
        data=form_data(
            csrf,
            name="",
            trigger="no_agent_reply",
            conditions=[("sentiment", "contains", "bad"), ("chat", "is", "999")],
            actions=[("auto_reply", "Hi {{ nme }}"), ("add_tag", " ")],
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="name-error"' in html and "Enter a name" in html
    assert "Enter after how many minutes without a reply." in html
    assert 'id="conditions-0-operator-error"' in html
    assert "Sentiment can be tested with: is, is not, is one of." in html
    assert 'id="conditions-1-value-error"' in html
    assert 'id="actions-0-value-error"' in html and "Unknown variable nme" in html
    assert 'id="actions-1-value-error"' in html and "Enter a tag." in html
    assert "Hi {{ nme }}</textarea>" in html  # what was typed stays
    with app.app_context():
        assert rules.list_rules() == []
    response = client.post(
        "/chat/admin/automations/new", data=form_data(csrf, name="No actions", actions=[])
    )
    assert response.status_code == 422 and b"Add at least one action" in response.data
    bad_template = form_data(csrf, actions=[("auto_reply", "{% if %}")])
    response = client.post("/chat/admin/automations/new", data=bad_template)
    assert response.status_code == 422 and b"The template has an error" in response.data


def test_add_and_remove_rows_without_javascript(app, client, auth):
    auth.login("admin@shop.test")
    csrf = auth.csrf_token()
    data = form_data(csrf, conditions=[("priority", "is", "high"), ("status", "is", "open")],
                     actions=[("add_tag", "a")])
    response = client.post("/chat/admin/automations/new",
                           data={**data, "form_action": "add_condition"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="conditions-2-field"' in html
    response = client.post("/chat/admin/automations/new",
                           data={**data, "form_action": "remove_condition:0"})
    html = response.get_data(as_text=True)
    assert 'name="conditions-1-field"' not in html
    assert '<option value="status" selected>' in html
    with app.app_context():
        assert rules.list_rules() == []


def test_admin_dry_run_page(app, client, auth):
    ticket_id = open_ticket(app)
    with app.app_context():
        rule_id = add_rule("Angry", conditions=[("sentiment", "is", "negative")],
                           actions=[("set_priority", "high")], enabled=False)
    auth.login("admin@shop.test")
    html = client.get(f"/chat/admin/automations/{rule_id}/dry-run?ticket_id={ticket_id}")
    text = html.get_data(as_text=True)
    assert "Would match: yes" in text and "set priority: High" in text
    assert "Met:</span> Sentiment is Negative" in text
    missing = client.get(f"/chat/admin/automations/{rule_id}/dry-run?ticket_id=999")
    assert missing.status_code == 422 and b"There is no ticket #999." in missing.data
    bad = client.get(f"/chat/admin/automations/{rule_id}/dry-run?ticket_id=abc")
    assert bad.status_code == 422 and b"Enter a ticket number." in bad.data


def test_admin_failed_jobs_page(app, client, auth):
    state = state_of(app)
    with app.app_context():
        future = state.jobs.enqueue(RUNNER, "<bogus>", 1)
    with pytest.raises(ValueError):
        future.result(timeout=5)
    auth.login("admin@shop.test")
    html = client.get("/chat/admin/automations/failed-jobs").get_data(as_text=True)
    assert "unknown automation trigger &#39;&lt;bogus&gt;&#39;" in html


# --- The whole pipeline on PostgreSQL, Redis and an RQ worker ----------------------------------


@pytest.mark.postgres
@pytest.mark.redis
def test_pipeline_on_postgresql_with_redis_and_an_rq_worker(make_app, postgres_url, redis_url):
    app = make_app(database_url=postgres_url, migrate=True, RESPONSO_CHAT_REDIS_URL=redis_url)
    state = state_of(app)
    assert isinstance(state.jobs, RQJobs)

    def work():
        work_burst(app)

    with app.app_context():
        OrderSync.__table__.create(state.db.engine, checkfirst=True)
        chat = make_chat("Store chat")
        add_rule(
            "Angry",
            conditions=[("chat", "is", str(chat.id)), ("sentiment", "is", "negative")],
            actions=[
                ("set_priority", "high"),
                ("add_tag", "angry"),
                ("auto_reply", "Sorry, {{ customer_name }}!"),
            ],
        )
        add_rule("Every", trigger="customer_message", actions=[("add_tag", "seen")])
        ticket = make_ticket(chat, message=ANGRY)
        ticket_id, message_id = ticket.id, ticket.last_seq
    queued = [job.func_name for job in state.jobs.queue.jobs]  # relayed after the commit
    assert "responso_chat.conversation.event_jobs.on_message_created" in queued
    assert RUNNER not in queued  # the rules are looked up by the worker
    assert get_ticket(app, ticket_id).priority == "normal"
    work()
    assert get_ticket(app, ticket_id).priority == "high"
    assert lines_of(app, ticket_id, "automation") == ["Sorry, Zoe Customer!"]
    assert [t.name for t in get_ticket_tags(app, ticket_id)] == ["angry", "seen"]
    # A retried job (the same job enqueued again) acts no more.
    with app.app_context():
        first_id = state.db.session.scalar(
            sa.select(Message.id).where(
                Message.ticket_id == ticket_id, Message.seq == message_id
            )
        )
        state.jobs.enqueue(RUNNER, "new_ticket", ticket_id, first_id)
        state.jobs.enqueue(RUNNER, "new_ticket", ticket_id, first_id)
    work()
    assert lines_of(app, ticket_id, "automation") == ["Sorry, Zoe Customer!"]
    assert len(runs_of(app, ticket_id)) == 2
    # A failing job ends in the failed job registry the admins' page lists.
    state.jobs.queue.enqueue(RUNNER, "bogus", ticket_id)
    work()
    with app.app_context():
        (failed,) = rules.failed_jobs()
    assert failed.args == ("bogus", ticket_id)
    assert failed.error == "ValueError: unknown automation trigger 'bogus'"


@pytest.mark.postgres
@pytest.mark.redis
def test_no_agent_reply_check_goes_to_the_rq_scheduler(make_app, postgres_url, redis_url):
    app = make_app(database_url=postgres_url, migrate=True, RESPONSO_CHAT_REDIS_URL=redis_url)
    state = state_of(app)
    with app.app_context():
        add_rule("Nudge", trigger="no_agent_reply", trigger_minutes=30,
                 actions=[("set_priority", "urgent")])
        chat = make_chat("Store chat")
        ticket_id = make_ticket(chat).id
    assert state.jobs.queue.scheduled_job_registry.get_job_ids() == []
    work_burst(app)  # the event's job writes the check to the outbox, due in 30 minutes
    ((wait, args),) = scheduled_checks(app)
    assert wait == 30 * 60 and args[:2] == ["no_agent_reply", ticket_id]
    scheduled = state.jobs.queue.scheduled_job_registry
    (job_id,) = scheduled.get_job_ids()  # a relay run when it is due
    job = state.jobs.queue.fetch_job(job_id)
    assert job.func_name == "responso_chat.infra.outbox.relay_due"
    with app.app_context():  # the relay runs when the check is due (RQ keeps whole seconds)
        due = state.db.session.scalar(sa.select(OutboxEntry.available_at).where(
            OutboxEntry.job == RUNNER))
    assert abs(scheduled.get_scheduled_time(job) - due) <= timedelta(seconds=2)
    assert job.retries_left == 3
