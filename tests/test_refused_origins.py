"""Websites the widget refused: remembered a few per chat, written at most once a minute,
shown to the admin on the chat's page with "Allow this website" (admins only, CSRF)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from responso_chat.conversation import chats, origins
from responso_chat.models import Chat, RefusedOrigin, utcnow
from tests.conftest import csrf_from_page
from tests.factories import make_chat

SHOP = "https://shop.example"
STRANGER = "https://other-shop.example"


@pytest.fixture
def chat(app):
    with app.app_context():
        chat = make_chat(allowed_origins=[SHOP])
        return {"id": chat.id, "key": chat.public_key}


def refused(app, chat_id):
    with app.app_context():
        state = app.extensions["responso_chat"]
        return [(row.origin, row.times) for row in
                origins.recent_refused(state.db.session.get(Chat, chat_id))]


def allowed(app, chat_id):
    with app.app_context():
        return app.extensions["responso_chat"].db.session.get(Chat, chat_id).allowed_origins


def ask_config(client, key, origin):
    return client.get(f"/chat/widget/{key}/config", headers={"Origin": origin})


def test_a_refused_website_is_remembered_once_a_minute(client, app, chat):
    assert ask_config(client, chat["key"], STRANGER).status_code == 403
    assert ask_config(client, chat["key"], STRANGER + ":443").status_code == 403  # same site
    assert refused(app, chat["id"]) == [(STRANGER, 1)]
    with app.app_context():
        origins.record_refused(chat["id"], STRANGER, now=utcnow() + timedelta(minutes=2))
    assert refused(app, chat["id"]) == [(STRANGER, 2)]


def test_allowed_websites_and_junk_origins_are_not_recorded(client, app, chat):
    assert ask_config(client, chat["key"], SHOP).status_code == 200
    for junk in ("null", "not a url", "ftp://x.example", "https://x.example/path",
                 "https://" + "a" * 300 + ".example"):
        ask_config(client, chat["key"], junk)
    assert refused(app, chat["id"]) == []


def test_a_chat_keeps_only_its_latest_refused_websites(app, chat):
    start = utcnow()
    with app.app_context():
        for n in range(origins.MAX_REFUSED_PER_CHAT + 5):
            origins.record_refused(chat["id"], f"https://site{n}.example",
                                   now=start + timedelta(seconds=n))
        state = app.extensions["responso_chat"]
        count = state.db.session.execute(
            sa.select(sa.func.count()).select_from(RefusedOrigin)).scalar_one()
    assert count == origins.MAX_REFUSED_PER_CHAT
    kept = [origin for origin, _times in refused(app, chat["id"])]
    assert kept[0] == f"https://site{origins.MAX_REFUSED_PER_CHAT + 4}.example"
    assert "https://site0.example" not in kept


def test_refused_websites_go_with_their_chat(client, app, chat, auth):
    ask_config(client, chat["key"], STRANGER)
    with app.app_context():
        state = app.extensions["responso_chat"]
        chats.delete_chat(state.db.session.get(Chat, chat["id"]))
        assert state.db.session.execute(sa.select(RefusedOrigin)).first() is None


def test_the_admin_sees_refused_websites_and_allows_one(client, app, chat, auth):
    ask_config(client, chat["key"], STRANGER)
    auth.login("admin@shop.test")
    page = client.get(f"/chat/admin/chats/{chat['id']}/edit").get_data(as_text=True)
    assert "Websites refused recently" in page and STRANGER in page
    assert "Allow this website" in page
    response = client.post(f"/chat/admin/chats/{chat['id']}/allowed-origins",
                           data={"origin": STRANGER, "csrf_token": csrf_from_page(page)})
    assert response.status_code == 303
    assert allowed(app, chat["id"]) == [SHOP, STRANGER]
    assert refused(app, chat["id"]) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{STRANGER} may now use the chat" in page
    assert "Websites refused recently" not in page
    assert ask_config(client, chat["key"], STRANGER).status_code == 200


def test_allowing_a_bad_origin_says_why_and_changes_nothing(client, app, chat, auth):
    auth.login("admin@shop.test")
    token = auth.csrf_token()
    for bad in ("", "javascript:alert(1)", "https://x.example/path", "x" * 5000):
        response = client.post(f"/chat/admin/chats/{chat['id']}/allowed-origins",
                               data={"origin": bad, "csrf_token": token},
                               follow_redirects=True)
        assert response.status_code == 200
        assert "Not allowed: enter an origin" in response.get_data(as_text=True)
    assert allowed(app, chat["id"]) == [SHOP]
    response = client.post("/chat/admin/chats/99999/allowed-origins",
                           data={"origin": STRANGER, "csrf_token": token})
    assert response.status_code == 404


def test_allowing_is_for_admins_with_the_csrf_token(client, app, chat, auth):
    url = f"/chat/admin/chats/{chat['id']}/allowed-origins"
    token = auth.csrf_token()
    response = client.post(url, data={"origin": STRANGER, "csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for email in ("carl@shop.test", "alice@shop.test"):
        auth.login(email)
        response = client.post(url, data={"origin": STRANGER, "csrf_token": auth.csrf_token()})
        assert response.status_code == 403, email
        auth.logout()
    auth.login("admin@shop.test")
    assert client.post(url, data={"origin": STRANGER}).status_code == 400  # no CSRF token
    assert allowed(app, chat["id"]) == [SHOP]


def test_agents_do_not_see_refused_websites(client, chat, auth):
    ask_config(client, chat["key"], STRANGER)
    auth.login("alice@shop.test")
    assert client.get(f"/chat/admin/chats/{chat['id']}/edit").status_code == 403
