"""Base orders in the product: sync against the stand-in over HTTP, the order cache, status
changes, the admin page "Integrations → Base", the ticket's orders panel and the sync jobs."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from responso_chat.demo.base_standin import StandinStore, create_standin_app, serve_standin
from responso_chat.infra.jobs import InProcessJobs, RQJobs, enqueue
from responso_chat.models import Chat, Message, Order, OrderSync, Setting, Ticket
from responso_chat.orders import panel as order_panel
from responso_chat.orders import sync as orders
from tests.conftest import AuthActions, csrf_from_page
from tests.factories import make_chat, make_ticket
from tests.rqworker import work_burst

TOKEN = "bl-orders-token-7c1e5a9d3f"
ANNA = "anna.kowalska@example.com"
JEAN = "jean.dupont@example.com"
JOHN = "john.smith@example.com"
DAY = 86400
ANNA_RECENT = {5103650, 5104101, 5104188}  # her orders of the last 3 months (not 5100420)
FETCH = {"X-Requested-With": "fetch"}
PERIODIC_SYNC = "responso_chat.orders.sync.sync_open_tickets"


@dataclass
class Standin:
    """A running stand-in: its store (data and test hooks) and its endpoint."""

    store: StandinStore
    url: str


@pytest.fixture
def serve_base():
    """``serve_base(**create_standin_app kwargs) -> Standin``; servers stop at teardown."""
    running = []

    def serve(**kwargs):
        kwargs.setdefault("token", TOKEN)
        wsgi = create_standin_app(**kwargs)
        server, thread, url = serve_standin(wsgi)
        running.append((server, thread))
        return Standin(wsgi.standin, url)

    yield serve
    for server, thread in running:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def standin(serve_base):
    """The stand-in with the demo shop's orders and statuses."""
    return serve_base()


@pytest.fixture
def app(make_app, standin):
    """The host app, its Base settings pointing at the stand-in."""
    return make_app(RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)


def state_of(app):
    return app.extensions["responso_chat"]


def open_ticket(app, email=ANNA, chat_id=None, **fields):
    """A ticket of ``email`` in a (new) chat Alice has access to; its sync job has finished."""
    state = state_of(app)
    with app.app_context():
        chat = state.db.session.get(Chat, chat_id) if chat_id else make_chat()
        ticket_id = make_ticket(chat, email=email, **fields).id
    state_of(app).jobs.join()
    return ticket_id


def cached_orders(app, email=ANNA) -> dict[int, object]:
    state = state_of(app)
    with app.app_context():
        rows = state.db.session.execute(
            sa.select(Order).where(Order.email == email)
        ).scalars()
        return {row.base_order_id: row for row in rows}


def order_sync(app, email=ANNA):
    state = state_of(app)
    with app.app_context():
        return state.db.session.get(OrderSync, email)


def messages_of(app, ticket_id):
    state = state_of(app)
    with app.app_context():
        return list(
            state.db.session.execute(
                sa.select(Message)
                .where(Message.ticket_id == ticket_id)
                .order_by(Message.seq)
            ).scalars()
        )


# --- sync -------------------------------------------------------------------------------------


def test_a_new_ticket_syncs_the_customers_orders_of_the_last_3_months(app, standin):
    open_ticket(app, email="Anna.Kowalska@Example.com ")
    cached = cached_orders(app)
    assert set(cached) == ANNA_RECENT
    scarf = cached[5104101]
    assert (scarf.status_id, scarf.currency, scarf.delivery_method) == (
        1005, "PLN", "InPost Paczkomaty"
    )
    assert scarf.delivery_package_nr == "620012345678901234567890"
    assert scarf.delivery_package_module == "inpost"  # Base's courier code, for tracking links
    assert str(scarf.total) == "191.97" and str(scarf.payment_done) == "191.97"
    assert scarf.products[0] == {
        "name": "Merino wool scarf, grey",
        "sku": "SCF-MER-GRY",
        "ean": "5901234123457",
        "price_brutto": "129.0",
        "quantity": 1,
    }
    assert scarf.shop_order_id == "1202" and scarf.order_page.endswith("/order/5104101")
    assert scarf.date_confirmed.tzinfo is not None
    sync = order_sync(app)
    assert sync.synced_at is not None and sync.error == "" and sync.error_at is None
    assert standin.store.calls == ["getOrderStatusList", "getOrders"]
    with app.app_context():
        names = {s.id: (s.name, s.color) for s in orders.status_choices()}
    assert names[1005] == ("Shipped", "#50e3c2") and len(names) == 8


