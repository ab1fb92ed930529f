"""Attachments: uploads from the widget, the inbox and the API, what is stored (typed by
content, images without metadata), signed URLs, bad input, deletion with the ticket, and both
storage backends (a local folder, and a real S3-compatible server on loopback)."""

from __future__ import annotations

import gc
import io
import socket
import time

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug import formparser

from responso_chat import signals
from responso_chat.config import ConfigurationError
from responso_chat.conversation.visitor import issue_token
from responso_chat.files import attachments, attachments_of_tickets, delete_ticket_files
from responso_chat.files import read_attachment as read_stored
from responso_chat.files.storage import storage
from responso_chat.integrations import api_tokens
from responso_chat.models import Attachment, Message, Ticket
from tests import filedata
from tests.factories import make_chat, make_ticket
from tests.hostapp import create_host_app

SHOP = "https://shop.example"


@pytest.fixture
def app(make_app, tmp_path):
    """A host app whose attachments go to a folder of the test."""
    return make_app(RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "files"))


@pytest.fixture
def files_app(app):
    return app


@pytest.fixture
def world(files_app):
    """A chat of Alice's with two tickets (two customers); their ids and visitor tokens."""
    with files_app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        first = make_ticket(chat, "Damaged parcel")
        other = make_ticket(chat, "Other customer", email="other@example.com")
        return {
            "ticket_id": first.id, "token": issue_token(first),
            "other_id": other.id, "other_token": issue_token(other),
        }


def visitor(token):
    return {"Authorization": f"Bearer {token}", "Origin": SHOP}


def upload(client, token, *files, body="", client_msg_id=None):
    """The widget's upload: ``files`` are ``(bytes, name)`` pairs."""
    data = {"body": body, "files": [(io.BytesIO(content), name) for content, name in files]}
    if client_msg_id:
        data["client_msg_id"] = client_msg_id
    return client.post("/chat/widget/tickets/attachments", data=data, headers=visitor(token),
                       content_type="multipart/form-data")


def stored_keys(app) -> list[str]:
    """Every file of the local storage (relative paths)."""
    folder = app.config["RESPONSO_CHAT_FILES_FOLDER"]
    from pathlib import Path

    root = Path(folder)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


def rows(app, model=Attachment):
    with app.app_context():
        session = app.extensions["responso_chat"].db.session
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def fetch(client, url):
    """GET a signed file URL as a browser would (no credentials at all)."""
    return client.get(url.removeprefix("http://localhost"))


# --- the customer's photo ----------------------------------------------------------------------


