"""Chat administration: create, list, edit, delete; every field's validation; access; CSRF."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import url_for
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from responso_chat.conversation import chats
from responso_chat.conversation.visibility import WEEKDAYS
from responso_chat.models import Chat, Ticket
from responso_chat.state import plugin_state
from tests.factories import make_chat, make_ticket

NEW = "/chat/admin/chats/new"


def valid_form(**overrides) -> dict:
    """Every field of the chat form filled with valid values, as a browser sends them."""
    form = {
        "name": "Storefront",
        "enabled": "1",
        "welcome_message": "Hello! Ask us anything.",
        "alignment": "left",
        "vertical_spacing": "40",
        "path_rule_type": "blacklist",
        "paths": "/checkout\n/account",
        "agent_ids": ["2"],
        "timezone": "Europe/Warsaw",
        "out_of_hours_behaviour": "show_message",
        "out_of_hours_message": "We are closed.",
        "color": "#7C2D12",
        "language": "pl",
        "allowed_origins": "https://shop.example.com",
    }
    for day in WEEKDAYS:
        form[f"hours_{day}_mode"] = "intervals" if day in ("mon", "tue") else "closed"
        form[f"hours_{day}_start"] = ["09:00"]
        form[f"hours_{day}_end"] = ["17:00"]
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


@pytest.fixture
def admin(client, auth):
    """The test client logged in as the shop admin; ``admin.token`` is a CSRF token."""
    auth.login("admin@shop.test")
    client.token = auth.csrf_token()
    return client


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": client.token})


def all_chats(app):
    with app.app_context():
        state = plugin_state()
        query = sa.select(Chat).options(selectinload(Chat.agent_rows))
        return list(state.db.session.execute(query).scalars())


def field_errors(page: str, field: str) -> str:
    """The text of the error shown next to ``field``."""
    match = re.search(rf'<div class="rc-error" id="{field}-error">(.*?)</div>', page, re.S)
    assert match, f"no error next to {field}"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


# --- Creating -----------------------------------------------------------------------------


def test_add_channel_leads_to_the_create_form(admin):
    page = admin.get("/chat/admin/").get_data(as_text=True)
    assert 'href="/chat/admin/channels/new">Add channel' in page
    page = admin.get("/chat/admin/channels/new").get_data(as_text=True)
    assert "<h2>Chat</h2>" in page and f'href="{NEW}"' in page
    page = admin.get(NEW).get_data(as_text=True)
    assert 'value="Europe/Warsaw"' in page  # the default timezone setting
    assert '<option value="auto" selected>' in page
    assert 'value="25"' in page
    assert "widget/loader.js" in page and 'data-preview="1"' in page


def test_create_with_every_field(app, admin):
    form = valid_form(
        paths="/checkout\n/checkout/\n/account?tab=orders\n\n  /p*/sale  \n",
        agent_ids=["2", "3", "2"],
        allowed_origins="https://Shop.Example.com:443\nhttp://localhost:8080/\nhttp://[::1]:5000",
        hours_fri_mode="intervals",
        hours_fri_start=["22:00", "12:00", ""],
        hours_fri_end=["02:00", "14:00", ""],
        hours_sun_mode="all_day",
    )
    response = post(admin, NEW, form)
    assert response.status_code == 302 and response.location.endswith("/chat/admin/")
    [chat] = all_chats(app)
    assert chat.name == "Storefront"
    assert chat.enabled is True
    assert chat.welcome_message == "Hello! Ask us anything."
    assert (chat.alignment, chat.vertical_spacing) == ("left", 40)
    assert chat.path_rule_type == "blacklist"
    assert chat.paths == ["/checkout", "/account", "/p*/sale"]
    assert chat.agent_ids == ["2", "3"]
    assert chat.opening_hours == {
        "mon": [["09:00", "17:00"]],
        "tue": [["09:00", "17:00"]],
        "wed": [],
        "thu": [],
        "fri": [["12:00", "14:00"], ["22:00", "02:00"]],
        "sat": [],
        "sun": [["00:00", "24:00"]],
    }
    assert chat.timezone == "Europe/Warsaw"
    assert chat.out_of_hours_behaviour == "show_message"
    assert chat.out_of_hours_message == "We are closed."
    assert (chat.color, chat.language) == ("#7c2d12", "pl")
    assert chat.allowed_origins == [
        "https://shop.example.com",
        "http://localhost:8080",
        "http://[::1]:5000",
    ]
    assert len(chat.public_key) >= 16 and len(chat.secret) == 64
    page = admin.get("/chat/admin/").get_data(as_text=True)
    assert "Chat “Storefront” created." in page


def test_an_unticked_enabled_box_saves_a_disabled_chat(app, admin):
    assert post(admin, NEW, valid_form(enabled=None)).status_code == 302
    assert all_chats(app)[0].enabled is False


def test_saving_without_agents_needs_the_confirmation(app, admin):
    response = post(admin, NEW, valid_form(agent_ids=None))
    assert response.status_code == 422
    assert "Save without agents" in field_errors(response.get_data(as_text=True), "agent_ids")
    assert all_chats(app) == []
    response = post(admin, NEW, valid_form(agent_ids=None, confirm_no_agents="1"))
    assert response.status_code == 302
    assert all_chats(app)[0].agent_ids == []


LONG_PATHS = "\n".join(f"/p{i}" for i in range(201))
MANY_ORIGINS = "\n".join(f"https://s{i}.example.com" for i in range(51))
BAD_VALUES = [
    ("name", {"name": ""}, "Enter a name"),
    ("name", {"name": "   "}, "Enter a name"),
    ("name", {"name": "n" * 101}, "1 to 100 characters"),
    ("welcome_message", {"welcome_message": "w" * 501}, "at most 500"),
    ("alignment", {"alignment": "middle"}, "left or right"),
    ("alignment", {"alignment": None}, "left or right"),
    ("vertical_spacing", {"vertical_spacing": "-1"}, "0 to 1000"),
    ("vertical_spacing", {"vertical_spacing": "1001"}, "0 to 1000"),
    ("vertical_spacing", {"vertical_spacing": "2.5"}, "whole number"),
    ("vertical_spacing", {"vertical_spacing": "lots"}, "whole number"),
    ("path_rule_type", {"path_rule_type": "greylist"}, "whitelist or blacklist"),
    ("paths", {"paths": "checkout"}, "Line 1 (“checkout”): a path starts with /"),
    ("paths", {"paths": "/ok\n/with space"}, "Line 2"),
    ("paths", {"paths": LONG_PATHS}, "At most 200 paths"),
    ("paths", {"path_rule_type": "whitelist", "paths": "\n \n"}, "needs at least one path"),
    ("agent_ids", {"agent_ids": ["2", "99"]}, "Choose agents from the list"),
    ("agent_ids", {"agent_ids": ["4"]}, "Choose agents from the list"),  # a customer
    ("hours_mon", {"hours_mon_mode": "sometimes"}, "Choose Closed, Open all day or Set hours"),
    (
        "hours_mon",
        {"hours_mon_start": ["09:00", "11:00"], "hours_mon_end": ["12:00", "13:00"]},
        "09:00–12:00 and 11:00–13:00 overlap",
    ),
    ("hours_mon", {"hours_mon_start": ["10:00"], "hours_mon_end": ["10:00"]}, "is empty"),
    ("hours_mon", {"hours_mon_start": ["10:00"], "hours_mon_end": [""]}, "both a start and"),
    ("hours_mon", {"hours_mon_start": ["25:00"], "hours_mon_end": ["26:00"]}, "not a time"),
    ("hours_mon", {"hours_mon_start": ["9am"], "hours_mon_end": ["5pm"]}, "not a time"),
    ("hours_mon", {"hours_mon_start": ["24:00"], "hours_mon_end": ["02:00"]}, "not a time"),
    ("hours_mon", {"hours_mon_start": [""], "hours_mon_end": [""]}, "Add at least one"),
    (
        "hours_mon",
        {
            "hours_mon_start": [f"{h:02d}:00" for h in range(13)],
            "hours_mon_end": [f"{h:02d}:30" for h in range(13)],
        },
        "At most 12 intervals",
    ),
    (
        "hours_sat",
        {
            "hours_fri_mode": "intervals",
            "hours_fri_start": ["22:00"],
            "hours_fri_end": ["02:00"],
            "hours_sat_mode": "all_day",
        },
        "Overlaps Friday’s 22:00–02:00",
    ),
    (
        "hours_mon",
        {"hours_sun_mode": "intervals", "hours_sun_start": ["23:00"], "hours_sun_end": ["10:00"]},
        "Overlaps Sunday’s 23:00–10:00",
    ),
    ("timezone", {"timezone": "Mars/Olympus_Mons"}, "Choose a timezone from the list"),
    ("timezone", {"timezone": ""}, "Choose a timezone from the list"),
    ("timezone", {"timezone": "localtime"}, "Choose a timezone from the list"),
    ("out_of_hours_behaviour", {"out_of_hours_behaviour": "explode"}, "show a message or"),
    ("out_of_hours_message", {"out_of_hours_message": "  "}, "Enter the message shown"),
    ("out_of_hours_message", {"out_of_hours_message": "m" * 501}, "at most 500"),
    ("color", {"color": "red"}, "#rrggbb"),
    ("color", {"color": "#12345"}, "#rrggbb"),
    ("color", {"color": "#gggggg"}, "#rrggbb"),
    ("language", {"language": "de"}, "auto, English, French or Polish"),
    ("allowed_origins", {"allowed_origins": "shop.example.com"}, "Line 1"),
    ("allowed_origins", {"allowed_origins": "https://shop.example.com/chat"}, "no path"),
    ("allowed_origins", {"allowed_origins": "ftp://shop.example.com"}, "such as https://"),
    ("allowed_origins", {"allowed_origins": "https://me@shop.example.com"}, "such as https://"),
    ("allowed_origins", {"allowed_origins": "https://shop.example.com:99999"}, "such as"),
    ("allowed_origins", {"allowed_origins": "https://*.example.com"}, "such as https://"),
    ("allowed_origins", {"allowed_origins": MANY_ORIGINS}, "At most 50 origins"),
]


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    BAD_VALUES,
    ids=[f"{field}-{number}" for number, (field, _o, _m) in enumerate(BAD_VALUES)],
)
def test_a_bad_value_is_refused_next_to_its_field_and_nothing_is_saved(
    app, admin, field, overrides, message
):
    response = post(admin, NEW, valid_form(**overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in field_errors(page, field)
    assert "The chat was not saved" in page
    assert all_chats(app) == []


def test_the_form_keeps_what_was_typed(admin):
    form = valid_form(
        name="Kept <name>",
        color="nope",
        paths="/kept\n/also-kept",
        welcome_message="Typed & kept",
        hours_wed_mode="intervals",
        hours_wed_start=["08:15", "13:00"],
        hours_wed_end=["12:00", "18:45"],
        agent_ids=["3"],
        allowed_origins="https://kept.example.com",
    )
    page = post(admin, NEW, form).get_data(as_text=True)
    assert 'value="Kept &lt;name&gt;"' in page
    assert ">/kept\n/also-kept</textarea>" in page
    assert ">Typed &amp; kept</textarea>" in page
    assert 'name="hours_wed_start" value="13:00"' in page
    assert 'name="hours_wed_end" value="18:45"' in page
    assert re.search(r'<option value="intervals" selected>', page)
    assert 'name="agent_ids" value="3" checked' in page
    assert 'name="agent_ids" value="2" checked' not in page
    assert 'value="left" checked' in page
    assert ">https://kept.example.com</textarea>" in page


def test_names_are_unique_ignoring_case(app, admin):
    with app.app_context():
        make_chat("Storefront")
    response = post(admin, NEW, valid_form(name="storefront"))
    assert response.status_code == 422
    assert "Another chat already has this name" in field_errors(
        response.get_data(as_text=True), "name"
    )
    assert len(all_chats(app)) == 1


# --- The list and "Show code" -----------------------------------------------------------


def test_empty_list_leads_to_create(admin):
    page = admin.get("/chat/admin/").get_data(as_text=True)
    assert "No chat yet" in page and f'href="{NEW}"' in page


def list_row(page: str, name: str) -> str:
    """The HTML of the chat list's row of the chat ``name``."""
    pattern = rf'<tr>\s*<td class="rc-chat-name"><a [^>]*>{name}</a>.*?</tr>'
    return re.search(pattern, page, re.S).group(0)