def test_upsert_is_idempotent_and_follows_changes_in_base(app, standin):
    ticket_id = open_ticket(app)
    first = {number: row.id for number, row in cached_orders(app).items()}
    changed = standin.store.order(5104188)
    standin.store.add_order({**changed, "order_status_id": 1003, "payment_done": 263.99})
    with app.app_context():
        ticket = state_of(app).db.session.get(Ticket, ticket_id)
        orders.sync_customer_orders(ticket.customer_email)
        orders.sync_customer_orders(ANNA)
    again = cached_orders(app)
    assert {number: row.id for number, row in again.items()} == first  # same rows, updated
    assert again[5104188].status_id == 1003 and str(again[5104188].payment_done) == "263.99"
    with app.app_context():
        count = state_of(app).db.session.scalar(
            sa.select(sa.func.count()).select_from(Order)
        )
    assert count == 3


def test_only_the_last_3_months_are_fetched_and_shown(make_app, serve_base):
    now = int(time.time())
    base = {"email": "mia@example.com", "products": [{"name": "Mug", "price_brutto": 10.0,
                                                       "quantity": 1}]}
    standin = serve_base(
        orders=[
            {**base, "order_id": 1, "order_status_id": 1001, "date_confirmed": now - 80 * DAY},
            {**base, "order_id": 2, "order_status_id": 1001, "date_confirmed": now - 100 * DAY},
        ]
    )
    app = make_app(RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)
    ticket_id = open_ticket(app, email="mia@example.com")
    assert set(cached_orders(app, "mia@example.com")) == {1}
    state = state_of(app)
    with app.app_context():  # a cached order that has since left the window is not shown
        old = state.db.session.get(Order, cached_orders(app, "mia@example.com")[1].id)
        old.date_confirmed = datetime.now(UTC) - timedelta(days=95)
        state.db.session.commit()
        panel = order_panel.orders_panel(state.db.session.get(Ticket, ticket_id))
        assert panel.orders == []


def test_window_start_is_three_calendar_months_back():
    assert orders.window_start(datetime(2026, 5, 31, 12, 30, tzinfo=UTC)) == datetime(
        2026, 2, 28, 12, 30, tzinfo=UTC
    )
    assert orders.window_start(datetime(2026, 2, 10, tzinfo=UTC)) == datetime(
        2025, 11, 10, tzinfo=UTC
    )


def test_status_cache_follows_base_and_drops_unsafe_colours(app, serve_base):
    statuses = [
        {"id": 7, "name": "Nowe", "name_for_customer": "New", "color": "#00ff00"},
        {"id": 8, "name": "Wysłane", "name_for_customer": "", "color": "red;background:url(x)"},
    ]
    other = serve_base(statuses=statuses)
    with app.app_context():
        orders.sync_status_list()
        assert len(orders.status_choices()) == 8
        orders.save_base_settings(other.url)
        orders.sync_status_list()
        cached = [(s.id, s.name, s.color) for s in orders.status_choices()]
    assert cached == [(7, "Nowe", "#00ff00"), (8, "Wysłane", "")]