def test_customer_photo_is_stored_without_location_and_shown_inline(files_app, client, world):
    photo = filedata.photo_with_location()
    assert b"Exif" in photo and b"PhoneMaker" in photo
    response = upload(client, world["token"], (photo, "../../parcel photo.JPG"), body="Look")
    assert response.status_code == 201, response.json
    event = response.json["message"]
    assert event["body"] == "Look" and event["author_kind"] == "customer"
    [shown] = event["attachments"]
    assert shown["name"] == "parcel photo.JPG"
    assert shown["content_type"] == "image/jpeg" and shown["image"] is True
    assert (shown["width"], shown["height"]) == (800, 600)
    assert shown["thumbnail_url"] and shown["url"] != shown["thumbnail_url"]

    served = fetch(client, shown["url"])
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    stored = served.data
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.size == (800, 600)
    assert not image.getexif() and not image.getexif().get_ifd(filedata.GPS_IFD)

    thumb = fetch(client, shown["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) == 320
    assert b"PhoneMaker" not in thumb.data
    # As a download when asked.
    download = fetch(client, shown["url"] + "?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")

    # Catch-up gives the same attachment, freshly signed.
    resumed = client.get("/chat/widget/tickets/messages?after=1", headers=visitor(world["token"]))
    [message] = resumed.json["messages"]
    assert message["attachments"][0]["name"] == "parcel photo.JPG"
    assert len(stored_keys(files_app)) == 2  # the photo and its thumbnail


def test_png_text_chunks_are_dropped_and_transparency_kept(client, world):
    response = upload(client, world["token"], (filedata.png(), "logo.png"))
    [shown] = response.json["message"]["attachments"]
    data = fetch(client, shown["url"]).data
    assert b"secret author note" not in data
    assert Image.open(io.BytesIO(data)).mode == "RGBA"
    thumb = fetch(client, shown["thumbnail_url"])
    assert thumb.mimetype == "image/png"


def test_pdf_is_a_download_with_the_extension_of_its_type(client, world):
    response = upload(client, world["token"], (filedata.pdf(), "invoice"))
    [shown] = response.json["message"]["attachments"]
    assert shown["content_type"] == "application/pdf" and shown["image"] is False
    assert shown["name"] == "invoice.pdf" and shown["thumbnail_url"] is None
    served = fetch(client, shown["url"])
    assert served.status_code == 200 and served.data == filedata.pdf()
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_resend_with_the_same_client_id_stores_nothing_more(files_app, client, world):
    first = upload(client, world["token"], (filedata.pdf(), "a.pdf"), client_msg_id="up-1")
    again = upload(client, world["token"], (filedata.pdf(), "a.pdf"), client_msg_id="up-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["message"]["seq"] == first.json["message"]["seq"]
    assert again.json["message"]["attachments"][0]["id"] == \
        first.json["message"]["attachments"][0]["id"]
    assert rows(files_app) == 1 and len(stored_keys(files_app)) == 1


def test_an_agents_resend_with_files_stores_nothing_more(files_app, client, auth, world):
    """The composer retries a send that may have gone through: the bytes of the retry are
    removed again, in the inbox and the API alike."""
    auth.login("alice@shop.test")
    csrf = auth.csrf_token()
    with files_app.app_context():
        token = api_tokens.create_token("2", "files")[1]

    def inbox():
        return client.post(f"/chat/inbox/tickets/{world['ticket_id']}/attachments",
                           data={"body": "label", "client_msg_id": "ag-1",
                                 "files": [(io.BytesIO(filedata.pdf()), "l.pdf")]},
                           headers={"X-CSRFToken": csrf, "Accept": "application/json"})

    def api():
        return client.post(f"/chat/api/tickets/{world['ticket_id']}/attachments",
                           data={"client_msg_id": "api-1",
                                 "files": [(io.BytesIO(filedata.pdf()), "b.pdf")]},
                           headers={"Authorization": f"Bearer {token}"},
                           content_type="multipart/form-data")

    assert [inbox().status_code, inbox().status_code] == [201, 201]
    assert [api().status_code, api().status_code] == [201, 201]
    assert rows(files_app) == 2 and len(stored_keys(files_app)) == 2


def test_a_listener_failing_after_the_commit_leaves_the_files_of_the_message(files_app, client,
                                                                               world):
    """The message and its rows are written when a host's listener of the new message fails:
    its files stay, and their links work."""
    def failing(_sender, **_kwargs):
        raise RuntimeError("the host's listener failed")

    signals.message_created.connect(failing, files_app)
    try:
        with pytest.raises(RuntimeError):
            upload(client, world["token"], (filedata.pdf(), "a.pdf"), body="hi")
    finally:
        signals.message_created.disconnect(failing, files_app)
    assert rows(files_app) == 1 and len(stored_keys(files_app)) == 1
    resumed = client.get("/chat/widget/tickets/messages?after=1",
                         headers=visitor(world["token"])).json
    (attachment,) = [a for m in resumed["messages"] for a in m["attachments"]]
    assert fetch(client, attachment["url"]).status_code == 200


def test_an_old_link_never_reaches_a_file_that_took_its_id(files_app, client, world):
    """SQLite gives the id of the last deleted row again: a link names the stored file too,
    so the link of an erased customer's file never opens the next customer's."""
    first = upload(client, world["token"], (filedata.pdf(), "zoe-private.pdf"))
    old = first.json["message"]["attachments"][0]
    with files_app.app_context():
        session = files_app.extensions["responso_chat"].db.session
        delete_ticket_files(session, [world["ticket_id"]])
        session.commit()
    assert fetch(client, old["url"]).status_code == 404
    second = upload(client, world["other_token"], (filedata.png(), "other-secret.png"))
    assert second.json["message"]["attachments"][0]["id"] == old["id"]  # the same id again
    assert fetch(client, old["url"]).status_code == 404
    assert fetch(client, second.json["message"]["attachments"][0]["url"]).status_code == 200


# --- bad input: nothing stored ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (filedata.SCRIPT_AS_JPG, "holiday.jpg"),
        (filedata.SVG_WITH_SCRIPT, "logo.svg"),
        (filedata.SVG_WITH_SCRIPT, "logo.png"),
        (filedata.HTML_PAGE, "invoice.pdf"),
        (filedata.EXECUTABLE, "label.pdf"),
        (b"", "empty.jpg"),
    ],
    ids=["script-named-jpg", "svg", "svg-named-png", "html-named-pdf", "exe", "empty"],
)
def test_disguised_files_are_refused_and_nothing_is_stored(files_app, client, world, content,
                                                          name):
    messages_before = rows(files_app, Message)
    response = upload(client, world["token"], (content, name), body="see attached")
    assert response.status_code == 422
    assert response.json["errors"]["files"][0] in (
        "This type of file is not accepted.", "This file is empty.")
    assert rows(files_app) == 0 and rows(files_app, Message) == messages_before
    assert stored_keys(files_app) == []


def test_decompression_bomb_is_refused_without_decoding(files_app, client, world):
    started = time.monotonic()
    response = upload(client, world["token"], (filedata.png_bomb(), "bomb.png"))
    assert response.status_code == 422
    assert "pixels" in response.json["errors"]["files"][0]
    assert time.monotonic() - started < 5
    assert stored_keys(files_app) == [] and rows(files_app) == 0


def test_images_over_the_pixel_setting_are_refused(make_app, tmp_path):
    app = make_app(RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "f"),
                   RESPONSO_CHAT_FILES_MAX_PIXELS=10_000)
    with app.app_context():
        ticket = make_ticket(make_chat(allowed_origins=[SHOP]))
        token = issue_token(ticket)
    response = upload(app.test_client(), token, (filedata.png(size=(200, 100)), "big.png"))
    assert response.status_code == 422
    assert "200 x 100" in response.json["errors"]["files"][0]


