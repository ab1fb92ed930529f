"""Erasing and exporting a contact's data: nothing identifying left anywhere in the database
after an erasure (SQLite and PostgreSQL), erasing twice, refused confirmations, rights, the
export's ZIP, and the pages and API that do both."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from responso_chat import models
from responso_chat.automations import rules
from responso_chat.conversation import messages
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.conversation.visitor import issue_token, ticket_for_token
from responso_chat.conversation.websocket import CLOSE_FORBIDDEN
from responso_chat.files import attachments_of_tickets
from responso_chat.files.upload import post_customer_files
from responso_chat.inbox import contacts, tasks
from responso_chat.infra import outbox
from responso_chat.integrations import api_tokens, webhooks
from responso_chat.models import (
    AutomationRun,
    Contact,
    MailRecord,
    Message,
    Order,
    OrderCode,
    OrderSync,
    OutboxEntry,
    PrivacyRecord,
    Task,
    Ticket,
    TicketContext,
    TicketRating,
    WebhookDelivery,
    utcnow,
)
from responso_chat.privacy import erase, export, scope
from responso_chat.state import plugin_state
from responso_chat.users import Agent
from tests import filedata
from tests.conftest import AuthActions
from tests.factories import make_chat, make_ticket
from tests.test_mail_link_takeover import SHOP, Widget
from tests.test_websocket_trust import close_code

EMAIL = "Zoe.Kowalska@Example.com"  # the contact's address, typed in another case on tickets
NAME = "Zoe Kowalska"
#: Everything that identifies Zoe: none of it may be left anywhere after her erasure.
IDENTIFYING = (
    "zoe.kowalska@example.com",
    "zoe kowalska",
    "lipowa 5",
    "600 100 200",
    "broken kettle",
    "my parcel has not arrived",
    "refund to my card",
)
ADMIN = Agent("1", "Ada Admin", "admin@shop.test")
ALICE = Agent("2", "Alice Agent", "alice@shop.test")
SOON_JOB = "responso_chat.mail.outgoing.send_unseen"


def _session():
    return plugin_state().db.session


def _count(model, *where) -> int:
    return _session().scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def build_zoe(other_email: str = "bob.nowak@example.com") -> dict:
    """Zoe's contact and two tickets (one under her address in capitals), with a row in every
    table that can hold her data; and Bob's ticket, which must stay as it is."""
    session = _session()
    chat = make_chat(agent_ids=("2",))
    first = make_ticket(chat, "Broken kettle", name=NAME, email=EMAIL.upper(),
                        message="Hello, my parcel has not arrived.",
                        page_url="https://shop.test/orders?email=zoe.kowalska@example.com",
                        page_title="Orders of Zoe Kowalska")
    second = make_ticket(chat, "Broken kettle again", name=NAME, email=EMAIL.lower(),
                         message="I want a refund to my card.")
    bob = make_ticket(chat, "Bob's question", name="Bob Nowak", email=other_email,
                      message="Bob asks about shipping.")
    reply = messages.post_agent_message(first, "2", "Alice Agent",
                                        "Hi Zoe Kowalska, sorry about the broken kettle.")
    messages.post_agent_message(first, "2", "Alice Agent",
                                "Note: Zoe lives at Lipowa 5, phone 600 100 200.", internal=True)
    customer = session.scalars(
        sa.select(Message).where(Message.ticket_id == first.id, Message.author_kind == "customer")
    ).first()
    customer.client_msg_id, customer.client_key = "c-1", "customer::c-1"
    customer.analysis_corrected_by, customer.analysis_corrected_at = "2", utcnow()
    rule = rules.create_rule({
        "name": "Auto", "enabled": False, "trigger": "new_ticket", "trigger_minutes": None,
        "match": "all", "conditions": [], "actions": [{"type": "set_priority", "value": "high"}],
    })
    session.add(AutomationRun(rule_id=rule.id, ticket_id=first.id, message_id=customer.id,
                              outcome=[{"action": "send_autoresponse", "result": "done",
                                        "text": "answered zoe.kowalska@example.com"}]))
    for kind, state, number in (("unseen", "sent", 1), ("reply", "received", 2),
                                ("transcript", "queued", 3)):
        session.add(MailRecord(
            ticket_id=first.id, kind=kind, state=state,
            message_id=f"<{number}.zoe.kowalska@example.com>", address=EMAIL,
            subject="Re: Broken kettle", raw="To: Zoe Kowalska <zoe.kowalska@example.com>\n\nHi",
            error="550 zoe.kowalska@example.com unknown" if state == "sent" else "",
        ))
    session.add(MailRecord(ticket_id=None, kind="reply", state="ignored",
                           message_id="<stray@example.com>", address=EMAIL.lower(),
                           subject="Broken kettle", raw="From: Zoe Kowalska"))
    session.add(Order(base_order_id=771, email=EMAIL.lower(), delivery_fullname=NAME,
                      delivery_address="Lipowa 5", phone="600 100 200",
                      date_add=utcnow() - timedelta(days=3), products=[{"name": "Kettle"}]))
    session.add(Order(base_order_id=772, email=other_email, delivery_fullname="Bob Nowak"))
    sync = session.get(OrderSync, EMAIL.lower()) or OrderSync(email=EMAIL.lower())
    sync.error = "Base refused zoe.kowalska@example.com"
    session.add(sync)
    hook = webhooks.create_webhook(
        {"url": "https://hooks.example.test/zoe", "events": ["ticket.created"], "enabled": False})
    for ticket in (first, bob):
        session.add(WebhookDelivery(
            webhook_id=hook.id, event="ticket.created", event_id=f"e-{ticket.id}",
            payload={"event": "ticket.created", "data": {"ticket": {
                "id": ticket.id, "customer_email": ticket.customer_email,
                "customer_name": ticket.customer_name}}}))
    outbox.add(SOON_JOB, first.id, delay=3600)
    outbox.add(SOON_JOB, bob.id, delay=3600)
    session.add(TicketRating(ticket_id=first.id, score=2, comment="Zoe Kowalska, unhappy"))
    session.add(TicketContext(
        ticket_id=first.id, cart={"items": [], "total": "1", "currency": "PLN"},
        trail=[{"path": "/account/zoe-kowalska", "title": "Zoe Kowalska"}], events=[]))
    session.add(OrderCode(chat_id=chat.id, email=EMAIL.lower(), code_hash="0" * 64,
                          expires_at=utcnow() + timedelta(minutes=10)))
    session.commit()
    task = tasks.create_task(ALICE, title="Call Zoe Kowalska back", ticket=first,
                             description="zoe.kowalska@example.com wants a refund to my card")
    contact = contacts.create_contact(name=NAME, email=EMAIL, phone="+48 600 100 200",
                                      notes="Lives at Lipowa 5")
    return {
        "contact_id": contact.id, "tickets": [first.id, second.id], "bob": bob.id,
        "task_id": task.id, "token": issue_token(first), "reply_id": reply.id,
        "chat_id": chat.id,
    }