def test_list_shows_every_chat_with_its_figures_and_code(app, admin):
    with app.app_context():
        shop = make_chat("Shop", agent_ids=("2", "3"), timezone="UTC")
        make_chat("Outlet", agent_ids=(), enabled=False, opening_hours={})
        make_ticket(shop)
        make_ticket(shop, "Second")
        solved = make_ticket(shop, "Done")
        solved.status = "solved"
        plugin_state().db.session.commit()
        key, secret = shop.public_key, shop.secret
    page = admin.get("/chat/admin/").get_data(as_text=True)
    shop_row = list_row(page, "Shop")
    assert "Enabled" in shop_row and "Open all day" in shop_row
    assert "Alice Agent, Bob Other" in shop_row
    assert "<td>2</td>" in shop_row  # open tickets: the solved one does not count
    assert datetime.now(UTC).strftime("%Y-%m-%d") in shop_row
    outlet_row = list_row(page, "Outlet")
    assert "Disabled" in outlet_row and "Closed" in outlet_row and "Admins only" in outlet_row
    # "Show code": the one-tag snippet, where it goes, a Copy button, the identity secret.
    snippet = f'&lt;script src=&#34;http://localhost/chat/widget/{key}/loader.js&#34; async&gt;'
    assert snippet in page
    assert "before the closing <code>&lt;/body&gt;</code> tag" in page
    assert 'data-copy="code-' in page and 'aria-live="polite"' in page
    assert secret in page and "setCustomer" in page and "hashlib.sha256" in page


