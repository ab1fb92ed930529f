"""The widget's "My orders": verifying a customer (one-time codes e-mailed through a real SMTP
server, the shop's signature, the host's login), their orders from the Base stand-in over
HTTP, requests about an order, and every way to reach someone else's orders."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from responso_chat.automations import rules
from responso_chat.conversation.visitor import email_signature, issue_token
from responso_chat.models import Chat, Message, OrderCode, Ticket, TicketOrder, utcnow
from responso_chat.orders import customer_access
from responso_chat.orders import sync as orders_sync
from responso_chat.state import plugin_state
from tests.factories import make_chat, make_ticket
from tests.mail_fixtures import mail_config, settle
from tests.test_orders import TOKEN, serve_base, standin  # noqa: F401 - fixtures

ANNA = "anna.kowalska@example.com"
JEAN = "jean.dupont@example.com"
MARIA = "maria.nowak@example.com"
JEAN_ORDER = 5104022
ANNA_SHIPPED = 5104101  # InPost, tracking number 620012345678901234567890


@pytest.fixture
def app(make_app, standin, smtp):  # noqa: F811 - the stand-in fixture
    """A host app with Base (the stand-in) and e-mail (the test SMTP server)."""
    return make_app(RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN,
                    **mail_config(smtp))


@pytest.fixture
def chat(app):
    with app.app_context():
        chat = make_chat()
        return {"id": chat.id, "key": chat.public_key, "secret": chat.secret}


def _widget(key: str, path: str) -> str:
    return f"/chat/widget/{key}/orders/{path}"


def _codes(smtp, email: str) -> list[str]:
    found = []
    for recipients, mail in smtp.messages:
        if recipients == [email]:
            text = mail.get_body(("plain",)).get_content()
            found += re.findall(r"\b(\d{6})\b", text)
    return found


def ask_code(app, client, chat, smtp, email=ANNA) -> str:
    response = client.post(_widget(chat["key"], "code"), json={"email": email, "language": "en"})
    assert response.status_code == 202, response.get_json()
    settle(app)
    return _codes(smtp, email)[-1]


def verify(client, chat, code, email=ANNA):
    return client.post(_widget(chat["key"], "verify"), json={"email": email, "code": code})


def access_by_code(app, client, chat, smtp, email=ANNA) -> str:
    response = verify(client, chat, ask_code(app, client, chat, smtp, email), email)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def rows(app, model, *where):
    with app.app_context():
        return list(plugin_state().db.session.scalars(sa.select(model).where(*where)))


# --- verifying the customer ---------------------------------------------------------------


def test_a_code_by_email_gives_access_to_the_customers_own_orders(app, client, chat, smtp):
    code = ask_code(app, client, chat, smtp)
    (recipients, mail), = smtp.messages
    assert mail["Subject"] == "Your code to see your orders"
    assert mail["Auto-Submitted"] == "auto-generated"
    with app.app_context():
        (stored,) = plugin_state().db.session.scalars(sa.select(OrderCode)).all()
        assert code not in stored.code_hash and stored.email == ANNA
    assert verify(client, chat, "000000" if code != "000000" else "111111").status_code == 422
    granted = verify(client, chat, code)
    assert granted.status_code == 200 and granted.get_json()["email"] == ANNA

    listed = client.get("/chat/widget/orders", headers=bearer(granted.get_json()["access"]))
    assert listed.status_code == 200
    orders = listed.get_json()["orders"]
    assert [o["id"] for o in orders] == [5104188, ANNA_SHIPPED, 5103650]  # newest first
    shipped = orders[1]
    assert shipped["status"] == "On its way"  # the name for the customer
    assert shipped["number"] == "1202" and shipped["total"] == "191.97"
    assert shipped["products"][0] == {"name": "Merino wool scarf, grey", "quantity": 1}
    assert shipped["tracking"] == {
        "carrier": "InPost", "number": "620012345678901234567890",
        "url": "https://inpost.pl/sledzenie-przesylek?number=620012345678901234567890",
    }
    assert orders[0]["tracking"] is None  # not shipped yet
    assert JEAN_ORDER not in {o["id"] for o in orders}


def test_a_code_serves_once(app, client, chat, smtp):
    code = ask_code(app, client, chat, smtp)
    assert verify(client, chat, code).status_code == 200
    replay = verify(client, chat, code)
    assert replay.status_code == 422
    assert replay.get_json()["errors"]["code"] == [
        "This code is not right or has expired. Ask for a new code."
    ]


def test_an_expired_code_is_refused(app, client, chat, smtp):
    code = ask_code(app, client, chat, smtp)
    with app.app_context():
        session = plugin_state().db.session
        session.execute(sa.update(OrderCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert verify(client, chat, code).status_code == 422
    with app.app_context():
        session = plugin_state().db.session
        session.execute(sa.update(OrderCode).values(expires_at=utcnow() - timedelta(days=2)))
        session.commit()
    ask_code(app, client, chat, smtp, email=JEAN)  # a new code clears the long-expired ones
    assert [code.email for code in rows(app, OrderCode)] == [JEAN]


def test_a_code_dies_after_its_wrong_attempts(app, client, chat, smtp):
    code = ask_code(app, client, chat, smtp)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(5):
        assert verify(client, chat, wrong).status_code == 422
    assert verify(client, chat, code).status_code == 422  # guessed long enough: dead


def test_a_new_code_replaces_the_previous_one(app, client, chat, smtp):
    first = ask_code(app, client, chat, smtp)
    second = ask_code(app, client, chat, smtp)
    if first != second:
        assert verify(client, chat, first).status_code == 422
    assert verify(client, chat, second).status_code == 200


def test_a_code_of_another_address_or_chat_does_not_work(app, client, chat, smtp):
    code = ask_code(app, client, chat, smtp, email=JEAN)
    assert verify(client, chat, code, email=ANNA).status_code == 422
    with app.app_context():
        other = make_chat("Other chat").public_key
    assert client.post(_widget(other, "verify"),
                       json={"email": JEAN, "code": code}).status_code == 422
    assert verify(client, chat, code, email=JEAN).status_code == 200


def test_codes_are_rate_limited_per_address_and_per_client(make_app, standin, smtp):  # noqa: F811
    app = make_app(**mail_config(smtp), RESPONSO_CHAT_ORDER_CODE_RATE_LIMIT="2 per hour",
                   RESPONSO_CHAT_ORDER_CODE_IP_RATE_LIMIT="4 per hour")
    client = app.test_client()
    with app.app_context():
        key = make_chat().public_key
    for _ in range(2):
        assert client.post(_widget(key, "code"), json={"email": ANNA}).status_code == 202
    third = client.post(_widget(key, "code"), json={"email": ANNA.upper()})
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
    assert client.post(_widget(key, "code"), json={"email": JEAN}).status_code == 202
    # the client's 5th request (codes asked for and codes typed count together)
    assert client.post(_widget(key, "verify"),
                       json={"email": JEAN, "code": "123456"}).status_code == 429
    settle(app)
    assert len(smtp.messages) == 3


def test_without_an_smtp_server_no_code_can_be_sent(make_app):
    app = make_app()
    client = app.test_client()
    with app.app_context():
        key = make_chat().public_key
    response = client.post(_widget(key, "code"), json={"email": ANNA})
    assert response.status_code == 503
    assert rows(app, OrderCode) == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("code", {"email": "not an address"}, "email"),
    ("code", {"email": ANNA, "language": "xx"}, "language"),
    ("verify", {"email": ANNA, "code": "12ab56"}, "code"),
    ("verify", {"email": ANNA, "code": "1234567"}, "code"),
    ("verify", {"email": ANNA}, "code"),
    ("access", {"email": ANNA, "signature": "zz"}, "signature"),
])
def test_bad_input_is_refused_by_field(client, chat, path, body, field):
    response = client.post(_widget(chat["key"], path), json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_a_body_that_is_not_a_json_object_is_a_400(client, chat):
    for body in ("[1, 2]", "{", "null"):
        response = client.post(_widget(chat["key"], "code"), data=body,
                               content_type="application/json")
        assert response.status_code == 400


def test_a_signed_email_gets_access_and_an_unsigned_one_does_not(client, chat):
    signature = email_signature(chat["secret"], ANNA)
    granted = client.post(_widget(chat["key"], "access"),
                          json={"email": ANNA, "signature": signature})
    assert granted.status_code == 200
    assert client.get("/chat/widget/orders",
                      headers=bearer(granted.get_json()["access"])).status_code == 200
    for body in ({"email": ANNA}, {"email": JEAN, "signature": signature},
                 {"email": ANNA, "signature": "0" * 64}):
        refused = client.post(_widget(chat["key"], "access"), json=body)
        assert refused.status_code == 403 and "email" in refused.get_json()["errors"]


def test_the_hosts_logged_in_customer_gets_access_on_the_hosts_own_pages(client, auth, chat):
    auth.login("carl@shop.test")
    url = _widget(chat["key"], "access")
    assert client.post(url, json={"email": "carl@shop.test"}).status_code == 200
    assert client.post(url, json={"email": ANNA}).status_code == 403
    # the same request from another site's page: the host's session counts for nothing
    foreign = client.post(url, json={"email": "carl@shop.test"},
                          headers={"Origin": "https://elsewhere.test"})
    assert foreign.status_code == 403


def test_forged_expired_or_foreign_access_tokens_are_refused(app, client, chat):
    with app.app_context():
        ticket = make_ticket(plugin_state().db.session.get(Chat, chat["id"]), email=ANNA)
        visitor = issue_token(ticket)
        disabled = make_chat("Gone", enabled=False)
        gone = customer_access.issue_access(disabled, ANNA)
    for headers in ({}, bearer("nonsense"), bearer(visitor), bearer(gone),
                    {"Authorization": "Basic abc"}):
        assert client.get("/chat/widget/orders", headers=headers).status_code == 401
    app.config["RESPONSO_CHAT_ORDER_ACCESS_MAX_AGE"] = 60
    with app.app_context():
        token = customer_access.issue_access(
            plugin_state().db.session.get(Chat, chat["id"]), ANNA)
    import time as clock

    real = clock.time
    try:  # the token's own time says it is 2 minutes old
        clock.time = lambda: real() + 120
        assert client.get("/chat/widget/orders", headers=bearer(token)).status_code == 401
    finally:
        clock.time = real


# --- requests about an order --------------------------------------------------------------


def _anna(client, chat):
    signature = email_signature(chat["secret"], ANNA)
    response = client.post(_widget(chat["key"], "access"),
                           json={"email": ANNA, "signature": signature})
    token = response.get_json()["access"]
    client.get("/chat/widget/orders", headers=bearer(token))  # first visit: fetched from Base
    return token


def test_cancel_opens_a_verified_ticket_with_the_order_attached(app, client, chat):
    token = _anna(client, chat)
    response = client.post(f"/chat/widget/orders/{ANNA_SHIPPED}/request", headers=bearer(token),
                           json={"request": "cancel", "note": "Ordered twice by mistake."})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["continued"] is False and body["token"]
    assert body["messages"][0]["body"] == (
        "I would like to cancel my order 1202.\n\nOrdered twice by mistake.")
    (ticket,) = rows(app, Ticket)
    assert ticket.customer_email == ANNA and ticket.customer_email_verified
    assert ticket.subject == "Cancel order 1202"
    (link,) = rows(app, TicketOrder)
    (first,) = rows(app, Message, Message.ticket_id == ticket.id)
    assert (link.ticket_id, link.base_order_id, link.request, link.message_id, link.linked_by) \
        == (ticket.id, ANNA_SHIPPED, "cancel", first.id, None)
    # The widget's conversation continues with the next request
    again = client.post("/chat/widget/orders/5103650/request", headers=bearer(token),
                        json={"request": "return", "ticket_token": body["token"]})
    assert again.status_code == 200 and again.get_json()["continued"] is True
    assert len(rows(app, Ticket)) == 1
    assert {(link.base_order_id, link.request) for link in rows(app, TicketOrder)} == {
        (ANNA_SHIPPED, "cancel"), (5103650, "return")}


def test_another_customers_order_is_never_reached(app, client, chat):
    token = _anna(client, chat)
    with app.app_context():
        jeans = make_ticket(plugin_state().db.session.get(Chat, chat["id"]), email=JEAN,
                            name="Jean")
        jean_ticket, jean_token = jeans.id, issue_token(jeans)
        plugin_state().jobs.join()
    for order_id in (JEAN_ORDER, 5103411, 999999):  # Jean's cached orders, one nobody has
        response = client.post(f"/chat/widget/orders/{order_id}/request",
                               headers=bearer(token), json={"request": "ask"})
        assert response.status_code == 404
        assert response.get_json()["errors"]["order"] == ["You have no order with this number."]
    assert rows(app, TicketOrder) == []
    assert [t.id for t in rows(app, Ticket)] == [jean_ticket]
    # Jean's conversation token in Anna's request: a ticket of her own, Jean's untouched
    response = client.post(f"/chat/widget/orders/{ANNA_SHIPPED}/request", headers=bearer(token),
                           json={"request": "ask", "ticket_token": jean_token})
    assert response.status_code == 201
    assert len(rows(app, Message, Message.ticket_id == jean_ticket)) == 1
    # an unverified typed e-mail has no way in: no token, no access
    assert client.post(f"/chat/widget/orders/{JEAN_ORDER}/request",
                       json={"request": "ask"}).status_code == 401


def test_a_conversation_with_an_unverified_email_is_not_continued(app, client, chat):
    token = _anna(client, chat)
    with app.app_context():
        typed = make_ticket(plugin_state().db.session.get(Chat, chat["id"]), email=ANNA)
        typed_id, typed_token = typed.id, issue_token(typed)
    response = client.post(f"/chat/widget/orders/{ANNA_SHIPPED}/request", headers=bearer(token),
                           json={"request": "ask", "ticket_token": typed_token})
    assert response.status_code == 201 and response.get_json()["ticket"]["id"] != typed_id


@pytest.mark.parametrize("body", [
    {"request": "destroy"}, {}, {"request": "ask", "note": "x" * 1001},
    {"request": "ask", "name": "\u202eevil"},
])
def test_bad_requests_are_refused_and_nothing_is_written(app, client, chat, body):
    token = _anna(client, chat)
    response = client.post(f"/chat/widget/orders/{ANNA_SHIPPED}/request",
                           headers=bearer(token), json=body)
    assert response.status_code == 422
    assert rows(app, Ticket) == [] and rows(app, TicketOrder) == []


# --- automations decide what a cancel does ------------------------------------------------


def test_a_rule_cancels_only_orders_not_yet_shipped(app, client, chat, standin):  # noqa: F811
    with app.app_context():
        orders_sync.sync_status_list()  # the rule form offers the statuses Base has
        rules.create_rule({
            "name": "Cancel unshipped orders",
            "enabled": True,
            "trigger": "new_ticket",
            "trigger_minutes": None,
            "match": "all",
            "conditions": [
                {"field": "customer_request", "operator": "is", "value": "cancel"},
                {"field": "requested_order_status", "operator": "in",
                 "value": ["1001", "1002", "1003"]},
            ],
            "actions": [{"type": "change_order_status", "value": "1008"}],
        })
    signature = email_signature(chat["secret"], MARIA)
    token = client.post(_widget(chat["key"], "access"),
                        json={"email": MARIA, "signature": signature}).get_json()["access"]
    listed = client.get("/chat/widget/orders", headers=bearer(token)).get_json()["orders"]
    before = {order["id"]: standin.store.order(order["id"])["order_status_id"]
              for order in listed}
    assert set(before.values()) >= {1001, 1002, 1005, 1006}
    for order_id in before:
        response = client.post(f"/chat/widget/orders/{order_id}/request",
                               headers=bearer(token), json={"request": "cancel"})
        assert response.status_code == 201
    # a question about a new order changes nothing either
    with app.app_context():
        plugin_state().jobs.join()
    after = {order_id: standin.store.order(order_id)["order_status_id"] for order_id in before}
    for order_id, status in before.items():
        expected = 1008 if status in (1001, 1002, 1003) else status
        assert after[order_id] == expected, (order_id, status)
    assert 1008 in after.values() and 1005 in after.values()


def test_a_question_about_a_new_order_does_not_cancel_it(app, client, chat, standin):  # noqa: F811
    with app.app_context():
        orders_sync.sync_status_list()  # the rule form offers the statuses Base has
        rules.create_rule({
            "name": "Cancel unshipped orders", "enabled": True, "trigger": "new_ticket",
            "trigger_minutes": None, "match": "all",
            "conditions": [
                {"field": "customer_request", "operator": "is", "value": "cancel"},
                {"field": "requested_order_status", "operator": "in", "value": ["1001"]},
            ],
            "actions": [{"type": "change_order_status", "value": "1008"}],
        })
    signature = email_signature(chat["secret"], MARIA)
    token = client.post(_widget(chat["key"], "access"),
                        json={"email": MARIA, "signature": signature}).get_json()["access"]
    client.get("/chat/widget/orders", headers=bearer(token))
    client.post("/chat/widget/orders/5104230/request", headers=bearer(token),
                json={"request": "ask", "note": "Please cancel it"})
    with app.app_context():
        plugin_state().jobs.join()
        # a ticket typed by hand that says "cancel 5104230" is not a request either
        make_ticket(plugin_state().db.session.get(Chat, chat["id"]), email=MARIA,
                    message="cancel order 5104230", email_verified=True)
        plugin_state().jobs.join()
    assert standin.store.order(5104230)["order_status_id"] == 1001


def test_a_cancel_in_the_conversation_going_on_runs_message_rules(app, client, chat, standin):  # noqa: F811
    with app.app_context():
        orders_sync.sync_status_list()
        rules.create_rule({
            "name": "Cancel unpaid", "enabled": True, "trigger": "customer_message",
            "trigger_minutes": None, "match": "all",
            "conditions": [
                {"field": "customer_request", "operator": "in", "value": ["cancel"]},
                {"field": "requested_order_status", "operator": "is", "value": "1002"},
            ],
            "actions": [{"type": "change_order_status", "value": "1008"}],
        })
    token = _anna(client, chat)
    first = client.post(f"/chat/widget/orders/{ANNA_SHIPPED}/request", headers=bearer(token),
                        json={"request": "ask"}).get_json()
    with app.app_context():
        plugin_state().jobs.join()
    assert standin.store.order(5104188)["order_status_id"] == 1002
    again = client.post("/chat/widget/orders/5104188/request", headers=bearer(token),
                        json={"request": "cancel", "ticket_token": first["token"]})
    assert again.status_code == 200 and again.get_json()["continued"] is True
    with app.app_context():
        plugin_state().jobs.join()
    assert standin.store.order(5104188)["order_status_id"] == 1008
    assert standin.store.order(ANNA_SHIPPED)["order_status_id"] == 1005  # only asked about


def test_the_code_mail_and_the_request_speak_the_customers_language(app, client, chat, smtp):
    client.post(_widget(chat["key"], "code"), json={"email": JEAN, "language": "fr"})
    settle(app)
    (_to, mail), = smtp.messages
    assert mail["Subject"] == "Votre code pour voir vos commandes"
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert "Il est valable 10 minutes." in text and f">{code}<" in html and 'lang="fr"' in html
    token = verify(client, chat, code, email=JEAN).get_json()["access"]
    client.get("/chat/widget/orders", headers=bearer(token))
    response = client.post(f"/chat/widget/orders/{JEAN_ORDER}/request", headers=bearer(token),
                           json={"request": "return", "language": "fr"})
    assert response.get_json()["messages"][0]["body"] == "Je voudrais retourner ma commande 1205."
    assert response.get_json()["ticket"]["subject"] == "Retour de la commande 1205"