def test_open_and_pending_tickets_are_refreshed_once_per_email(app, standin):
    with app.app_context():
        chat_id = make_chat().id
    open_ticket(app, ANNA, chat_id)
    open_ticket(app, ANNA, chat_id, subject="Second question")
    pending = open_ticket(app, JEAN, chat_id)
    closed = open_ticket(app, JOHN, chat_id)
    state = state_of(app)
    with app.app_context():
        for ticket_id, status in ((pending, "pending"), (closed, "closed")):
            state.db.session.get(Ticket, ticket_id).status = status
        state.db.session.execute(sa.delete(Order))
        state.db.session.commit()
    standin.store.calls.clear()
    with app.app_context():
        orders.sync_open_tickets()
    assert standin.store.calls == ["getOrderStatusList", "getOrders", "getOrders"]
    assert set(cached_orders(app, ANNA)) == ANNA_RECENT
    assert len(cached_orders(app, JEAN)) == 3 and cached_orders(app, JOHN) == {}


def test_without_a_token_nothing_is_fetched_and_the_panel_says_so(make_app, standin):
    app = make_app(RESPONSO_CHAT_BASE_API_URL=standin.url)
    ticket_id = open_ticket(app)
    with app.app_context():
        orders.sync_open_tickets()
    assert standin.store.calls == [] and order_sync(app) is None
    auth = AuthActions(app.test_client())
    auth.login("alice@shop.test")
    html = auth._client.get(f"/chat/inbox/tickets/{ticket_id}/orders").get_data(as_text=True)
    assert "No order source is connected." in html and "Refresh" not in html


def test_base_down_keeps_cached_orders_and_records_since_when(app, standin):
    ticket_id = open_ticket(app)
    synced_at = order_sync(app).synced_at
    standin.store.down = True
    state = state_of(app)
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id)
        with pytest.raises(orders.OrdersError, match="Base could not be reached.*HTTP 503"):
            orders.refresh_ticket_orders(ticket)
    failed = order_sync(app)
    assert failed.synced_at == synced_at and failed.error_at is not None
    assert set(cached_orders(app)) == ANNA_RECENT
    with app.app_context():
        ticket = state.db.session.get(Ticket, ticket_id)
        with pytest.raises(orders.OrdersError):
            orders.refresh_ticket_orders(ticket)
        panel = order_panel.orders_panel(ticket)
    assert panel.sync.error_at == failed.error_at  # failing since the first failure
    assert {o.base_order_id for o in panel.orders} == ANNA_RECENT and not panel.stale
    standin.store.down = False
    with app.app_context():
        orders.refresh_ticket_orders(state.db.session.get(Ticket, ticket_id))
    recovered = order_sync(app)
    assert recovered.error == "" and recovered.error_at is None
    assert recovered.synced_at > synced_at


def test_the_sync_job_records_a_refused_token(make_app, standin):
    app = make_app(
        RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN="wrong-token-1234"
    )
    open_ticket(app)
    sync = order_sync(app)
    assert sync.synced_at is None
    assert sync.error == (
        "Base refused the request: Invalid or missing API token (ERROR_BAD_TOKEN)."
    )


# --- changing an order's status -------------------------------------------------------------


def load(app, ticket_id, base_order_id):
    state = state_of(app)
    ticket = state.db.session.get(Ticket, ticket_id)
    return ticket, order_panel.ticket_order(ticket, base_order_id)


def test_change_order_status_in_base_and_in_the_cache_with_a_line(app, standin):
    ticket_id = open_ticket(app)
    before = len(messages_of(app, ticket_id))
    with app.app_context():
        ticket, order = load(app, ticket_id, 5104188)
        line = orders.change_order_status(ticket, order, 1003, "2", "Alice Agent")
        assert line.internal and line.author_kind == "system" and line.author_id == "2"
    assert standin.store.order(5104188)["order_status_id"] == 1003
    assert cached_orders(app)[5104188].status_id == 1003
    lines = messages_of(app, ticket_id)
    assert len(lines) == before + 1
    assert lines[-1].body == (
        "Alice Agent changed the status of Base order 5104188 from “Awaiting payment” to “Paid”"
    )
    with app.app_context():  # already in that status: nothing to do
        ticket, order = load(app, ticket_id, 5104188)
        assert orders.change_order_status(ticket, order, 1003, "2", "Alice Agent") is None


