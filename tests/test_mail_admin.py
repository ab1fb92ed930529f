"""The "Integrations → E-mail" page and the signed link of an e-mail."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.mail import signing
from responso_chat.mail.settings import mail_config
from responso_chat.models import Setting, Ticket
from responso_chat.state import plugin_state
from tests.conftest import AuthActions, csrf_from_page
from tests.factories import make_chat, make_ticket

PAGE = "/chat/admin/integrations/email"


def _admin(app):
    client = app.test_client()
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    AuthActions(client).login("admin@shop.test")
    return client, csrf_from_page(client.get(PAGE).get_data(as_text=True))


def _form(**values) -> dict:
    form = {"smtp_host": "127.0.0.1", "smtp_port": "2525", "smtp_security": "none",
            "from_address": "help@shop.test", "from_name": "Help", "shop_url": "https://shop.test/",
            "imap_host": "", "imap_port": "993", "imap_security": "tls", "imap_folder": "INBOX",
            "action": "save"}
    form.update(values)
    return form


def test_only_admins_see_the_page(client, auth):
    assert client.get(PAGE).status_code in (302, 401)
    auth.login("alice@shop.test")
    assert client.get(PAGE).status_code == 403


def test_saving_without_csrf_is_refused(app):
    client, _csrf = _admin(app)
    response = client.post(PAGE, data=_form())
    assert response.status_code == 400
    with app.app_context():
        assert mail_config().smtp_host == ""


def test_bad_values_are_shown_next_to_their_fields_and_nothing_is_saved(app):
    client, csrf = _admin(app)
    response = client.post(PAGE, data=_form(
        csrf_token=csrf, smtp_port="99999", from_address="not-an-address",
        smtp_host="http://smtp.example.com", smtp_security="rot13", imap_host="imap.x"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("smtp_port", "from_address", "smtp_host", "smtp_security", "imap_user"):
        assert f'id="{field}-error"' in html, field
    assert 'value="not-an-address"' in html  # what was typed stays
    with app.app_context():
        assert plugin_state().db.session.scalars(sa.select(Setting)).all() == []


def test_saved_passwords_are_never_shown_again(app):
    client, csrf = _admin(app)
    saved = client.post(PAGE, data=_form(csrf_token=csrf, smtp_password="s3cret-pass"))
    assert saved.status_code == 302
    html = client.get(PAGE).get_data(as_text=True)
    assert "s3cret-pass" not in html and "A password is saved" in html
    client.post(PAGE, data=_form(csrf_token=csrf, smtp_password=""))  # blank keeps it
    with app.app_context():
        assert mail_config().smtp_password == "s3cret-pass"
        assert mail_config().from_address == "help@shop.test"


def test_send_a_test_email_and_test_the_mailbox(app, smtp, imap):
    client, csrf = _admin(app)
    sent = client.post(PAGE, data=_form(
        csrf_token=csrf, smtp_port=str(smtp.port), action="test_smtp", test_to="me@shop.test"))
    assert sent.status_code == 200 and "Test e-mail sent to me@shop.test" in sent.get_data(
        as_text=True)
    [(to, mail)] = smtp.messages
    assert to == ["me@shop.test"] and mail["Subject"] == "Responso Chat test e-mail"
    imap_form = dict(imap_host="127.0.0.1", imap_port=str(imap.port), imap_security="none",
                     imap_user=imap.mailbox.user, csrf_token=csrf, action="test_imap")
    ok = client.post(PAGE, data=_form(**imap_form, imap_password=imap.mailbox.password))
    assert ok.status_code == 200 and "holds 0 e-mails" in ok.get_data(as_text=True)
    bad = client.post(PAGE, data=_form(**imap_form, imap_password="wrong"))
    assert bad.status_code == 422 and "Invalid credentials" in bad.get_data(as_text=True)
    with app.app_context():  # tests save nothing
        assert mail_config().smtp_host == "" and mail_config().imap_host == ""


def test_a_test_email_to_a_server_away_says_why(app):
    client, csrf = _admin(app)
    response = client.post(PAGE, data=_form(
        csrf_token=csrf, smtp_port="1", action="test_smtp", test_to="me@shop.test"))
    assert response.status_code == 422
    assert "could not be reached" in response.get_data(as_text=True)


def test_the_link_of_an_email_verifies_the_address_and_reopens_the_chat(mail_app):
    with mail_app.app_context():
        chat = make_chat()
        ticket = make_ticket(chat, page_url="https://shop.test/cart?x=1#top")
        other = make_ticket(chat, page_url="https://evil.example/phish")
        token, other_token = signing.link_token(ticket), signing.link_token(other)
        ids, key = (ticket.id, other.id), chat.public_key
    client = mail_app.test_client()
    response = client.get(f"/chat/widget/continue/{token}")
    assert response.status_code == 303
    target = response.headers["Location"]
    assert target.startswith(f"https://shop.test/cart?x=1#rc-continue-{key}=")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    elsewhere = client.get(f"/chat/widget/continue/{other_token}").headers["Location"]
    assert elsewhere.startswith("https://shop.test/#")  # never another site
    assert client.get(f"/chat/widget/continue/{token[:-2]}xx").status_code == 404  # forged
    with mail_app.app_context():
        session = plugin_state().db.session
        assert session.get(Ticket, ids[0]).customer_email_verified is True
        session.get(Ticket, ids[0]).customer_email = "changed@example.com"
        session.commit()
    assert client.get(f"/chat/widget/continue/{token}").status_code == 404