def database_dump() -> str:
    """Every row of every plugin table, as lower-case text (once the background jobs the
    changes queued have run: they write too)."""
    plugin_state().jobs.join()
    lines = []
    with plugin_state().db.engine.connect() as connection:
        for table in models.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines).lower()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """A host app on SQLite, then on PostgreSQL (its tables made by the migrations)."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")


def test_erasure_leaves_nothing_identifying_anywhere(any_app):
    with any_app.app_context():
        world = build_zoe()
        dump = database_dump()
        assert all(needle in dump for needle in IDENTIFYING)  # the world holds them all
        contact = _session().get(Contact, world["contact_id"])
        erasure = erase.erase_contact(contact, ADMIN, "  zoe.kowalska@EXAMPLE.com ")

        dump = database_dump()
        left = [needle for needle in IDENTIFYING if needle in dump]
        assert left == [], left
        assert "zoe" not in dump.replace("hooks.example.test/zoe", "")
        counts = erasure.counts
        assert counts["tickets"] == 2 and counts["orders"] == 1 and counts["mails"] == 4
        assert counts["webhook_deliveries"] == 1 and counts["jobs"] == 1
        session = _session()
        session.expire_all()
        # her tickets: anonymised, every message "[erased]" but the line that says who did it
        for ticket_id in world["tickets"]:
            ticket = session.get(Ticket, ticket_id)
            assert (ticket.subject, ticket.customer_name, ticket.customer_email) == (
                "[erased]", "", "")
            assert ticket.page_url is None and ticket.page_title is None
            rows = session.scalars(
                sa.select(Message).where(Message.ticket_id == ticket_id).order_by(Message.seq)
            ).all()
            *erased, line = rows
            assert {m.body for m in erased} == {"[erased]"}
            assert line.author_kind == "system" and line.internal and line.author_id == "1"
            assert line.body.startswith("Ada Admin erased the contact's data on ")
            assert all(m.client_key is None and m.analysis_corrected_at is None
                       for m in rows if m.author_kind == "customer")
        assert ticket_for_token(world["token"]) is None  # her visitor token stops working
        # Bob's ticket, order, delivery and job are untouched
        bob = session.get(Ticket, world["bob"])
        assert bob.customer_email == "bob.nowak@example.com" and bob.subject == "Bob's question"
        assert "bob asks about shipping." in dump
        assert _count(Order, Order.email == "bob.nowak@example.com") == 1
        assert _count(WebhookDelivery) == 1
        assert [row.args for row in session.scalars(
            sa.select(OutboxEntry).where(OutboxEntry.job == SOON_JOB))] == [[world["bob"]]]
        # the queued mail is not sent; the task stays, linked, without her name
        assert _count(MailRecord, MailRecord.state == "queued") == 0
        task = session.get(Task, world["task_id"])
        assert task.ticket_id == world["tickets"][0] and "[erased]" in task.title
        contact = session.get(Contact, world["contact_id"])
        assert (contact.name, contact.phone, contact.notes) == ("", "", "")
        assert scope.is_erased(contact)
        rating = session.scalars(sa.select(TicketRating)).one()
        assert (rating.score, rating.comment) == (2, "")  # the shop's figure stays, her words go
        assert _count(OrderCode) == 0 and _count(TicketContext) == 0
        record = session.scalars(sa.select(PrivacyRecord)).one()
        assert (record.action, record.contact_id, record.actor_name) == (
            "erase", contact.id, "Ada Admin")


def test_erasing_twice_changes_nothing_and_says_when(app):
    with app.app_context():
        world = build_zoe()
        contact = _session().get(Contact, world["contact_id"])
        erase.erase_contact(contact, ADMIN, EMAIL)
        before = database_dump()
        with pytest.raises(erase.AlreadyErased) as again:
            erase.erase_contact(contact, ALICE, EMAIL)
        assert "already erased on " in str(again.value) and "by Ada Admin" in str(again.value)
        assert database_dump() == before
        assert _count(PrivacyRecord) == 1


@pytest.mark.parametrize("typed", ["", "zoe@example.com", "bob.nowak@example.com", NAME])
def test_a_wrong_confirmation_erases_nothing(app, typed):
    with app.app_context():
        world = build_zoe()
        before = database_dump()
        contact = _session().get(Contact, world["contact_id"])
        with pytest.raises(ChangeRefused) as refused:
            erase.erase_contact(contact, ADMIN, typed)
        assert "confirm" in refused.value.errors
        assert database_dump() == before


def test_a_failure_midway_leaves_nothing_half_erased(app, monkeypatch):
    with app.app_context():
        world = build_zoe()
        before = database_dump()

        def broken(session, ticket_ids):
            raise OSError("the file storage is away")

        monkeypatch.setattr(erase.attachments, "delete_ticket_files", broken)
        contact = _session().get(Contact, world["contact_id"])
        with pytest.raises(OSError):
            erase.erase_contact(contact, ADMIN, EMAIL)
        _session().expire_all()
        assert database_dump() == before
        assert ticket_for_token(world["token"]) is not None


def _zip_json(data: bytes) -> tuple[dict, list[str]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return json.loads(archive.read("contact.json")), archive.namelist()


def test_export_holds_the_contact_tickets_messages_mails_and_orders(app):
    with app.app_context():
        world = build_zoe()
        contact = _session().get(Contact, world["contact_id"])
        archive = export.export_contact(contact, ADMIN)
        data, names = _zip_json(archive.data)
    assert names == ["contact.json"] and archive.filename == f"contact-{contact.id}-export.zip"
    assert data["contact"]["email"] == "zoe.kowalska@example.com"
    assert data["contact"]["phone"] == "+48 600 100 200"
    assert [t["id"] for t in data["tickets"]] == world["tickets"]
    assert {m["ticket_id"] for m in data["messages"]} == set(world["tickets"])
    kinds = [(m["author_kind"], m["body"]) for m in data["messages"]
             if m["ticket_id"] == world["tickets"][0]]
    assert ("customer", "Hello, my parcel has not arrived.") in kinds
    assert ("agent", "Hi Zoe Kowalska, sorry about the broken kettle.") in kinds
    assert all(m["created_at"] for m in data["messages"])
    assert [o["base_order_id"] for o in data["orders"]] == [771]
    assert data["orders"][0]["delivery_address"] == "Lipowa 5"
    assert len(data["mails"]) == 4
    assert "Bob" not in json.dumps(data)  # nothing of another customer
    with app.app_context():
        (record,) = _session().scalars(sa.select(PrivacyRecord)).all()
        assert record.action == "export" and record.counts["tickets"] == 2


def test_export_of_a_contact_without_tickets(app):
    with app.app_context():
        contact = contacts.create_contact(name="Lonely", email="lonely@example.com")
        data, _names = _zip_json(export.export_contact(contact, ADMIN).data)
    assert data["contact"]["name"] == "Lonely"
    assert (data["tickets"], data["messages"], data["orders"], data["mails"]) == ([], [], [], [])


def test_export_after_erasure_holds_no_personal_data(app):
    with app.app_context():
        world = build_zoe()
        contact = _session().get(Contact, world["contact_id"])
        erase.erase_contact(contact, ADMIN, EMAIL)
        data, _names = _zip_json(export.export_contact(contact, ADMIN).data)
    assert data["tickets"] == [] and data["contact"]["name"] == ""
    assert not any(needle in json.dumps(data).lower() for needle in IDENTIFYING)


# --- the contact page --------------------------------------------------------------------------


def _login(app, email):
    client = app.test_client()
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    auth = AuthActions(client)
    auth.login(email)
    return client, auth.csrf_token()


def test_contact_page_export_and_erase_for_admins(app):
    with app.app_context():
        world = build_zoe()
    client, csrf = _login(app, "admin@shop.test")
    page = f"/chat/inbox/contacts/{world['contact_id']}"
    html = client.get(page).get_data(as_text=True)
    assert "Export data" in html and "Erase contact" in html
    assert "never exported or erased" in html
    download = client.post(f"{page}/export", data={"csrf_token": csrf})
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    data, _names = _zip_json(download.data)
    assert data["contact"]["id"] == world["contact_id"]
    confirm = client.get(f"{page}/erase").get_data(as_text=True)
    assert "2 tickets" in confirm and "1 cached Base order" in confirm
    assert "cannot be undone" in confirm
    wrong = client.post(f"{page}/erase", data={"csrf_token": csrf, "confirm": "zoe"})
    assert wrong.status_code == 422
    body = wrong.get_data(as_text=True)
    assert 'id="rc-erase-confirm-error"' in body and 'aria-invalid="true"' in body
    assert "Type the contact&#39;s e-mail address exactly" in body
    done = client.post(f"{page}/erase", data={"csrf_token": csrf, "confirm": EMAIL})
    assert done.status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "The contact&#39;s data was erased (2 tickets" in html
    assert f"Erased contact #{world['contact_id']}" in html
    assert "Exported" in html and "Erased" in html and "Ada Admin" in html
    assert "Erase contact</a>" not in html and "Save contact" not in html
    again = client.post(f"{page}/erase", data={"csrf_token": csrf, "confirm": EMAIL})
    assert again.status_code == 303
    assert "already erased on" in client.get(page).get_data(as_text=True)
    log = client.get("/chat/admin/privacy").get_data(as_text=True)
    assert f"Contact #{world['contact_id']}" in log and "Tickets are kept forever" in log


def test_agents_may_neither_export_nor_erase(app):
    with app.app_context():
        world = build_zoe()
        before = database_dump()
    client, csrf = _login(app, "alice@shop.test")
    page = f"/chat/inbox/contacts/{world['contact_id']}"
    html = client.get(page).get_data(as_text=True)
    assert "Export data" not in html and "Erase contact" not in html
    assert client.post(f"{page}/export", data={"csrf_token": csrf}).status_code == 403
    assert client.get(f"{page}/erase").status_code == 403
    assert client.post(f"{page}/erase",
                       data={"csrf_token": csrf, "confirm": EMAIL}).status_code == 403
    with app.app_context():
        assert database_dump() == before
        assert _count(PrivacyRecord) == 0


# --- the API -----------------------------------------------------------------------------------


def test_api_export_and_erase(app):
    with app.app_context():
        world = build_zoe()
        admin = {"Authorization": f"Bearer {api_tokens.create_token('1', 'privacy')[1]}"}
        agent = {"Authorization": f"Bearer {api_tokens.create_token('2', 'privacy')[1]}"}
    client = app.test_client()
    base = f"/chat/api/contacts/{world['contact_id']}"
    assert client.get(f"{base}/export", headers=agent).status_code == 403
    assert client.post(f"{base}/erase", json={"confirm": EMAIL}, headers=agent).status_code == 403
    exported = client.get(f"{base}/export", headers=admin)
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert _zip_json(exported.data)[0]["contact"]["email"] == "zoe.kowalska@example.com"
    assert client.get("/chat/api/contacts/999999/export", headers=admin).status_code == 404
    missing = client.post(f"{base}/erase", json={}, headers=admin)
    assert missing.status_code == 422 and "confirm" in missing.get_json()["errors"]
    wrong = client.post(f"{base}/erase", json={"confirm": "someone@example.com"}, headers=admin)
    assert wrong.status_code == 422 and "confirm" in wrong.get_json()["errors"]
    assert client.post(f"{base}/erase", data="confirm", headers=admin).status_code == 400
    done = client.post(f"{base}/erase", json={"confirm": EMAIL}, headers=admin)
    assert done.status_code == 200
    body = done.get_json()
    assert body["erased"] is True and body["counts"]["tickets"] == 2 and body["erased_at"]
    again = client.post(f"{base}/erase", json={"confirm": EMAIL}, headers=admin)
    assert again.status_code == 200
    assert again.get_json()["erased"] is False
    assert "already erased" in again.get_json()["message"]
    assert again.get_json()["erased_at"] == body["erased_at"]
    with app.app_context():
        actions = _session().scalars(
            sa.select(PrivacyRecord.action).order_by(PrivacyRecord.id)).all()
    assert actions == ["export", "erase"]


def test_openapi_documents_the_privacy_routes(client):
    paths = client.get("/chat/api/openapi.json").get_json()["paths"]
    exported = paths["/chat/api/contacts/{contact_id}/export"]["get"]
    assert "application/zip" in exported["responses"]["200"]["content"]
    assert "Admins' tokens only" in exported["description"]
    erased = paths["/chat/api/contacts/{contact_id}/erase"]["post"]
    assert "422" in erased["responses"] and "403" in erased["responses"]


def test_counts_read_as_words():
    from responso_chat.privacy.records import describe_counts

    assert describe_counts({"tickets": 1, "messages": 0, "webhook_deliveries": 1}) == (
        "1 ticket, 1 webhook delivery")
    assert describe_counts({"webhook_deliveries": 2, "mails": 3}) == "2 webhook deliveries, 3 mails"
    assert describe_counts({}) == "nothing"


def test_the_customers_open_widget_closes_when_their_data_is_erased(app, live_server):
    url = live_server(app).url
    with app.app_context():
        key = make_chat(allowed_origins=[SHOP]).public_key
    widget = Widget(url)
    widget.start_chat(key, "zoe.kowalska@example.com")
    live = widget.socket()
    assert live.next("message")["body"] == "Where is my order?"
    with app.app_context():
        contact = contacts.create_contact(name="Someone", email="zoe.kowalska@example.com")
        erase.erase_contact(contact, ADMIN, "zoe.kowalska@example.com")
    assert live.next("error", timeout=3)["error"] == "unavailable"
    assert close_code(live) == CLOSE_FORBIDDEN
    assert widget.read().status_code == 401
    assert widget.send("Are you there?", "c-9").status_code == 401


def attach_pdf(ticket_id: int, name: str) -> bytes:
    """The customer's message on the ticket with a PDF (stored as uploads are); its bytes."""
    content = filedata.pdf()
    post_customer_files(_session().get(Ticket, ticket_id),
                        [FileStorage(io.BytesIO(content), filename=name)], "My invoice")
    return content