def test_too_large_and_too_many_files_are_refused(make_app, tmp_path):
    app = make_app(RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "f"),
                   RESPONSO_CHAT_FILES_MAX_SIZE=2048, RESPONSO_CHAT_FILES_PER_MESSAGE=2)
    with app.app_context():
        ticket = make_ticket(make_chat(allowed_origins=[SHOP]))
        token = issue_token(ticket)
    client = app.test_client()
    big = filedata.pdf() + b"%" + b"x" * 3000
    response = upload(client, token, (big, "big.pdf"))
    assert response.status_code == 413
    assert "larger than" in response.json["errors"]["files"][0]
    # A body over what the files may add up to is refused before it is read.
    response = upload(client, token, (big + b"x" * 80_000, "huge.pdf"))
    assert response.status_code == 413 and "too large" in response.json["errors"]["_request"][0]
    # the widget's page can read why (no view ran to allow its site)
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    response = upload(client, token, *[(filedata.pdf(), f"{i}.pdf") for i in range(3)])
    assert response.status_code == 422
    assert response.json["errors"]["files"] == ["Attach at most 2 files to one message."]
    response = client.post("/chat/widget/tickets/attachments", data={"body": "no file"},
                           headers=visitor(token), content_type="multipart/form-data")
    assert response.status_code == 422 and response.json["errors"]["files"] == ["Attach a file."]
    assert stored_keys(app) == [] and rows(app) == 0


# werkzeug's form parser leaves the spooled file of a disconnected upload to the garbage
# collector, which warns about it (its own code, not ours): the warning is not the test's point.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_upload_cut_midway_stores_nothing(files_app, world, live_server):
    server = live_server(files_app)
    host, port = server.url.removeprefix("http://").split(":")
    boundary = "cutcutcut"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
        "filename=\"label.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    ).encode() + filedata.pdf() + b"0" * 2000
    request = (
        "POST /chat/widget/tickets/attachments HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nOrigin: {SHOP}\r\n"
        f"Authorization: Bearer {world['token']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Content-Length: 500000\r\nConnection: close\r\n\r\n"
    ).encode() + head
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)  # the client goes away mid-upload
        answer = sock.recv(200)
    assert not answer.startswith(b"HTTP/1.1 5"), answer
    files_app.extensions["responso_chat"].jobs.join()
    assert stored_keys(files_app) == [] and rows(files_app) == 0
    # The server still serves.
    client = files_app.test_client()
    assert upload(client, world["token"], (filedata.pdf(), "ok.pdf")).status_code == 201
    gc.collect()  # the parser's left-over file goes now, under this test's warning filter


# --- who may upload and fetch ----------------------------------------------------------------


