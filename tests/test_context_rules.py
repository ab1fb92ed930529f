"""Automation conditions on the shop's context: the cart's value (greater or less than) and
the visit's pages (one matching a path pattern), in the runner, the dry run and the form."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from responso_chat.automations import dry_run, rules
from responso_chat.models import Ticket, ticket_details
from tests.test_automations import get_ticket_tags, rule_values, state_of
from tests.test_shop_context import TRAIL, _chat, _fill_cart, _start_same_site


@pytest.fixture
def cart_app(make_app):
    return make_app(RESPONSO_CHAT_CART="tests.hostapp:session_cart")


def chat_key(app) -> str:
    """The public key of the app's one chat (made on first use)."""
    if "test_chat_key" not in app.config:
        app.config["test_chat_key"] = _chat(app)
    return app.config["test_chat_key"]


def start(app, *, cart: bool, trail=TRAIL, client_msg_id="c-1"):
    """A chat started from the host's pages (with its cart if ``cart``); the ticket's id."""
    client = app.test_client()
    if cart:
        _fill_cart(client)  # 224.80 PLN
    response = _start_same_site(client, chat_key(app), context={"trail": trail},
                                client_msg_id=client_msg_id)
    assert response.status_code == 201, response.json
    state_of(app).jobs.join()  # the automation jobs of the new ticket
    return response.json["ticket"]["id"]


def rule(app, conditions, tag="matched", enabled=False):
    with app.app_context():
        return rules.create_rule(rule_values(
            f"Context {tag}", enabled=enabled, conditions=conditions, actions=[("add_tag", tag)]
        )).id


def dry(app, rule_id, ticket_id):
    with app.app_context():
        session = state_of(app).db.session
        ticket = session.get(Ticket, ticket_id, options=ticket_details())
        return dry_run.dry_run_details(rules.get_rule(rule_id), ticket)


@pytest.mark.parametrize(("conditions", "with_cart", "without_cart"), [
    ([("cart_value", "greater_than", "200")], True, False),
    ([("cart_value", "greater_than", "224.80")], False, False),
    ([("cart_value", "less_than", "300")], True, False),  # no cart known: no amount compares
    ([("cart_value", "less_than", "100")], False, False),
    ([("visited_path", "matches", "/store/shirts")], True, True),
    ([("visited_path", "matches", "/store/*")], True, True),
    ([("visited_path", "matches", "/store")], True, True),  # a prefix covers pages below it
    ([("visited_path", "matches", "/checkout")], False, False),
    ([("visited_path", "not_matches", "/checkout")], True, True),
    ([("visited_path", "not_matches", "/store/cart")], False, False),
])
def test_dry_run_of_context_conditions(cart_app, conditions, with_cart, without_cart):
    rule_id = rule(cart_app, conditions)
    full = start(cart_app, cart=True, client_msg_id="a")
    empty = start(cart_app, cart=False, client_msg_id="b")
    assert dry(cart_app, rule_id, full).matched is with_cart
    assert dry(cart_app, rule_id, empty).matched is without_cart


def test_dry_run_describes_the_conditions(cart_app):
    rule_id = rule(cart_app, [("cart_value", "greater_than", "100"),
                              ("visited_path", "matches", "/store/*")])
    details = dry(cart_app, rule_id, start(cart_app, cart=True))
    assert details.conditions == [
        ("Cart value is greater than “100”", True),
        ("Pages visited include a page matching “/store/*”", True),
    ]
    assert details.would_do == ["add tag: matched"]


def test_a_ticket_without_any_context(cart_app):
    """Tickets from e-mail or before this release have no context row."""
    rule_id = rule(cart_app, [("visited_path", "not_matches", "/checkout")])
    client = cart_app.test_client()
    ticket_id = client.post(f"/chat/widget/{chat_key(cart_app)}/tickets", json={
        "name": "Zoe", "email": "zoe@example.com", "subject": "Hi", "message": "Hello"
    }).json["ticket"]["id"]
    assert dry(cart_app, rule_id, ticket_id).matched is True
    over = rule(cart_app, [("cart_value", "greater_than", "0")], tag="over")
    assert dry(cart_app, over, ticket_id).matched is False


def test_the_runner_sees_the_context_stored_with_start_chat(cart_app):
    """The context commits with the ticket, so a new-ticket rule already sees it."""
    rule(cart_app, [("cart_value", "greater_than", "200"),
                    ("visited_path", "matches", "/store/cart")], tag="big-cart", enabled=True)
    rule(cart_app, [("cart_value", "less_than", "50")], tag="small-cart", enabled=True)
    ticket_id = start(cart_app, cart=True)
    assert [tag.name for tag in get_ticket_tags(cart_app, ticket_id)] == ["big-cart"]


@pytest.mark.parametrize(("field", "operator", "value", "message"), [
    ("cart_value", "greater_than", "lots", "Enter an amount"),
    ("cart_value", "greater_than", "-1", "Enter an amount"),
    ("cart_value", "less_than", "NaN", "Enter an amount"),
    ("cart_value", "less_than", "Infinity", "Enter an amount"),
    ("cart_value", "is", "100", "can be tested with"),
    ("visited_path", "matches", "checkout", "starts with /"),
    ("visited_path", "matches", "/a b", "no spaces"),
    ("visited_path", "contains", "/checkout", "can be tested with"),
])
def test_bad_context_conditions_are_refused(app, field, operator, value, message):
    with app.app_context(), pytest.raises(ValidationError) as caught:
        rules.create_rule(rule_values(conditions=[(field, operator, value)],
                                      actions=[("add_tag", "x")]))
    problems = caught.value.messages["conditions"][0]
    assert message in " ".join(next(iter(problems.values())))
