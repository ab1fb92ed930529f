"""Order lookup by number or phone in the side panel and the inbox search, and the orders
agents link to a ticket: Base (the stand-in over HTTP) asked by order id, the cache by the
shop's number and phone, per-chat access, bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from responso_chat.integrations import api_tokens
from responso_chat.models import Chat, Message, TicketOrder
from responso_chat.orders.phones import looks_like_phone, normalize_phone
from responso_chat.state import plugin_state
from tests.factories import make_chat
from tests.test_orders import TOKEN, serve_base, standin  # noqa: F401 - fixtures
from tests.test_orders import open_ticket as open_ticket_in_new_chat

ANNA = "anna.kowalska@example.com"
JEAN = "jean.dupont@example.com"
ANNA_SHIPPED = 5104101
FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture
def app(make_app, standin):  # noqa: F811 - the stand-in fixture
    return make_app(RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)


def open_ticket(app, email=ANNA, chat_id=None, **fields):
    """A ticket in the test's one chat (Alice's), its order sync done."""
    if chat_id is None:
        with app.app_context():
            state = plugin_state()
            chat = state.db.session.scalars(sa.select(Chat).where(Chat.name == "Store chat"))
            found = chat.first()
            chat_id = found.id if found else make_chat().id
    return open_ticket_in_new_chat(app, email=email, chat_id=chat_id, **fields)


def _lookup(client, ticket_id, q, headers=FETCH):
    return client.get(f"/chat/inbox/tickets/{ticket_id}/orders/lookup", query_string={"q": q},
                      headers=headers)


def _links(app):
    with app.app_context():
        return list(plugin_state().db.session.scalars(sa.select(TicketOrder)))


@pytest.mark.parametrize(("typed", "digits"), [
    ("+48 601 234 567", "601234567"),
    ("0048-601-234-567", "601234567"),
    ("48601234567", "601234567"),
    ("601 234 567", "601234567"),
    ("(601) 234.567", "601234567"),
    ("+33 6 12 34 56 78", "0033612345678"),
    ("+44 7700 900123", "00447700900123"),
    ("12345", ""),  # too short to be a phone
    ("60123456789012345678", ""),  # too long
    ("601-abc-567", ""),
    ("", ""),
    ("٦٠١٢٣٤٥٦٧", ""),  # digits of another script are not dialled
])
def test_phone_numbers_are_normalised(typed, digits):
    assert normalize_phone(typed) == digits


def test_what_reads_as_a_phone():
    assert looks_like_phone("+48 601 234 567") and looks_like_phone("601234567")
    assert not looks_like_phone("5104101") and not looks_like_phone("1202")


def test_an_order_number_is_asked_of_base_then_linked_and_unlinked(app, client, auth, standin):  # noqa: F811
    ticket_id = open_ticket(app, email="someone.else@example.com")
    standin.store.calls.clear()
    auth.login("alice@shop.test")
    response = _lookup(client, ticket_id, str(ANNA_SHIPPED))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert standin.store.calls == ["getOrders"]  # not cached yet: Base is asked by order id
    assert f"Order {ANNA_SHIPPED}" in html and ANNA in html and "Link to this ticket" in html
    _lookup(client, ticket_id, str(ANNA_SHIPPED))
    assert standin.store.calls == ["getOrders"]  # cached now

    linked = client.post(f"/chat/inbox/tickets/{ticket_id}/orders/{ANNA_SHIPPED}/link",
                         headers={**FETCH, "X-CSRFToken": auth.csrf_token()})
    assert linked.status_code == 200
    panel = linked.get_data(as_text=True)
    assert "Linked to this ticket" in panel and f'id="rc-order-{ANNA_SHIPPED}"' in panel
    assert "inpost.pl/sledzenie-przesylek?number=620012345678901234567890" in panel
    (link,) = _links(app)
    assert (link.ticket_id, link.base_order_id, link.linked_by, link.request) == (
        ticket_id, ANNA_SHIPPED, "2", None)
    # the API's ticket lists it
    with app.app_context():
        token = api_tokens.create_token("2", "test")[1]
    api_ticket = client.get(f"/chat/api/tickets/{ticket_id}",
                            headers={"Authorization": f"Bearer {token}"}).json
    assert [(o["base_order_id"], o["request"], o["linked_by"]) for o in api_ticket["orders"]] == [
        (ANNA_SHIPPED, None, "2")]
    # the panel shows it on the next visit too, though the customer's e-mail differs
    page = client.get(f"/chat/inbox/tickets/{ticket_id}/orders").get_data(as_text=True)
    assert f"Order {ANNA_SHIPPED}" in page and "Unlink" in page
    # ... and its status can be changed from there
    changed = client.post(f"/chat/inbox/tickets/{ticket_id}/orders/{ANNA_SHIPPED}/status",
                          data={"status_id": "1006", "csrf_token": auth.csrf_token()},
                          headers=FETCH)
    assert changed.status_code == 200 and standin.store.order(ANNA_SHIPPED)[
        "order_status_id"] == 1006

    again = client.post(f"/chat/inbox/tickets/{ticket_id}/orders/{ANNA_SHIPPED}/link",
                        headers={**FETCH, "X-CSRFToken": auth.csrf_token()})
    assert again.status_code == 200 and len(_links(app)) == 1
    unlinked = client.post(f"/chat/inbox/tickets/{ticket_id}/orders/{ANNA_SHIPPED}/unlink",
                           headers={**FETCH, "X-CSRFToken": auth.csrf_token()})
    assert unlinked.status_code == 200 and _links(app) == []
    with app.app_context():
        lines = [m.body for m in plugin_state().db.session.scalars(
            sa.select(Message).where(Message.ticket_id == ticket_id, Message.internal))]
    assert f"Alice Agent linked Base order {ANNA_SHIPPED} to this ticket" in lines
    assert f"Alice Agent unlinked Base order {ANNA_SHIPPED} from this ticket" in lines


@pytest.mark.parametrize("typed", ["+48 601 234 567", "0048-601-234-567", "601234567", "1202"])
def test_the_cache_is_searched_by_phone_and_by_the_shops_number(app, client, auth, typed):
    open_ticket(app)  # Anna's orders are cached
    ticket_id = open_ticket(app, email=JEAN)
    auth.login("alice@shop.test")
    html = _lookup(client, ticket_id, typed).get_data(as_text=True)
    assert f"Order {ANNA_SHIPPED}" in html
    assert "5104022" not in html.split("Find an order")[1]  # Jean's order is not a result


@pytest.mark.parametrize("typed", ["", "hello world", "<script>alert(1)</script>", "9" * 51,
                                   "12ab!", "+48 60"])
def test_bad_lookups_are_refused_next_to_the_field(app, client, auth, typed):
    ticket_id = open_ticket(app)
    auth.login("alice@shop.test")
    response = _lookup(client, ticket_id, typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="rc-order-lookup-error"' in html and 'aria-invalid="true"' in html
    assert "<script>alert" not in html
    # without the page's script, the ticket page comes back with the error
    page = _lookup(client, ticket_id, typed, headers={})
    assert page.status_code == 422 and 'id="rc-order-lookup-error"' in page.get_data(as_text=True)


def test_a_number_nobody_has_finds_nothing_and_base_down_still_searches_the_cache(
        app, client, auth, standin):  # noqa: F811
    ticket_id = open_ticket(app)
    auth.login("alice@shop.test")
    html = _lookup(client, ticket_id, "99999999").get_data(as_text=True)
    assert "No order found for 99999999." in html
    standin.store.fail_next(5, "500")
    response = _lookup(client, ticket_id, "5104022")  # Jean's: not cached, Base down
    assert response.status_code == 200
    assert "Base was not asked" in response.get_data(as_text=True)


def test_agents_without_access_to_the_chat_cannot_look_up_or_link(app, client, auth):
    ticket_id = open_ticket(app)
    auth.login("bob@shop.test")
    assert _lookup(client, ticket_id, str(ANNA_SHIPPED)).status_code == 404
    token = auth.csrf_token()
    for action in ("link", "unlink"):
        response = client.post(f"/chat/inbox/tickets/{ticket_id}/orders/{ANNA_SHIPPED}/{action}",
                               headers={**FETCH, "X-CSRFToken": token})
        assert response.status_code == 404
    assert _links(app) == []


def test_an_order_never_fetched_cannot_be_linked(app, client, auth):
    ticket_id = open_ticket(app)
    auth.login("alice@shop.test")
    response = client.post(f"/chat/inbox/tickets/{ticket_id}/orders/77777777/link",
                           headers={**FETCH, "X-CSRFToken": auth.csrf_token()})
    assert response.status_code == 404 and _links(app) == []


def test_the_inbox_search_finds_tickets_of_an_orders_customer_and_linked_to_it(app, client, auth):
    anna_ticket = open_ticket(app, subject="Hello")
    other = open_ticket(app, email="friend@example.com", subject="A gift")
    unrelated = open_ticket(app, email=JEAN, subject="Kettle")
    auth.login("alice@shop.test")
    client.post(f"/chat/inbox/tickets/{other}/orders/{ANNA_SHIPPED}/link",
                headers={**FETCH, "X-CSRFToken": auth.csrf_token()})
    for typed in (str(ANNA_SHIPPED), "1202", "+48 601-234-567"):
        html = client.get("/chat/inbox/", query_string={"q": typed}).get_data(as_text=True)
        rows = html.split('id="rc-list-rows"')[1]
        assert f'data-ticket-id="{anna_ticket}"' in rows, typed
        assert f'data-ticket-id="{unrelated}"' not in rows, typed
        assert "Orders matching" in rows and f"Order {ANNA_SHIPPED}" in rows
        if typed != "+48 601-234-567":
            assert f'data-ticket-id="{other}"' in rows, typed
    # Bob sees no ticket of that chat, so no order either
    auth.logout()
    auth.login("bob@shop.test")
    html = client.get("/chat/inbox/", query_string={"q": str(ANNA_SHIPPED)}).get_data(
        as_text=True)
    assert "Orders matching" not in html and f'data-ticket-id="{anna_ticket}"' not in html


def test_an_order_in_another_chat_is_not_listed_for_an_agent_without_that_chat(app, client, auth):
    with app.app_context():
        chat_id = make_chat("Bob's chat", agent_ids=("3",)).id
    open_ticket(app, chat_id=chat_id)
    auth.login("alice@shop.test")
    with app.app_context():
        assert plugin_state().db.session.get(Chat, chat_id) is not None
    html = client.get("/chat/inbox/", query_string={"q": str(ANNA_SHIPPED)}).get_data(
        as_text=True)
    assert "Orders matching" not in html


def test_lookup_link_and_search_on_postgresql(make_app, postgres_url, standin):  # noqa: F811
    """The same on PostgreSQL, its schema made by the migrations."""
    app = make_app(database_url=postgres_url, migrate=True,
                   RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)
    client = app.test_client()
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    from tests.conftest import AuthActions

    auth = AuthActions(client)
    anna_ticket = open_ticket(app, subject="Hello")
    other = open_ticket(app, email="friend@example.com")
    auth.login("alice@shop.test")
    html = _lookup(client, other, "+48 601 234 567").get_data(as_text=True)
    assert f"Order {ANNA_SHIPPED}" in html
    assert client.post(f"/chat/inbox/tickets/{other}/orders/{ANNA_SHIPPED}/link",
                       headers={**FETCH, "X-CSRFToken": auth.csrf_token()}).status_code == 200
    rows = client.get("/chat/inbox/", query_string={"q": "1202"}).get_data(as_text=True)
    rows = rows.split('id="rc-list-rows"')[1]
    assert f'data-ticket-id="{anna_ticket}"' in rows and f'data-ticket-id="{other}"' in rows
    assert "Orders matching" in rows