# --- Editing ------------------------------------------------------------------------------


def test_edit_shows_the_chat_and_saves_changes(app, admin):
    with app.app_context():
        chat = make_chat("Shop", agent_ids=("2",), paths=["/checkout"])
        chat_id = chat.id
    url = f"/chat/admin/chats/{chat_id}/edit"
    page = admin.get(url).get_data(as_text=True)
    assert 'value="Shop"' in page and ">/checkout</textarea>" in page
    assert '<option value="all_day" selected>' in page  # make_chat is open all week
    assert 'name="agent_ids" value="2" checked' in page
    response = post(admin, url, valid_form(name="Shop", agent_ids=["3"], paths="/cart"))
    assert response.status_code == 302
    [chat] = all_chats(app)
    assert (chat.agent_ids, chat.paths, chat.language) == (["3"], ["/cart"], "pl")
    assert "Chat “Shop” saved." in admin.get("/chat/admin/").get_data(as_text=True)


def test_edit_with_errors_changes_nothing(app, admin):
    with app.app_context():
        make_chat("Other")
        chat_id = make_chat("Shop").id
    response = post(admin, f"/chat/admin/chats/{chat_id}/edit", valid_form(name="OTHER"))
    assert response.status_code == 422
    assert "Another chat already has this name" in field_errors(
        response.get_data(as_text=True), "name"
    )
    assert sorted(chat.name for chat in all_chats(app)) == ["Other", "Shop"]


