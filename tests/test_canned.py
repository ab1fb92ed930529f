"""Canned responses: the page and the API with their rights, filling one in for a ticket
(variables from the ticket, the agent and the customer's Base orders; a missing one is never
sent blank), and the refusal of a reply that still holds an unfilled variable."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from responso_chat.integrations import api_tokens
from responso_chat.models import Attachment, CannedResponse, Message, Order, OrderStatus, utcnow
from tests import filedata
from tests.conftest import csrf_from_page
from tests.factories import make_chat, make_ticket

JSON = {"Accept": "application/json"}


class Desk:
    """A chat of Alice's with one ticket of Zoe's; each agent's client and API token."""

    def __init__(self, app, client, auth):
        self.app, self.client, self.auth = app, client, auth
        self.state = app.extensions["responso_chat"]
        with app.app_context():
            chat = make_chat("Lamp shop", agent_ids=("2",))
            ticket = make_ticket(chat, email="zoe@example.com", email_verified=True)
            self.ticket_id = ticket.id
            self.tokens = {uid: api_tokens.create_token(uid, "t")[1] for uid in ("1", "2", "3")}

    def login(self, email):
        self.auth.logout()
        self.auth.login(email)
        self.csrf = self.auth.csrf_token()

    def post(self, url, **data):
        return self.client.post(f"/chat/inbox{url}", data={"csrf_token": self.csrf, **data})

    def api(self, method, url, user="2", **kwargs):
        return self.client.open(
            f"/chat/api{url}", method=method,
            headers={"Authorization": f"Bearer {self.tokens[user]}"}, **kwargs
        )

    def rows(self):
        with self.app.app_context():
            self.state.db.session.expire_all()
            query = sa.select(CannedResponse).order_by(CannedResponse.id)
            return [(c.shortcut, c.owner_id, c.title) for c in self.state.db.session.scalars(query)]

    def add(self, shortcut, body, owner_id=None, title="A reply"):
        with self.app.app_context():
            row = CannedResponse(title=title, shortcut=shortcut, body=body, owner_id=owner_id)
            self.state.db.session.add(row)
            self.state.db.session.commit()
            return row.id

    def fill(self, canned_id, ticket_id=None):
        return self.client.get(
            f"/chat/inbox/tickets/{ticket_id or self.ticket_id}/canned/{canned_id}", headers=JSON
        )


@pytest.fixture
def desk(app, client, auth):
    return Desk(app, client, auth)


# --- the page --------------------------------------------------------------------------------