def test_a_visitor_token_reaches_only_its_own_ticket(files_app, client, world):
    response = upload(client, world["other_token"], (filedata.pdf(), "mine.pdf"))
    assert response.status_code == 201
    with files_app.app_context():
        [row] = attachments_of_tickets(
            files_app.extensions["responso_chat"].db.session, [world["other_id"]]
        )
        assert row.ticket_id == world["other_id"]
    first = client.get("/chat/widget/tickets/messages?after=0", headers=visitor(world["token"]))
    assert all(not m["attachments"] for m in first.json["messages"])
    assert upload(client, "forged.token", (filedata.pdf(), "x.pdf")).status_code == 401
    assert upload(client, "", (filedata.pdf(), "x.pdf")).status_code == 401


def test_tampered_and_expired_urls_are_refused(files_app, client, world, monkeypatch):
    response = upload(client, world["token"], (filedata.pdf(), "label.pdf"))
    url = response.json["message"]["attachments"][0]["url"]
    assert fetch(client, url).status_code == 200
    prefix, token = url.rsplit("/", 1)
    body, _, signature = token.rpartition(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert fetch(client, f"{prefix}/{body}.{flipped}").status_code == 404
    with files_app.test_request_context():
        other_id = response.json["message"]["attachments"][0]["id"] + 1
        forged = attachments._serializer().dumps([other_id, 0, int(time.time()) + 60, "x"])
        forged = forged.rsplit(".", 1)[0] + "." + signature  # the other file's id, our signature
    assert fetch(client, f"{prefix}/{forged}").status_code == 404
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 86400 + 5)
    assert fetch(client, url).status_code == 404
    assert "expired" in fetch(client, url).json["errors"]["_request"][0]