def test_unknown_chat_is_404(admin):
    assert admin.get("/chat/admin/chats/999/edit").status_code == 404
    assert admin.get("/chat/admin/chats/999/delete").status_code == 404


# --- Deleting -----------------------------------------------------------------------------


def test_delete_asks_then_keeps_the_tickets_marked_with_the_chat_name(app, admin):
    with app.app_context():
        chat = make_chat("Shop")
        ticket_ids = [make_ticket(chat).id, make_ticket(chat, "Other").id]
        chat_id = chat.id
    url = f"/chat/admin/chats/{chat_id}/delete"
    page = admin.get(url).get_data(as_text=True)
    assert "Delete the chat “Shop”?" in page
    assert "Its 2 tickets stay in the inbox, marked “Shop”." in page
    assert 'name="csrf_token"' in page
    assert len(all_chats(app)) == 1  # asking deletes nothing
    response = post(admin, url, {})
    assert response.status_code == 302
    assert all_chats(app) == []
    with app.app_context():
        state = plugin_state()
        tickets = [state.db.session.get(Ticket, i) for i in ticket_ids]
        assert [(t.chat_id, t.chat_name) for t in tickets] == [(None, "Shop"), (None, "Shop")]


# --- Access and CSRF ----------------------------------------------------------------------


def admin_urls(app, chat_id: int) -> list[tuple[str, list[str]]]:
    """Every page of the admin blueprint (other teams' included) with its methods."""
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("responso_chat.admin."):
                args = {"chat_id": chat_id} if "chat_id" in rule.arguments else {}
                if "proactive_id" in rule.arguments:  # checked for an admin before any look-up
                    args["proactive_id"] = 1
                methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
                pages.append((url_for(rule.endpoint, **args), methods))
    return pages