def test_a_refused_status_change_writes_nothing(app, standin):
    ticket_id = open_ticket(app)
    before = [(m.seq, m.body) for m in messages_of(app, ticket_id)]
    with app.app_context():
        ticket, order = load(app, ticket_id, 5104188)
        with pytest.raises(orders.OrdersError) as raised:
            orders.change_order_status(ticket, order, 4242, "2", "Alice Agent")
    assert str(raised.value) == (
        "Base refused the request: Invalid status_id 4242 (ERROR_STATUS_ID)."
    )
    assert standin.store.order(5104188)["order_status_id"] == 1002
    assert cached_orders(app)[5104188].status_id == 1002
    assert [(m.seq, m.body) for m in messages_of(app, ticket_id)] == before


# --- the admin page -------------------------------------------------------------------------


BASE_PAGE = "/chat/admin/integrations/base"


def test_admin_page_never_shows_the_token(app, client, auth):
    auth.login("admin@shop.test")
    html = client.get(BASE_PAGE).get_data(as_text=True)
    assert TOKEN not in html and "…9d3f" in html and "configuration" in html
    assert 'name="api_token" value=""' in html
    new_token = "bl-new-token-51c0ffee"
    response = client.post(
        BASE_PAGE,
        data={"csrf_token": auth.csrf_token(), "api_url": standin_url(app), "api_token": new_token,
              "action": "save"},
    )
    assert response.status_code == 302
    html = client.get(BASE_PAGE).get_data(as_text=True)
    assert new_token not in html and "…ffee" in html and "Base settings saved." in html
    with app.app_context():
        assert orders.base_settings().token_source == "saved"
        assert orders.base_client()._token == new_token
    # a refused form does not echo the token either
    response = client.post(
        BASE_PAGE,
        data={"csrf_token": auth.csrf_token(), "api_url": "", "api_token": "other-token-1234567",
              "action": "save"},
    )
    assert response.status_code == 422
    assert "other-token-1234567" not in response.get_data(as_text=True)


def standin_url(app) -> str:
    return app.config["RESPONSO_CHAT_BASE_API_URL"]