def test_agent_uploads_need_access_and_csrf(files_app, client, auth, world):
    url = f"/chat/inbox/tickets/{world['ticket_id']}/attachments"
    data = {"body": "Your return label", "files": [(io.BytesIO(filedata.pdf()), "label.pdf")]}
    auth.login("bob@shop.test")  # an agent, not of this chat
    token = auth.csrf_token()
    response = client.post(url, data=dict(data, files=[(io.BytesIO(filedata.pdf()), "l.pdf")]),
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 404
    auth.logout()
    auth.login("alice@shop.test")
    response = client.post(url, data=dict(data, files=[(io.BytesIO(filedata.pdf()), "l.pdf")]),
                           headers={"Accept": "application/json"})
    assert response.status_code == 400  # no CSRF token
    response = client.post(url, data=dict(data, csrf_token=auth.csrf_token(),
                                          files=[(io.BytesIO(filedata.pdf()), "l.pdf")]),
                           headers={"Accept": "application/json"})
    assert response.status_code == 400  # an upload's token is read from its header only
    response = client.post(url, data=data, headers={
        "X-CSRFToken": auth.csrf_token(), "Accept": "application/json"})
    assert response.status_code == 201, response.json
    message = response.json["message"]
    assert message["author_kind"] == "agent" and message["body"] == "Your return label"
    assert message["attachments"][0]["name"] == "label.pdf"
    assert rows(files_app) == 1
    # The ticket page draws it (a download link with its size), and escapes its name.
    page = client.get(f"/chat/inbox/tickets/{world['ticket_id']}").get_data(as_text=True)
    assert 'class="rc-msg-file"' in page and ">label.pdf</a>" in page and "1 KB" in page
    # The customer sees it on catch-up.
    resumed = client.get("/chat/widget/tickets/messages?after=1", headers=visitor(world["token"]))
    assert [m["attachments"][0]["name"] for m in resumed.json["messages"]
            if m["attachments"]] == ["label.pdf"]


def test_a_strangers_upload_is_refused_before_its_body_is_read(files_app, client, auth, world,
                                                                monkeypatch):
    """Up to files x size may come with an upload: without credentials (no token, a forged
    one, no session, no CSRF header) it is refused unread."""
    parsed = []
    parse = formparser.FormDataParser.parse
    monkeypatch.setattr(formparser.FormDataParser, "parse",
                        lambda *args, **kw: parsed.append(1) or parse(*args, **kw))
    pdf = b"%PDF-1.4\n" + b"0" * 100_000

    def send(url, **headers):
        body = {"body": "x", "files": [(io.BytesIO(pdf), "x.pdf")]}
        return client.post(url, data=body, content_type="multipart/form-data",
                           headers={"Accept": "application/json", **headers}).status_code

    widget = "/chat/widget/tickets/attachments"
    assert (send(widget), parsed) == (401, [])
    assert (send(widget, Authorization="Bearer forged", Origin=SHOP), parsed) == (401, [])
    assert (send(f"/chat/api/tickets/{world['ticket_id']}/attachments",
                 Authorization="Bearer forged"), parsed) == (401, [])
    inbox = f"/chat/inbox/tickets/{world['ticket_id']}/attachments"
    assert (send(inbox), parsed) == (400, [])  # no CSRF header
    auth.login("alice@shop.test")
    parsed.clear()  # the login form's
    assert (send(inbox), parsed) == (400, [])
    assert send(inbox, **{"X-CSRFToken": auth.csrf_token()}) == 201 and parsed == [1]

def test_api_upload_and_message_list_carry_signed_urls(files_app, client, world):
    with files_app.app_context():
        alice = api_tokens.create_token("2", "files")[1]
        bob = api_tokens.create_token("3", "files")[1]
    url = f"/chat/api/tickets/{world['ticket_id']}/attachments"

    def post(token, files):
        return client.post(url, headers={"Authorization": f"Bearer {token}"},
                           data={"body": "", "files": files}, content_type="multipart/form-data")

    assert post(bob, [(io.BytesIO(filedata.pdf()), "l.pdf")]).status_code == 404
    refused = post(alice, [(io.BytesIO(filedata.HTML_PAGE), "page.html")])
    assert refused.status_code == 422 and "files" in refused.json["errors"]
    response = post(alice, [(io.BytesIO(filedata.png()), "a.png"),
                            (io.BytesIO(filedata.pdf()), "b.pdf")])
    assert response.status_code == 201, response.json
    assert [a["name"] for a in response.json["attachments"]] == ["a.png", "b.pdf"]
    assert response.json["attachments"][0]["url"].startswith("http://localhost/chat/widget/files/")
    listed = client.get(f"/chat/api/tickets/{world['ticket_id']}/messages",
                        headers={"Authorization": f"Bearer {alice}"})
    last = listed.json["data"][-1]
    assert [a["content_type"] for a in last["attachments"]] == ["image/png", "application/pdf"]
    assert listed.json["data"][0]["attachments"] == []
    one = client.get(f"/chat/api/tickets/{world['ticket_id']}/messages/{last['seq']}",
                     headers={"Authorization": f"Bearer {alice}"})
    assert len(one.json["attachments"]) == 2
    assert fetch(client, one.json["attachments"][1]["url"]).data == filedata.pdf()


def test_webhook_payload_and_mail_lines_carry_the_files(files_app, client, world):
    from responso_chat.integrations.webhooks import event_data
    from responso_chat.mail import compose

    upload(client, world["token"], (filedata.pdf(), "invoice.pdf"), body="My invoice")
    files_app.config["RESPONSO_CHAT_MAIL_SHOP_URL"] = "https://shop.example/"
    with files_app.app_context():
        session = files_app.extensions["responso_chat"].db.session
        message = session.scalars(sa.select(Message).order_by(Message.id.desc())).first()
        data = event_data(world["ticket_id"], message.id)()
        [sent] = data["message"]["attachments"]
        assert sent["name"] == "invoice.pdf"
        assert sent["url"].startswith("https://shop.example/chat/widget/files/")
        ticket = session.get(Ticket, world["ticket_id"])
        [line] = compose.lines_of(ticket, [message], "en")
        name, size, link = line.files[0]
        assert (name, size) == ("invoice.pdf", "1 KB")
        assert link.startswith("https://shop.example/chat/widget/files/")
    # The mail's link is valid for as long as a visitor token, longer than the page's URLs.
    assert fetch(client, link.removeprefix("https://shop.example")).status_code == 200


# --- deletion with the ticket ------------------------------------------------------------------


def test_delete_ticket_files_removes_rows_now_and_bytes_after_the_commit(files_app, client,
                                                                        world):
    upload(client, world["token"], (filedata.photo_with_location(), "p.jpg"))
    upload(client, world["other_token"], (filedata.pdf(), "keep.pdf"))
    assert len(stored_keys(files_app)) == 3
    state = files_app.extensions["responso_chat"]
    with files_app.app_context():
        session = state.db.session
        # A rollback keeps rows and files.
        assert delete_ticket_files(session, [world["ticket_id"]]) == 1
        session.rollback()
        state.jobs.join()
        assert len(stored_keys(files_app)) == 3 and rows(files_app) == 2
        [kept] = attachments_of_tickets(session, [world["other_id"]])
        assert read_stored(kept) == filedata.pdf()
        # Committed: the ticket's rows go with the ticket, its bytes with the job.
        assert delete_ticket_files(session, [world["ticket_id"]]) == 1
        session.execute(sa.delete(Ticket).where(Ticket.id == world["ticket_id"]))
        session.commit()
    state.jobs.join()
    assert rows(files_app) == 1
    assert len(stored_keys(files_app)) == 1
    with files_app.app_context():
        assert delete_ticket_files(state.db.session, [world["ticket_id"]]) == 0


def test_settings_refuse_types_that_may_never_be_served():
    for bad in ("image/png,text/html", "image/svg+xml", "application/x-msdownload", "made/up",
                "image/png,image/tiff", "image/heic"):  # images whose metadata would stay
        with pytest.raises(ConfigurationError, match="FILES_ALLOWED_TYPES"):
            create_host_app("sqlite://", RESPONSO_CHAT_FILES_ALLOWED_TYPES=bad)
    with pytest.raises(ConfigurationError, match="FILES_S3_BUCKET"):
        create_host_app("sqlite://", RESPONSO_CHAT_FILES_STORAGE="s3")


# --- the S3 backend, against a real S3-compatible server ------------------------------------


def test_s3_storage_keeps_serves_and_deletes(make_app, s3_server):
    bucket = s3_server.bucket("attachments-test")
    app = make_app(**s3_server.settings(bucket))
    state = app.extensions["responso_chat"]
    with app.app_context():
        ticket = make_ticket(make_chat(allowed_origins=[SHOP]))
        ticket_id, token = ticket.id, issue_token(ticket)
    client = app.test_client()
    response = upload(client, token, (filedata.photo_with_location(), "parcel.jpg"),
                      (filedata.pdf(), "invoice.pdf"))
    assert response.status_code == 201, response.json
    keys = s3_server.keys(bucket)
    assert len(keys) == 3 and all(k.startswith(f"t{ticket_id}/") for k in keys)
    photo, pdf = response.json["message"]["attachments"]
    served = fetch(client, photo["url"])
    assert served.status_code == 200 and b"PhoneMaker" not in served.data
    assert fetch(client, pdf["url"]).data == filedata.pdf()
    with app.app_context():
        assert storage().exists(keys[0])
        session = state.db.session
        assert delete_ticket_files(session, [ticket_id]) == 2
        session.commit()
    state.jobs.join()
    assert s3_server.keys(bucket) == []
    assert fetch(client, pdf["url"]).status_code == 404
    # A refused file leaves the bucket empty.
    assert upload(client, token, (filedata.SCRIPT_AS_JPG, "x.jpg")).status_code == 422
    assert s3_server.keys(bucket) == []


# --- names and image formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "extension", "kept"),
    [
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("C:\\Users\\zoe\\Invoice 12.PDF", "pdf", "Invoice 12.PDF"),
        ("photo.png", "jpg", "photo.png.jpg"),
        ("photo.jpeg", "jpg", "photo.jpeg"),
        ("\u202egnp.exe", "png", "gnp.exe.png"),
        ("", "pdf", "file.pdf"),
        ("a" * 300 + ".pdf", "pdf", "a" * 196 + ".pdf"),
    ],
)
def test_names_lose_folders_and_controls_and_end_with_the_detected_type(given, extension, kept):
    from responso_chat.files.images import clean_name

    assert clean_name(given, extension) == kept