def test_an_agent_gets_403_on_every_admin_page(app, client, auth):
    with app.app_context():
        chat_id = make_chat("Shop").id
    auth.login("alice@shop.test")
    token = auth.csrf_token()
    pages = admin_urls(app, chat_id)
    assert len(pages) >= 5
    for url, methods in pages:
        for method in methods:
            data = {**valid_form(), "csrf_token": token} if method == "POST" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code == 403, (method, url)
            assert "Access denied" in response.get_data(as_text=True)
    assert [chat.name for chat in all_chats(app)] == ["Shop"]


def test_anonymous_visitors_are_sent_to_the_login(app, client):
    with app.app_context():
        chat_id = make_chat("Shop").id
    token = client.get("/csrf-token").get_data(as_text=True)
    for url, methods in admin_urls(app, chat_id):
        if "GET" in methods:
            response = client.get(url)
        else:  # a POST-only route: with a valid CSRF token, so the login is what stops it
            response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302 and "/login" in response.location, url


def test_forms_without_a_csrf_token_are_refused(app, admin):
    with app.app_context():
        chat_id = make_chat("Shop").id
    assert admin.post(NEW, data=valid_form(name="New")).status_code == 400
    edit = admin.post(f"/chat/admin/chats/{chat_id}/edit", data=valid_form(name="Renamed"))
    assert edit.status_code == 400
    delete = admin.post(f"/chat/admin/chats/{chat_id}/delete", data={"csrf_token": "forged"})
    assert delete.status_code == 400
    assert [chat.name for chat in all_chats(app)] == ["Shop"]
    for url in (NEW, f"/chat/admin/chats/{chat_id}/edit", f"/chat/admin/chats/{chat_id}/delete"):
        assert 'name="csrf_token"' in admin.get(url).get_data(as_text=True)


# --- Services the widget relies on ------------------------------------------------------


def test_public_config_has_only_public_fields(app):
    with app.app_context():
        chat = make_chat(
            "Shop",
            timezone="UTC",
            opening_hours={"mon": [["09:00", "17:00"]]},
            allowed_origins=["https://shop.example.com"],
        )
        config = chats.public_config(chat, datetime(2025, 6, 2, 10, 0, tzinfo=UTC))
    assert config == {
        "name": "Shop",
        "welcome_message": "Hello! How can we help?",
        "alignment": "right",
        "vertical_spacing": 25,
        "path_rule_type": "blacklist",
        "paths": [],
        "out_of_hours_behaviour": "show_message",
        "out_of_hours_message": "We are closed.",
        "language": "auto",
        "color": "#2563eb",
        "open_now": True,
        "next_change_at": "2025-06-02T17:00:00+00:00",
        "limits": {"name": 100, "email": 254, "subject": 200, "message": 5000,
                   "rating_comment": 1000},
        "agents_online": [],
        "reply_minutes": None,
        "proactive": None,
        "proactive_per_day": 1,
    }


def test_get_by_public_key_finds_enabled_chats_only(app):
    with app.app_context():
        shop = make_chat("Shop")
        off = make_chat("Off", enabled=False)
        assert chats.get_by_public_key(shop.public_key) is shop
        assert chats.get_by_public_key(off.public_key) is None
        assert chats.get_by_public_key("nope") is None


def test_embed_snippet_is_one_script_tag_under_the_url_prefix(make_app):
    app = make_app(RESPONSO_CHAT_URL_PREFIX="/support")
    with app.app_context():
        chat = make_chat("Shop")
        snippet = chats.embed_snippet(chat, "https://shop.example.com/")
    assert snippet == (
        f'<script src="https://shop.example.com/support/widget/{chat.public_key}/loader.js" '
        "async></script>"
    )
    with app.test_request_context(base_url="https://shop.example.com"):
        route = url_for("responso_chat.widget.loader", public_key=chat.public_key, _external=True)
    assert f'src="{route}"' in snippet  # the widget's own loader route


def test_create_and_update_services_validate(app):
    with app.app_context():
        form = {
            **valid_form(),
            "enabled": True,
            "opening_hours": {day: {"mode": "all_day"} for day in WEEKDAYS},
        }
        chat = chats.create_chat(form)
        assert chat.opening_hours["sun"] == [["00:00", "24:00"]]
        with pytest.raises(ValidationError) as caught:
            chats.update_chat(chat, {**form, "vertical_spacing": "2000"})
        assert set(caught.value.messages) == {"vertical_spacing"}
        assert chat.vertical_spacing == 40