def stored_files(app) -> list[str]:
    """The files of the local storage (paths under its folder)."""
    root = Path(app.config["RESPONSO_CHAT_FILES_FOLDER"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_attachments_go_into_the_export_and_with_the_erasure(make_app, tmp_path):
    app = make_app(RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "files"))
    with app.app_context():
        world = build_zoe()
        first, _second = world["tickets"]
        pdf = attach_pdf(first, "../Zoe Kowalska invoice.pdf")
        attach_pdf(world["bob"], "bob.pdf")
        assert len(stored_files(app)) == 2
        contact = _session().get(Contact, world["contact_id"])
        archive = zipfile.ZipFile(io.BytesIO(export.export_contact(contact, ADMIN).data))
        [name] = [n for n in archive.namelist() if n.startswith("files/")]
        assert name.startswith(f"files/{first}/") and name.endswith("Zoe_Kowalska_invoice.pdf")
        assert archive.read(name) == pdf
        erasure = erase.erase_contact(contact, ADMIN, EMAIL)
        assert erasure.counts["files"] == 1
        plugin_state().jobs.join()
        assert [a.ticket_id for a in attachments_of_tickets(_session(), world["tickets"])] == []
        assert len(attachments_of_tickets(_session(), [world["bob"]])) == 1
    assert len(stored_files(app)) == 1  # Bob's file stays, hers is gone from storage


def test_a_file_gone_from_storage_is_listed_and_the_rest_exported(make_app, tmp_path):
    """A data request is answered even when a stored file was lost: the export lists it."""
    app = make_app(RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "files"))
    with app.app_context():
        world = build_zoe()
        first, second = world["tickets"]
        attach_pdf(first, "lost.pdf")
        kept = attach_pdf(second, "kept.pdf")
        lost = attachments_of_tickets(_session(), [first])[0]
        lost_name = f"files/{first}/{lost.id}-lost.pdf"
        (tmp_path / "files" / lost.storage_key).unlink()
        contact = _session().get(Contact, world["contact_id"])
        result = export.export_contact(contact, ADMIN)
        data, names = _zip_json(result.data)
    assert data["files_missing"] == [lost_name]
    [name] = [n for n in names if n.startswith("files/")]
    assert name.startswith(f"files/{second}/")
    assert zipfile.ZipFile(io.BytesIO(result.data)).read(name) == kept
    assert result.counts["files"] == 1

def test_every_event_job_about_a_ticket_is_forgotten_with_it():
    """A new ``on_*`` event job must be listed, or an erased ticket's job would still run."""
    from responso_chat.conversation import event_jobs

    jobs = {f"{event_jobs.__name__}.{name}" for name in dir(event_jobs) if name.startswith("on_")}
    assert jobs and jobs <= set(scope.TICKET_JOBS)