def test_an_agent_creates_edits_and_deletes_their_own(desk):
    desk.login("alice@shop.test")
    response = desk.post("/canned-responses/new", title="Where is it", shortcut="/Where-Is",
                         body="Hi {{ customer_name }}, order {{ order_number }}.")
    assert response.status_code == 303
    assert desk.rows() == [("where-is", "2", "Where is it")]
    page = desk.client.get("/chat/inbox/canned-responses").get_data(as_text=True)
    assert "/where-is" in page and "Only you" in page and "{{ customer_name }}" in page
    canned_id = desk.add("x-other", "x", owner_id="3")
    mine = desk.rows()[0]
    own_id = desk.client.get("/chat/inbox/canned-responses/choices").json["canned"][0]["id"]
    assert desk.post(f"/canned-responses/{own_id}", title="Renamed", shortcut="where",
                     body="Hello").status_code == 303
    assert desk.rows()[0] == ("where", "2", "Renamed") != mine
    confirm = desk.client.get(f"/chat/inbox/canned-responses/{own_id}/delete")
    assert "Delete the canned response /where?" in confirm.get_data(as_text=True)
    assert desk.post(f"/canned-responses/{own_id}/delete").status_code == 303
    assert desk.rows() == [("x-other", "3", "A reply")]
    # Bob's own response is nowhere for Alice: not listed, not found, not editable by id
    assert desk.client.get("/chat/inbox/canned-responses/choices").json == {"canned": []}
    for url in (f"/canned-responses/{canned_id}", f"/canned-responses/{canned_id}/delete"):
        assert desk.client.get(f"/chat/inbox{url}").status_code == 404
        assert desk.post(url, title="Mine now", shortcut="mine", body="x").status_code == 404
    assert desk.fill(canned_id).status_code == 404
    assert desk.rows() == [("x-other", "3", "A reply")]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "", "shortcut": "a", "body": "x"}, "title", "Enter a title."),
        ({"title": "T", "shortcut": "", "body": "x"}, "shortcut", "Enter a shortcut."),
        ({"title": "T", "shortcut": "two words", "body": "x"}, "shortcut", "letters, digits"),
        ({"title": "T", "shortcut": "é-ok", "body": "x"}, "shortcut", "letters, digits"),
        ({"title": "T", "shortcut": "a" * 41, "body": "x"}, "shortcut", "Longer than"),
        ({"title": "T", "shortcut": "a", "body": ""}, "body", "Write the response."),
        ({"title": "T", "shortcut": "a", "body": "x" * 5001}, "body", "Longer than"),
        ({"title": "T", "shortcut": "a", "body": "Hi {{ coupon }}"}, "body",
         "Unknown variable coupon"),
        ({"title": "T", "shortcut": "a", "body": "Hi {{ customer_name"}, "body",
         "The template has an error"),
        ({"title": "T", "shortcut": "a", "body": "{% for x in y %}{% endfor %}"}, "body",
         "loops and macros"),
        ({"title": "T", "shortcut": "a", "body": "x", "shared": "true"}, "shared",
         "Only admins share"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(desk, data, field, message):
    desk.login("alice@shop.test")
    response = desk.post("/canned-responses/new", **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    ids = {"title": "rc-canned-name", "shortcut": "rc-canned-shortcut", "body": "rc-canned-body",
           "shared": "rc-canned-shared"}
    error = html.split(f'id="{ids[field]}-error"', 1)[1].split("</div>", 1)[0]
    assert message.lower() in error.lower().replace("&#34;", '"')
    assert desk.rows() == []


def test_a_duplicate_shortcut_is_refused_within_its_scope_only(desk):
    desk.add("thanks", "Shared thanks")
    desk.add("hello", "Bob's hello", owner_id="3")
    desk.login("alice@shop.test")
    # Alice may have her own /thanks beside the shared one, and her /hello beside Bob's
    assert desk.post("/canned-responses/new", title="Mine", shortcut="thanks",
                     body="x").status_code == 303
    assert desk.post("/canned-responses/new", title="Mine", shortcut="hello",
                     body="x").status_code == 303
    response = desk.post("/canned-responses/new", title="Again", shortcut="THANKS", body="y")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="rc-canned-shortcut-error">One of your canned responses already uses /thanks' in html
    assert 'aria-invalid="true"' in html.split('id="rc-canned-shortcut"', 1)[1].split(">", 1)[0]
    desk.login("admin@shop.test")
    response = desk.post("/canned-responses/new", title="Dup", shortcut="thanks", body="y",
                         shared="true")
    assert "A shared canned response already uses /thanks" in response.get_data(as_text=True)
    assert len(desk.rows()) == 4


def test_only_admins_manage_shared_ones(desk):
    shared = desk.add("thanks", "Thank you, {{ customer_name }}!")
    desk.login("alice@shop.test")
    assert desk.client.get(f"/chat/inbox/canned-responses/{shared}").status_code == 403
    assert desk.post(f"/canned-responses/{shared}/delete").status_code == 403
    assert desk.fill(shared).json["text"] == "Thank you, Zoe Customer!"  # she uses it
    desk.login("admin@shop.test")
    assert desk.post(f"/canned-responses/{shared}", title="Thanks", shortcut="ty",
                     body="Thanks!", shared="true").status_code == 303
    assert desk.rows() == [("ty", None, "Thanks")]
    # unticking "share" makes it the admin's own
    desk.post(f"/canned-responses/{shared}", title="Thanks", shortcut="ty", body="Thanks!")
    assert desk.rows() == [("ty", "1", "Thanks")]


def test_pages_need_an_agent_and_csrf(desk, client):
    assert client.get("/chat/inbox/canned-responses").status_code == 302  # to the login
    desk.login("carl@shop.test")
    assert client.get("/chat/inbox/canned-responses").status_code == 403
    desk.login("alice@shop.test")
    response = client.post("/chat/inbox/canned-responses/new",
                           data={"title": "T", "shortcut": "t", "body": "x"})
    assert response.status_code == 400
    assert desk.rows() == []
    page = client.get("/chat/inbox/canned-responses/new").get_data(as_text=True)
    assert csrf_from_page(page)


# --- filling in ------------------------------------------------------------------------------


def _order(app, email="zoe@example.com", **fields):
    state = app.extensions["responso_chat"]
    with app.app_context():
        state.db.session.merge(OrderStatus(id=5, name="Sent", name_for_customer="On its way"))
        values = {"base_order_id": 7001, "shop_order_id": "A-17", "email": email,
                  "status_id": 5, "date_add": utcnow() - timedelta(days=1)}
        values.update(fields)
        state.db.session.add(Order(**values))
        state.db.session.commit()


BODY = ("Hi {{ customer_name }}, {{ agent_name }} of {{ chat_name }} here. Order "
        "{{ order_number }} is {{ order_status }}: {{ tracking_link }}")


def test_variables_come_from_the_ticket_the_agent_and_the_last_order(app, desk):
    canned_id = desk.add("where", BODY)
    _order(app, base_order_id=7000, shop_order_id="A-16", date_add=utcnow() - timedelta(days=9))
    _order(app, delivery_package_module="dpd", delivery_package_nr="0000123")
    desk.login("alice@shop.test")
    answer = desk.fill(canned_id).json
    assert answer == {
        "id": canned_id,
        "text": "Hi Zoe Customer, Alice Agent of Lamp shop here. Order A-17 is On its way: "
                "https://tracktrace.dpd.com.pl/parcelDetails?typ=1&p1=0000123",
        "missing": [],
    }
    desk.login("admin@shop.test")  # the agent using it, not the ticket's assignee
    assert "Ada Admin of Lamp shop" in desk.fill(canned_id).json["text"]


def test_a_variable_without_a_value_stays_visible_and_is_listed(app, desk):
    canned_id = desk.add("where", BODY)
    desk.login("alice@shop.test")
    answer = desk.fill(canned_id).json  # no order yet
    assert answer["text"] == ("Hi Zoe Customer, Alice Agent of Lamp shop here. Order "
                              "{{order_number}} is {{order_status}}: {{tracking_link}}")
    assert [m["name"] for m in answer["missing"]] == [
        "order_number", "order_status", "tracking_link"
    ]
    assert answer["missing"][0]["label"].startswith("The number of the customer's last order")
    _order(app)  # an order without a parcel number yet
    answer = desk.fill(canned_id).json
    assert answer["text"].endswith("Order A-17 is On its way: {{tracking_link}}")
    assert [m["name"] for m in answer["missing"]] == ["tracking_link"]


def test_orders_of_an_address_nobody_proved_are_never_told(app, desk):
    canned_id = desk.add("where", "Order {{ order_number }}")
    with app.app_context():
        chat = make_chat("Other", agent_ids=("2",))
        typed = make_ticket(chat, email="zoe@example.com").id  # typed in the widget
    _order(app)
    desk.login("alice@shop.test")
    assert desk.fill(canned_id, typed).json["text"] == "Order {{order_number}}"
    assert desk.fill(canned_id).json["text"] == "Order A-17"


def test_fill_in_needs_access_to_the_ticket(desk):
    canned_id = desk.add("hi", "Hi")
    desk.login("bob@shop.test")  # not an agent of the chat
    assert desk.fill(canned_id).status_code == 404
    desk.login("alice@shop.test")
    assert desk.fill(canned_id + 99).status_code == 404


# --- a reply with an unfilled variable -------------------------------------------------------


@pytest.mark.parametrize("body", ["Order {{order_number}} is on its way",
                                  "Hi {{ customer_name }}", "{{tracking_link}}"])
def test_a_reply_with_an_unfilled_variable_is_refused(app, desk, body):
    desk.login("alice@shop.test")
    response = desk.client.post(
        f"/chat/inbox/tickets/{desk.ticket_id}/messages", json={"body": body},
        headers={"X-CSRFToken": desk.csrf, **JSON},
    )
    assert response.status_code == 422
    (error,) = response.json["errors"]["body"]
    assert error.startswith("Replace {{") and "never sent to the customer" in error
    api = desk.api("POST", f"/tickets/{desk.ticket_id}/messages", json={"body": body})
    assert api.status_code == 422 and "body" in api.json["errors"]
    # an internal note may quote one; a reply without one goes out
    note = desk.api("POST", f"/tickets/{desk.ticket_id}/messages",
                    json={"body": body, "internal": True})
    assert note.status_code == 201
    assert desk.api("POST", f"/tickets/{desk.ticket_id}/messages",
                    json={"body": "Order A-17 is on its way {x}"}).status_code == 201
    with app.app_context():
        bodies = app.extensions["responso_chat"].db.session.scalars(
            sa.select(Message.body).where(
                Message.author_kind == "agent", Message.internal.is_(False)
            )
        ).all()
    assert bodies == ["Order A-17 is on its way {x}"]


def test_a_reply_with_files_and_an_unfilled_variable_is_refused_too(app, desk):
    """The composer sends its text with the files when some are attached: the same refusal,
    in the inbox and the API, and no file is kept."""
    desk.login("alice@shop.test")
    inbox = desk.client.post(
        f"/chat/inbox/tickets/{desk.ticket_id}/attachments",
        data={"body": "Your order {{order_number}} ships",
              "files": (io.BytesIO(filedata.pdf()), "label.pdf")},
        headers={"X-CSRFToken": desk.csrf, **JSON}, content_type="multipart/form-data",
    )
    assert inbox.status_code == 422
    assert inbox.json["errors"]["body"][0].startswith("Replace {{order_number}}")
    api = desk.api("POST", f"/tickets/{desk.ticket_id}/attachments",
                   data={"body": "Tracking: {{ tracking_link }}",
                         "files": (io.BytesIO(filedata.pdf()), "label.pdf")},
                   content_type="multipart/form-data")
    assert api.status_code == 422 and "body" in api.json["errors"]
    note = desk.api("POST", f"/tickets/{desk.ticket_id}/attachments",
                    data={"body": "Ask for {{order_number}}", "internal": "true",
                          "files": (io.BytesIO(filedata.pdf()), "label.pdf")},
                    content_type="multipart/form-data")
    assert note.status_code == 201  # an internal note may quote one
    with app.app_context():
        session = app.extensions["responso_chat"].db.session
        assert session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 1
        assert session.scalars(sa.select(Message.body).where(
            Message.author_kind == "agent", Message.internal.is_(False))).all() == []


def test_braces_in_a_customers_name_are_their_text(app, desk):
    """Only the canned variables count as unfilled: a customer who calls themself
    "Zoe {{vip}}" gets the reply the preview showed."""
    with app.app_context():
        ticket_id = make_ticket(make_chat("Braces", agent_ids=("2",)), name="Zoe {{vip}}").id
    canned_id = desk.add("hi", "Hello {{ customer_name }}!")
    desk.login("alice@shop.test")
    filled = desk.fill(canned_id, ticket_id).json
    assert (filled["text"], filled["missing"]) == ("Hello Zoe {{vip}}!", [])
    sent = desk.client.post(f"/chat/inbox/tickets/{ticket_id}/messages",
                            json={"body": filled["text"]},
                            headers={"X-CSRFToken": desk.csrf, **JSON})
    assert sent.status_code == 201


@pytest.mark.parametrize("body, error", [
    ("{{ " + "(" * 1200 + "1" + ")" * 1200 + " }}", "nested too deeply"),
    ("{{ '%0300000000d' % 1 }}", "not available"),
    ("{% set a = customer_name ~ customer_name %}" + "{% set a = a ~ a %}" * 60 + "{{ a }}",
     "{% set %} and {% with %} are not available"),
])
def test_a_body_that_would_not_render_safely_is_refused_with_its_reason(desk, body, error):
    desk.login("alice@shop.test")
    page = desk.post("/canned-responses/new", title="T", shortcut="t", body=body)
    assert page.status_code == 422
    assert error in page.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
    api = desk.api("POST", "/canned-responses", json={"title": "T", "shortcut": "t",
                                                      "body": body})
    assert api.status_code == 422 and error in api.json["errors"]["body"][0]
    assert desk.rows() == []


# --- the API ---------------------------------------------------------------------------------


def test_api_lists_creates_reads_changes_and_deletes(desk):
    shared = desk.add("thanks", "Thanks!")
    bobs = desk.add("bob", "Bob's", owner_id="3")
    created = desk.api("POST", "/canned-responses",
                       json={"title": "Hello", "shortcut": "Hi", "body": "Hi {{ customer_name }}"})
    assert created.status_code == 201
    mine = created.json
    assert (mine["shortcut"], mine["owner_id"], mine["shared"]) == ("hi", "2", False)
    listed = desk.api("GET", "/canned-responses?limit=1").json
    assert [c["id"] for c in listed["data"]] == [shared] and listed["next_cursor"]
    rest = desk.api("GET", f"/canned-responses?cursor={listed['next_cursor']}").json
    assert [c["id"] for c in rest["data"]] == [mine["id"]] and rest["next_cursor"] is None
    assert desk.api("GET", "/canned-responses?cursor=forged").status_code == 400
    assert desk.api("GET", f"/canned-responses/{bobs}").status_code == 404
    assert desk.api("PATCH", f"/canned-responses/{bobs}", json={"title": "x"}).status_code == 404
    assert desk.api("DELETE", f"/canned-responses/{bobs}").status_code == 404
    assert desk.api("PATCH", f"/canned-responses/{shared}", json={"title": "x"}).status_code == 403
    assert desk.api("DELETE", f"/canned-responses/{shared}").status_code == 403
    changed = desk.api("PATCH", f"/canned-responses/{mine['id']}", json={"title": "Hey"})
    assert (changed.status_code, changed.json["title"], changed.json["body"]) == (
        200, "Hey", "Hi {{ customer_name }}")
    duplicate = desk.api("POST", "/canned-responses",
                         json={"title": "Again", "shortcut": "hi", "body": "x"})
    assert duplicate.status_code == 422
    assert "already uses /hi" in duplicate.json["errors"]["shortcut"][0]
    refused = desk.api("POST", "/canned-responses",
                       json={"title": "S", "shortcut": "s", "body": "x", "shared": True})
    assert refused.status_code == 422 and "shared" in refused.json["errors"]
    filled = desk.api("GET", f"/tickets/{desk.ticket_id}/canned-responses/{mine['id']}")
    assert filled.json == {"id": mine["id"], "text": "Hi Zoe Customer", "missing": []}
    assert desk.api("GET", f"/tickets/{desk.ticket_id}/canned-responses/{mine['id']}",
                    user="3").status_code == 404  # Bob: no access to the chat
    deleted = desk.api("DELETE", f"/canned-responses/{mine['id']}")
    assert (deleted.status_code, deleted.json["shortcut"]) == (200, "hi")
    assert desk.api("GET", f"/canned-responses/{mine['id']}").status_code == 404
    admin = desk.api("POST", "/canned-responses", user="1",
                     json={"title": "S", "shortcut": "s", "body": "x", "shared": True})
    assert admin.status_code == 201 and admin.json["owner_id"] is None
    assert desk.api("DELETE", f"/canned-responses/{shared}", user="1").status_code == 200


def test_a_twin_saved_meanwhile_is_refused_by_the_database_too(app, desk, monkeypatch):
    """Two saves of the same shortcut at once: the second passes the look-up, and the unique
    index refuses it with the same message (nothing half-written)."""
    from responso_chat.inbox import canned

    desk.add("thanks", "Shared thanks")
    monkeypatch.setattr(canned, "_check_shortcut_free", lambda *args, **kwargs: None)
    desk.login("admin@shop.test")
    response = desk.post("/canned-responses/new", title="Twin", shortcut="thanks", body="y",
                         shared="true")
    assert response.status_code == 422
    assert "A shared canned response already uses /thanks" in response.get_data(as_text=True)
    assert desk.post("/canned-responses/new", title="Own", shortcut="thanks",
                     body="y").status_code == 303  # the admin's own: another scope
    assert len(desk.rows()) == 2


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_unique_indexes_hold_within_each_scope(request, make_app, database):
    from sqlalchemy.exc import IntegrityError

    app = request.getfixturevalue("pg_app") if database == "postgresql" else make_app()
    session = app.extensions["responso_chat"].db.session

    def add(owner_id):
        with app.app_context():
            session.add(CannedResponse(title="T", shortcut="thanks", body="x", owner_id=owner_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
            return True

    assert [add(None), add("2"), add("3"), add(None), add("2")] == [
        True, True, True, False, False
    ]