def _animation(pillow_format: str) -> bytes:
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, pillow_format, save_all=True, append_images=frames[1:], duration=80,
                   loop=0, comment=b"made by someone")
    return out.getvalue()


@pytest.mark.parametrize(("pillow_format", "content_type"),
                         [("GIF", "image/gif"), ("WEBP", "image/webp")])
def test_animations_keep_their_frames_and_lose_their_comments(client, world, pillow_format,
                                                              content_type):
    response = upload(client, world["token"], (_animation(pillow_format), "anim.bin"))
    assert response.status_code == 201, response.json
    [shown] = response.json["message"]["attachments"]
    assert shown["content_type"] == content_type and shown["name"].endswith(
        "." + pillow_format.lower())
    data = fetch(client, shown["url"]).data
    assert b"made by someone" not in data
    assert Image.open(io.BytesIO(data)).n_frames == 3


@pytest.mark.parametrize("pillow_format", ["WEBP", "PNG"])
def test_exif_location_is_dropped_from_every_format(client, world, pillow_format):
    exif = Image.open(io.BytesIO(filedata.photo_with_location())).getexif()
    out = io.BytesIO()
    Image.new("RGB", (50, 40), "white").save(out, pillow_format, exif=exif)
    assert b"PhoneMaker" in out.getvalue()
    response = upload(client, world["token"], (out.getvalue(), "where.img"))
    [shown] = response.json["message"]["attachments"]
    for url in (shown["url"], shown["thumbnail_url"]):
        data = fetch(client, url).data
        assert b"PhoneMaker" not in data and not Image.open(io.BytesIO(data)).getexif()