def test_admin_page_validates_next_to_the_fields_and_saves_nothing(app, client, auth):
    auth.login("admin@shop.test")
    response = client.post(
        BASE_PAGE,
        data={"csrf_token": auth.csrf_token(), "api_url": "ftp://base.example.com/x",
              "api_token": "has a space", "action": "save"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="api_url"[^>]*value="ftp://base.example.com/x"', html)
    assert 'id="api_url-error">Enter a web address starting with https://.' in html
    assert 'id="api_token-error">An API token has no spaces or accented letters.' in html
    assert html.count('aria-invalid="true"') == 2
    with app.app_context():
        assert state_of(app).db.session.query(Setting).count() == 0


def test_admin_can_forget_the_saved_token_and_use_the_default_url(app, client, auth):
    auth.login("admin@shop.test")
    data = {"csrf_token": auth.csrf_token(), "api_url": "https://base.example.com/connector.php",
            "api_token": "saved-token-00001111", "action": "save"}
    assert client.post(BASE_PAGE, data=data).status_code == 302
    with app.app_context():
        assert orders.base_settings().url == "https://base.example.com/connector.php"
    data.update(api_url=standin_url(app), api_token="", clear_token="y")
    assert client.post(BASE_PAGE, data=data).status_code == 302
    with app.app_context():
        settings = orders.base_settings()
        assert (settings.url, settings.token_source) == (standin_url(app), "configuration")
        assert state_of(app).db.session.query(Setting).count() == 0


def test_a_token_in_use_is_never_sent_to_another_url_unless_typed_again(
    app, client, auth, serve_base
):
    elsewhere = serve_base()  # would accept the token, and list the call
    auth.login("admin@shop.test")
    data = {"csrf_token": auth.csrf_token(), "api_url": elsewhere.url}
    for action in ("test", "save"):
        response = client.post(BASE_PAGE, data={**data, "action": action})
        assert response.status_code == 422
        assert 'id="api_token-error">Enter the API token again to use it with another API URL.' \
            in response.get_data(as_text=True)
    assert elsewhere.store.calls == []
    with app.app_context():
        assert orders.base_settings().url == standin_url(app)
    response = client.post(BASE_PAGE, data={**data, "api_token": TOKEN, "action": "test"})
    assert response.status_code == 200 and elsewhere.store.calls == ["getOrderStatusList"]


def test_test_connection_lists_the_statuses_or_the_error_in_words(app, client, auth):
    auth.login("admin@shop.test")
    data = {"csrf_token": auth.csrf_token(), "api_url": standin_url(app), "action": "test"}
    response = client.post(BASE_PAGE, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "8 order statuses found" in html and "Awaiting payment" in html
    assert 'fill="#50e3c2"' in html
    response = client.post(BASE_PAGE, data={**data, "api_token": "wrong-token-98765"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Base refused the request: Invalid or missing API token (ERROR_BAD_TOKEN)." in html
    assert "wrong-token-98765" not in html
    with app.app_context():  # testing saves nothing
        assert state_of(app).db.session.query(Setting).count() == 0


def test_admin_page_is_for_admins_only(client, auth):
    auth.login("alice@shop.test")
    assert client.get(BASE_PAGE).status_code == 403
    response = client.post(BASE_PAGE, data={"csrf_token": auth.csrf_token(), "api_url": "x"})
    assert response.status_code == 403


def test_layout_links_integrations_for_admins_only(client, auth):
    auth.login("admin@shop.test")
    assert 'href="/chat/admin/integrations/base"' in client.get(BASE_PAGE).get_data(as_text=True)
    auth.logout()
    auth.login("alice@shop.test")
    html = client.get("/chat/inbox/").get_data(as_text=True)
    assert "/chat/admin/integrations/base" not in html


# --- the ticket's orders panel --------------------------------------------------------------


def panel_url(ticket_id, rest=""):
    return f"/chat/inbox/tickets/{ticket_id}/orders{rest}"


def test_panel_shows_the_orders_with_status_payment_delivery_and_link(app, client, auth):
    ticket_id = open_ticket(app)
    auth.login("alice@shop.test")
    html = client.get(panel_url(ticket_id)).get_data(as_text=True)
    assert html.index("Order 5104188") < html.index("Order 5104101") < html.index("Order 5103650")
    assert "Order 5100420" not in html  # older than 3 months
    assert "191.97 PLN" in html and "InPost Paczkomaty" in html
    assert "620012345678901234567890" in html and "Merino wool scarf, grey" in html
    assert 'fill="#50e3c2"' in html and "Shipped" in html
    assert "Not paid" in html and "Paid · Przelewy24" in html
    assert 'href="https://shop.example.com/order/5104101"' in html
    assert "Unverified e-mail." in html and "Last sync" in html
    assert 'data-stale="true"' not in html


def test_panel_escapes_base_data_and_refuses_script_links(make_app, serve_base, client):
    standin = serve_base(
        orders=[
            {
                "order_id": 77,
                "order_status_id": 1001,
                "email": ANNA,
                "date_confirmed": int(time.time()) - DAY,
                "order_page": "javascript:alert(1)",
                "delivery_package_nr": "<b>nr</b>",
                "products": [{"name": "<script>alert(1)</script>", "price_brutto": 1,
                              "quantity": 1}],
            }
        ]
    )
    app = make_app(RESPONSO_CHAT_BASE_API_URL=standin.url, RESPONSO_CHAT_BASE_API_TOKEN=TOKEN)
    ticket_id = open_ticket(app, email_verified=True)
    auth = AuthActions(app.test_client())
    auth.login("alice@shop.test")
    html = auth._client.get(panel_url(ticket_id)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;nr&lt;/b&gt;" in html
    assert "javascript:" not in html
    assert "Unverified e-mail." not in html


def test_refresh_fetches_now_and_re_renders_the_panel(app, standin, client, auth):
    ticket_id = open_ticket(app)
    standin.store.add_order({**standin.store.order(5104188), "order_id": 5104999})
    auth.login("alice@shop.test")
    token = csrf_from_page(client.get("/chat/inbox/").get_data(as_text=True))
    headers = {**FETCH, "X-CSRFToken": token}
    response = client.post(panel_url(ticket_id, "/refresh"), headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Order 5104999" in html and "Orders refreshed." in html
    assert 'id="rc-orders"' in html and "<html" not in html
    standin.store.down = True
    response = client.post(panel_url(ticket_id, "/refresh"), headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Orders could not be refreshed since" in html and "Showing the orders as of" in html
    assert "Order 5104999" in html  # the cache is still shown
    # without the page's script: back to the ticket page, the outcome flashed
    response = client.post(panel_url(ticket_id, "/refresh"), data={"csrf_token": token})
    assert response.status_code == 303
    assert f"/chat/inbox/tickets/{ticket_id}" in response.headers["Location"]


def test_status_change_from_the_panel(app, standin, client, auth):
    ticket_id = open_ticket(app)
    auth.login("alice@shop.test")
    token = auth.csrf_token()
    url = panel_url(ticket_id, "/5104101/status")
    response = client.post(url, data={"csrf_token": token, "status_id": "1006"}, headers=FETCH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Order 5104101 is now “Delivered”." in html
    assert standin.store.order(5104101)["order_status_id"] == 1006
    assert messages_of(app, ticket_id)[-1].body.startswith("Alice Agent changed the status")
    response = client.post(url, data={"csrf_token": token, "status_id": "999"}, headers=FETCH)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'id="rc-order-5104101-error" role="alert">Base refused the request: '
        r"Invalid status_id 999 \(ERROR_STATUS_ID\)\.",
        html,
    )
    calls = len(standin.store.calls)
    response = client.post(url, data={"csrf_token": token, "status_id": "abc"}, headers=FETCH)
    assert response.status_code == 422 and "Choose a status from the list." in response.text
    assert len(standin.store.calls) == calls  # refused before asking Base
    response = client.post(url, data={"status_id": "1001"}, headers=FETCH)
    assert response.status_code == 400  # no CSRF token
    assert standin.store.order(5104101)["order_status_id"] == 1006


def test_orders_routes_are_404_for_an_agent_without_access(app, client, auth):
    ticket_id = open_ticket(app)  # a chat of Alice's only
    auth.login("bob@shop.test")
    token = auth.csrf_token()
    assert client.get(panel_url(ticket_id)).status_code == 404
    assert client.post(panel_url(ticket_id, "/refresh"), data={"csrf_token": token}).status_code \
        == 404
    response = client.post(
        panel_url(ticket_id, "/5104101/status"), data={"csrf_token": token, "status_id": "1006"}
    )
    assert response.status_code == 404


def test_another_customers_order_is_404(app, client, auth):
    ticket_id = open_ticket(app)
    with app.app_context():
        chat_id = state_of(app).db.session.get(Ticket, ticket_id).chat_id
    open_ticket(app, email=JEAN, chat_id=chat_id)
    auth.login("alice@shop.test")
    response = client.post(
        panel_url(ticket_id, "/5104022/status"),  # Jean's order, through Anna's ticket
        data={"csrf_token": auth.csrf_token(), "status_id": "1006"},
    )
    assert response.status_code == 404


# --- jobs -----------------------------------------------------------------------------------


def test_in_process_runner_starts_the_periodic_timer_lazily(make_app):
    app = make_app(RESPONSO_CHAT_ORDER_SYNC_INTERVAL=60)
    runner = state_of(app).jobs
    assert isinstance(runner, InProcessJobs) and runner._timers == {}
    with app.app_context():
        enqueue("tests.jobs_for_tests.rename_chat", 0, "nothing")
    timer = runner._timers[PERIODIC_SYNC]
    assert timer.is_alive() and timer.interval == 60
    runner.close()
    timer.join(timeout=5)
    assert not timer.is_alive()


def test_demo_ticket_shows_annas_orders(tmp_path, standin):
    from responso_chat import migrations
    from responso_chat.demo.app import create_app, create_shop_tables, db
    from responso_chat.demo.data import seed_demo_chat
    from responso_chat.demo.seed import seed_shop_users

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.db",
            "RESPONSO_CHAT_BASE_API_URL": standin.url,
            "RESPONSO_CHAT_BASE_API_TOKEN": TOKEN,
        }
    )
    try:
        with app.app_context():
            migrations.upgrade()
            create_shop_tables()
            seed_shop_users()
            seed_demo_chat()
        app.extensions["responso_chat"].jobs.join()
        assert set(cached_orders(app)) == ANNA_RECENT
    finally:
        app.extensions["responso_chat"].jobs.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.redis
def test_sync_jobs_on_postgresql_with_a_real_rq_worker(make_app, postgres_url, redis_url, standin):
    from rq.registry import ScheduledJobRegistry

    from responso_chat.orders.base_client import RedisRateLimiter

    app = make_app(
        database_url=postgres_url,
        migrate=True,
        RESPONSO_CHAT_REDIS_URL=redis_url,
        RESPONSO_CHAT_BASE_API_URL=standin.url,
        RESPONSO_CHAT_BASE_API_TOKEN=TOKEN,
    )
    state = state_of(app)
    assert isinstance(state.jobs, RQJobs)
    assert isinstance(state.base_rate_limiter, RedisRateLimiter)
    with app.app_context():
        chat = make_chat()
        anna = make_ticket(chat, email=ANNA).id
        make_ticket(chat, email=JEAN)
    syncs = [j for j in state.jobs.queue.jobs if j.func_name.endswith(".sync_ticket_orders")]
    assert len(syncs) == 2  # one sync job per new ticket, relayed after the commit

    def work():
        assert work_burst(app)

    work()
    assert set(cached_orders(app, ANNA)) == ANNA_RECENT and len(cached_orders(app, JEAN)) == 3
    assert state.jobs.connection.keys("responso_chat:base_api:rate:*")  # counted in Redis
    with app.app_context():
        enqueue("responso_chat.infra.jobs.run_periodic", PERIODIC_SYNC)
    standin.store.calls.clear()
    work()
    assert standin.store.calls == ["getOrderStatusList", "getOrders", "getOrders"]
    with app.app_context():
        assert state.db.session.scalar(
            sa.select(sa.func.count()).select_from(Order)
        ) == 6  # upserted again, not duplicated
        ticket = state.db.session.get(Ticket, anna)
        assert order_panel.orders_panel(ticket).sync.synced_at is not None
    # the periodic run scheduled its next run, once, at the next multiple of the interval
    scheduled = ScheduledJobRegistry(queue=state.jobs.queue)
    (job_id,) = scheduled.get_job_ids()
    assert job_id.startswith("responso_chat-responso_chat_orders_sync_sync_open_tickets-")
    state.jobs.start_periodic()  # a worker starting now adds no second sync run
    assert [i for i in scheduled.get_job_ids() if "sync_open_tickets" in i] == [job_id]
    assert int(job_id.rsplit("-", 1)[1]) * 600 > time.time()