def test_files_sent_into_an_ended_conversation_are_not_kept(files_app, client, world):
    with files_app.app_context():
        session = files_app.extensions["responso_chat"].db.session
        session.get(Ticket, world["ticket_id"]).status = "spam"
        session.commit()
    response = upload(client, world["token"], (filedata.pdf(), "late.pdf"))
    assert response.status_code == 409
    assert stored_keys(files_app) == [] and rows(files_app) == 0


def test_a_file_name_is_escaped_on_the_ticket_page(client, auth, world):
    upload(client, world["token"], (filedata.pdf(), "<img src=x onerror=alert(1)>.pdf"))
    auth.login("alice@shop.test")
    page = client.get(f"/chat/inbox/tickets/{world['ticket_id']}").get_data(as_text=True)
    assert '<img src=x onerror' not in page
    assert ">&lt;img src=x onerror=alert(1)&gt;.pdf</a>" in page


def test_customer_uploads_are_rate_limited(make_app, tmp_path):
    app = make_app(RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "f"),
                   RESPONSO_CHAT_FILES_UPLOAD_RATE_LIMIT="2 per minute")
    with app.app_context():
        token = issue_token(make_ticket(make_chat(allowed_origins=[SHOP])))
    client = app.test_client()
    answers = [upload(client, token, (filedata.pdf(), f"{i}.pdf")).status_code
               for i in range(3)]
    assert answers == [201, 201, 429]
    assert rows(app) == 2


def test_uploads_and_deletion_on_postgresql(make_app, postgres_url, tmp_path):
    app = make_app(database_url=postgres_url, migrate=True,
                   RESPONSO_CHAT_FILES_FOLDER=str(tmp_path / "pg-files"))
    with app.app_context():
        ticket = make_ticket(make_chat(allowed_origins=[SHOP]))
        ticket_id, token = ticket.id, issue_token(ticket)
    client = app.test_client()
    first = upload(client, token, (filedata.png(), "a.png"), client_msg_id="pg-1")
    again = upload(client, token, (filedata.png(), "a.png"), client_msg_id="pg-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert rows(app) == 1 and len(stored_keys(app)) == 2
    state = app.extensions["responso_chat"]
    with app.app_context():
        assert delete_ticket_files(state.db.session, [ticket_id]) == 1
        state.db.session.commit()
    state.jobs.join()
    assert rows(app) == 0 and stored_keys(app) == []


def test_files_of_an_internal_note_stay_with_the_agents(client, auth, world):
    auth.login("alice@shop.test")
    response = client.post(
        f"/chat/inbox/tickets/{world['ticket_id']}/attachments",
        data={"body": "Courier's report", "internal": "true",
              "files": [(io.BytesIO(filedata.pdf()), "courier.pdf")]},
        headers={"X-CSRFToken": auth.csrf_token(), "Accept": "application/json"})
    assert response.status_code == 201 and response.json["message"]["internal"] is True
    agents = client.get(f"/chat/inbox/tickets/{world['ticket_id']}/messages?after=0")
    assert [m["attachments"][0]["name"] for m in agents.json["messages"]
            if m["attachments"]] == ["courier.pdf"]
    customer = client.get("/chat/widget/tickets/messages?after=0", headers=visitor(world["token"]))
    assert all(not m["attachments"] for m in customer.json["messages"])


def test_pages_get_paths_and_the_api_absolute_urls(client, world):
    event = upload(client, world["token"], (filedata.png(), "a.png")).json["message"]
    [shown] = event["attachments"]
    assert shown["url"].startswith("/chat/widget/files/")
    assert shown["thumbnail_url"].startswith("/chat/widget/files/")
