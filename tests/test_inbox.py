"""The agents' inbox: views, counts, filters, search, keyset pagination and access rules.

The queries run on SQLite and on PostgreSQL (``any_app``); pages and access rules on SQLite.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from responso_chat.conversation import access, messages, ticket_changes
from responso_chat.inbox import paging
from responso_chat.inbox import queries as inbox
from responso_chat.models import ChatAgent, Team, Ticket, utcnow
from responso_chat.users import Agent
from responso_chat.vocab import INBOX_VIEWS
from tests.factories import make_chat, make_ticket

ALICE = Agent("2", "Alice Agent", "alice@shop.test")
BOB = Agent("3", "Bob Other", "bob@shop.test")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request, app):
    """The test runs on SQLite and on PostgreSQL (tables made by the migrations)."""
    return app if request.param == "sqlite" else request.getfixturevalue("pg_app")


def _user(app, user_id: int):
    host = app.extensions["host_shop"]
    return host.db.session.get(host.Account, user_id)


def _ids(page) -> list[int]:
    return [t.id for t in page.items]


def _seed_views():
    """Tickets in every state, in Alice's chat, and one in a chat only Bob may see."""
    state_chat = make_chat("Store chat", agent_ids=("2", "3"))
    other = make_chat("Wholesale chat", agent_ids=("3",))
    t = {}
    t["new"] = make_ticket(state_chat, "Where is my parcel?")  # unassigned, customer wrote
    t["replied"] = make_ticket(state_chat, "Size question")
    ticket_changes.assign(t["replied"], "2", ALICE)
    messages.post_agent_message(t["replied"], "2", "Alice Agent", "It fits large.")
    t["pending"] = make_ticket(state_chat, "Refund")
    ticket_changes.assign(t["pending"], "2", ALICE)
    ticket_changes.set_status(t["pending"], "pending", ALICE)
    messages.post_customer_message(t["pending"], "Any news?")  # pending -> open again
    ticket_changes.set_status(t["pending"], "pending", ALICE)
    t["bobs"] = make_ticket(state_chat, "Bob has it")
    ticket_changes.assign(t["bobs"], "3", BOB)
    t["closed"] = make_ticket(state_chat, "Thanks")
    ticket_changes.set_status(t["closed"], "closed", ALICE)
    t["solved"] = make_ticket(state_chat, "Solved one")
    ticket_changes.set_status(t["solved"], "solved", ALICE)
    t["spam"] = make_ticket(state_chat, "Buy cheap pills")
    ticket_changes.set_status(t["spam"], "spam", ALICE)
    t["hidden"] = make_ticket(other, "Wholesale order")
    return {name: ticket.id for name, ticket in t.items()}


def test_views_and_counts(any_app):
    with any_app.app_context():
        ids = _seed_views()
        alice = _user(any_app, 2)

        def view(name):
            return set(_ids(inbox.list_tickets(alice, inbox.InboxFilters(view=name))))

        visible = set(ids.values()) - {ids["hidden"]}
        assert view("all") == visible
        assert view("to_handle") == {ids["new"], ids["bobs"]}
        assert view("mine") == {ids["replied"], ids["pending"]}
        assert view("awaiting") == {ids["new"], ids["pending"], ids["bobs"]}
        assert view("closed") == {ids["closed"], ids["solved"]}
        assert inbox.view_counts(alice) == {
            "all": 7, "to_handle": 2, "mine": 2, "awaiting": 3, "closed": 2
        }
        admin = _user(any_app, 1)
        assert ids["hidden"] in _ids(inbox.list_tickets(admin))
        assert inbox.view_counts(admin)["all"] == 8
        bob = _user(any_app, 3)
        assert set(_ids(inbox.list_tickets(bob, inbox.InboxFilters(view="mine")))) == {
            ids["bobs"]
        }


def test_filters(any_app):
    with any_app.app_context():
        ids = _seed_views()
        state = any_app.extensions["responso_chat"]
        team = Team(name="Returns")
        state.db.session.add(team)
        state.db.session.commit()
        new = state.db.session.get(Ticket, ids["new"])
        ticket_changes.set_priority(new, "urgent", ALICE)
        ticket_changes.add_tag(new, "VIP", ALICE)
        ticket_changes.set_team(new, team.id, ALICE)
        admin = _user(any_app, 1)
        store_chat_id = new.chat_id

        def matching(**fields):
            return set(_ids(inbox.list_tickets(admin, inbox.InboxFilters(**fields))))

        assert matching(priority="urgent") == {ids["new"]}
        assert matching(tag="vip") == {ids["new"]}
        assert matching(team_id=team.id) == {ids["new"]}
        assert matching(status="pending") == {ids["pending"]}
        assert matching(assignee="3") == {ids["bobs"]}
        assert matching(assignee=inbox.UNASSIGNED, view="to_handle") == {ids["new"], ids["hidden"]}
        assert ids["hidden"] not in matching(chat_id=store_chat_id)
        assert matching(chat_id=store_chat_id, status="closed") == {ids["closed"]}
        assert matching(priority="urgent", status="closed") == set()


def test_search_is_case_insensitive_over_subject_customer_and_messages(any_app):
    with any_app.app_context():
        chat = make_chat(agent_ids=("2",))
        hidden_chat = make_chat("Other chat", agent_ids=("3",))
        by_subject = make_ticket(chat, "Broken ZIPPER on jacket")
        by_name = make_ticket(chat, "Hello", name="Émile Zola", email="emile@example.com")
        by_email = make_ticket(chat, "Hi", email="Sales.Dept@Example.org")
        by_message = make_ticket(chat, "Question", message="The parcel arrived DAMAGED.")
        note = make_ticket(chat, "Note only")
        messages.post_agent_message(note, "2", "Alice Agent", "percent 100% sure", internal=True)
        make_ticket(hidden_chat, "zipper too", message="damaged as well")
        alice = _user(any_app, 2)

        def found(text):
            return set(_ids(inbox.list_tickets(alice, inbox.InboxFilters(q=text))))

        assert found("zipper") == {by_subject.id}
        assert found("ZOLA") == {by_name.id}
        assert found("sales.dept@example") == {by_email.id}
        assert found("damaged") == {by_message.id}
        assert found("100%") == {note.id}  # % is matched literally
        assert found("1_0") == set()
        assert found("nothing like this") == set()
        # Several words: the whole text, in its order (the index is asked for the longest).
        assert found("parcel ARRIVED") == {by_message.id}
        assert found("the parcel arrived damaged.") == {by_message.id}
        assert found("arrived parcel") == set()
        assert found("zipper on") == {by_subject.id}
        assert found("100% sure") == {note.id}
        assert found("percent 1_0") == set()
        bob = _user(any_app, 3)
        assert found("zipper") == {by_subject.id}
        assert set(_ids(inbox.list_tickets(bob, inbox.InboxFilters(q="zipper")))) != {
            by_subject.id
        }


def test_keyset_pagination_walks_every_ticket_once_newest_first(any_app):
    with any_app.app_context():
        state = any_app.extensions["responso_chat"]
        chat = make_chat()
        tickets = [make_ticket(chat, f"Ticket {i}") for i in range(8)]
        same_moment = utcnow() - timedelta(hours=1)
        for i, ticket in enumerate(tickets):  # three tickets share one activity time
            ticket.last_message_at = same_moment if i in (2, 3, 4) else same_moment + timedelta(
                minutes=i
            )
        state.db.session.commit()
        admin = _user(any_app, 1)
        expected = [
            t.id
            for t in sorted(tickets, key=lambda t: (t.last_message_at, t.id), reverse=True)
        ]
        seen, cursor = [], None
        while True:
            page = inbox.list_tickets(admin, cursor=cursor, limit=3)
            seen += _ids(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected
        with pytest.raises(paging.InvalidCursor):
            inbox.list_tickets(admin, cursor="not-a-cursor")
        with pytest.raises(paging.InvalidCursor):
            inbox.list_tickets(admin, cursor=paging.encode_cursor(same_moment, 1)[:-3] + "!!!")


def test_search_pages_walk_every_match_once_newest_first(any_app):
    """A search is the union of matches on the ticket and in its messages: a ticket matching
    both ways comes once, and the keyset pages go through all matches in order."""
    with any_app.app_context():
        state = any_app.extensions["responso_chat"]
        chat = make_chat()
        both = make_ticket(chat, "Refund please", message="I want a refund")
        by_subject = [make_ticket(chat, f"Refund {i}", message="Hello") for i in range(3)]
        by_message = [make_ticket(chat, "Hi", message=f"About a REFUND {i}") for i in range(3)]
        make_ticket(chat, "Other", message="Nothing to see")
        start = utcnow() - timedelta(hours=1)
        matching = [both, *by_subject, *by_message]
        for minutes, ticket in enumerate(matching):
            ticket.last_message_at = start + timedelta(minutes=minutes // 2)  # pairs tie
        state.db.session.commit()
        expected = [t.id for t in sorted(matching, key=lambda t: (t.last_message_at, t.id),
                                         reverse=True)]
        admin = _user(any_app, 1)
        seen, cursor = [], None
        while True:
            page = inbox.list_tickets(admin, inbox.InboxFilters(q="refund"), cursor, limit=2)
            seen += _ids(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected


@pytest.mark.postgres
def test_search_at_volume_uses_the_trigram_indexes(pg_app):
    """With 20,000 tickets and 200,000 messages on PostgreSQL, a rare text is found through
    the trigram index of message bodies, a common word from the activity index; neither
    reads the whole message table."""
    with pg_app.app_context():
        state = pg_app.extensions["responso_chat"]
        chat = make_chat()
        session = state.db.session
        session.execute(
            sa.text(
                "INSERT INTO responso_chat_ticket (channel, chat_id, chat_name, subject, "
                "customer_name, customer_email, customer_email_verified, status, priority, "
                "created_at, updated_at, last_message_at, last_sender, last_seq, "
                "disable_next_autoresponder, out_of_hours) "
                "SELECT 'chat', :chat, 'Store chat', 'Subject ' || n, 'Customer ' || n, "
                "'c' || n || '@example.com', false, 'open', 'normal', now(), now(), "
                "now() - n * interval '1 second', 'customer', 10, false, false "
                "FROM generate_series(1, 20000) AS n"
            ),
            {"chat": chat.id},
        )
        session.execute(sa.text(
            "INSERT INTO responso_chat_message (ticket_id, seq, author_kind, author_name, body, "
            "internal, created_at) SELECT t.id, s, 'customer', 'Customer', "
            "'About the ' || (ARRAY['parcel', 'refund', 'invoice'])[1 + (t.id + s) % 3] "
            "|| ' of order ' || (t.id * 10 + s), false, now() "
            "FROM responso_chat_ticket t CROSS JOIN generate_series(1, 10) AS s"
        ))
        rare = session.execute(sa.text(
            "SELECT ticket_id, body FROM responso_chat_message WHERE seq = 3 "
            "ORDER BY ticket_id LIMIT 1 OFFSET 12345"
        )).one()
        session.commit()
        with state.db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE responso_chat_ticket")
            connection.exec_driver_sql("ANALYZE responso_chat_message")
            connection.commit()
        admin = _user(pg_app, 1)
        number = rare.body.rsplit(" ", 1)[1]
        for _ in range(8):  # past the driver's prepare threshold: the plan stays a custom one
            found = inbox.list_tickets(admin, inbox.InboxFilters(q=f"order {number}"))
            assert _ids(found) == [rare.ticket_id]
            state.db.session.rollback()
        assert len(inbox.list_tickets(admin, inbox.InboxFilters(q="refund")).items) == (
            inbox.PAGE_SIZE
        )
        rare_plan = _plan(state, inbox.page_query(
            admin, inbox.InboxFilters(q=f"order {number}"), None, inbox.PAGE_SIZE + 1))
        common_plan = _plan(state, inbox.page_query(
            admin, inbox.InboxFilters(q="refund"), None, inbox.PAGE_SIZE + 1))
    assert "ix_responso_chat_message_body_trgm" in rare_plan, rare_plan
    # The index is asked for the number alone: "order" is in every message.
    assert f"body ~~* '%{number}%'" in rare_plan and "body ~~* '%order" not in rare_plan
    assert "Scan Backward using ix_responso_chat_ticket_activity" in common_plan, common_plan
    for plan in (rare_plan, common_plan):
        assert "Seq Scan on responso_chat_message" not in plan, plan


def test_list_page_shows_views_counts_filters_and_older_link(app, client, auth):
    with app.app_context():
        chat = make_chat()
        for i in range(inbox.PAGE_SIZE + 2):
            make_ticket(chat, f"Ticket number {i}")
    auth.login("alice@shop.test")
    html = client.get("/chat/inbox/").get_data(as_text=True)
    for label in INBOX_VIEWS.values():
        assert label in html
    assert re.search(r'data-view="all">\s*32<', html)
    for name in ("chat", "status", "priority", "tag", "assignee", "team"):
        assert f'name="{name}"' in html
    assert "Ticket number 31" in html and "Ticket number 0" not in html
    older = re.search(r'href="([^"]+cursor=[^"]+)" rel="next">Older', html).group(1)
    older_html = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert "Ticket number 0" in older_html and "Ticket number 31" not in older_html
    assert ">Newest<" in older_html
    assert client.get("/chat/inbox/?cursor=forged").status_code == 400
    assert client.get("/chat/inbox/?view=everything").status_code == 400
    fragment = client.get("/chat/inbox/?fragment=list&q=number+5").get_data(as_text=True)
    assert fragment.lstrip().startswith("<section") and "Ticket number 5" in fragment
    counts = client.get("/chat/inbox/counts").get_json()["counts"]
    assert counts["all"] == 32 and counts["to_handle"] == 32


def test_view_counts_stop_at_the_limit_and_show_a_plus(app, client, auth, monkeypatch):
    """Past ``COUNT_LIMIT`` a view counts no further: the inbox shows "3+" (here, with a limit
    of 3), exact counts below it."""
    monkeypatch.setattr(inbox, "COUNT_LIMIT", 3)
    with app.app_context():
        chat = make_chat(agent_ids=("2",))
        tickets = [make_ticket(chat, f"Ticket {i}") for i in range(5)]
        ticket_changes.set_status(tickets[0], "closed", _user(app, 1))
        assert inbox.view_counts(_user(app, 2)) == {
            "all": 4, "to_handle": 4, "mine": 0, "awaiting": 4, "closed": 1
        }
        assert [inbox.count_label(n) for n in (0, 3, 4)] == ["0", "3", "3+"]
    auth.login("alice@shop.test")
    html = client.get("/chat/inbox/").get_data(as_text=True)
    assert re.search(r'data-view="all">\s*3\+<', html)
    assert re.search(r'data-view="closed">\s*1<', html)
    answer = client.get("/chat/inbox/counts").get_json()
    assert answer["counts"]["all"] == 4 and answer["labels"]["all"] == "3+"
    assert answer["limit"] == 3


def test_agent_without_access_sees_nothing_and_gets_404(app, client, auth):
    with app.app_context():
        chat = make_chat(agent_ids=("2",))
        ticket_id = make_ticket(chat, "Private matter", message="secret words").id
    auth.login("bob@shop.test")
    assert "Private matter" not in client.get("/chat/inbox/").get_data(as_text=True)
    assert "Private matter" not in client.get("/chat/inbox/?q=secret").get_data(as_text=True)
    assert client.get("/chat/inbox/counts").get_json()["counts"]["all"] == 0
    assert client.get(f"/chat/inbox/tickets/{ticket_id}").status_code == 404
    assert client.get(f"/chat/inbox/tickets/{ticket_id}/messages").status_code == 404
    token = auth.csrf_token()
    response = client.post(
        f"/chat/inbox/tickets/{ticket_id}/status",
        json={"status": "closed"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 404
    response = client.post(
        f"/chat/inbox/tickets/{ticket_id}/messages",
        json={"body": "hi"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 404
    with app.app_context():
        ticket = app.extensions["responso_chat"].db.session.get(
            Ticket, ticket_id
        )
        assert ticket.status == "open" and ticket.assignee_id is None


def test_an_agents_chats_are_read_once_per_transaction_and_afresh_after_it(app, client, auth):
    """The inbox page asks for Alice's chats and the agents list once each; access given or
    taken away counts from the next transaction on (a websocket's next loop)."""
    state = app.extensions["responso_chat"]
    with app.app_context():
        chat = make_chat(agent_ids=("2",))
        chat_id = chat.id
        make_ticket(chat, "Visible one")
        statements = []
        sa.event.listen(state.db.engine, "before_cursor_execute",
                        lambda conn, cursor, statement, *args:
                        statements.append(" ".join(statement.split())))
    auth.login("alice@shop.test")
    statements.clear()
    assert "Visible one" in client.get("/chat/inbox/").get_data(as_text=True)
    chat_reads = [s for s in statements
                  if "FROM responso_chat_chat_agent WHERE responso_chat_chat_agent.user_id" in s]
    agent_reads = [s for s in statements if "FROM host_account WHERE host_account.role" in s]
    assert len(chat_reads) == 1 and len(agent_reads) == 1
    with app.app_context():
        alice = _user(app, 2)
        assert access.visible_chat_ids(alice) == {chat_id}
        state.db.session.execute(sa.delete(ChatAgent).where(ChatAgent.user_id == "2"))
        state.db.session.commit()
        assert access.visible_chat_ids(_user(app, 2)) == set()


def test_customer_account_cannot_open_the_inbox(client, auth):
    auth.login("carl@shop.test")
    assert client.get("/chat/inbox/").status_code == 403
    auth.logout()
    assert client.get("/chat/inbox/").status_code == 302


def test_opening_an_unassigned_ticket_assigns_it_and_tells_the_customer(app, client, auth):
    with app.app_context():
        chat = make_chat(agent_ids=("2", "3"))
        ticket_id = make_ticket(chat).id
    auth.login("alice@shop.test")
    html = client.get(f"/chat/inbox/tickets/{ticket_id}").get_data(as_text=True)
    assert "Alice Agent joined the chat" in html
    assert "Take over" not in html
    client.get(f"/chat/inbox/tickets/{ticket_id}")  # opening again adds nothing
    with app.app_context():
        state = app.extensions["responso_chat"]
        ticket = state.db.session.get(Ticket, ticket_id)
        assert ticket.assignee_id == "2"
        public = messages.messages_after(ticket_id, 0)  # what the customer sees
        assert [m.body for m in public if m.author_kind == "system"] == [
            "Alice Agent joined the chat"
        ]

    auth.logout()
    auth.login("bob@shop.test")
    html = client.get(f"/chat/inbox/tickets/{ticket_id}").get_data(as_text=True)
    assert "Alice Agent has this ticket" in html and "Take over" in html
    with app.app_context():
        state = app.extensions["responso_chat"]
        assert state.db.session.get(Ticket, ticket_id).assignee_id == "2"
    response = client.post(
        f"/chat/inbox/tickets/{ticket_id}/take-over", data={"csrf_token": auth.csrf_token()}
    )
    assert response.status_code == 303
    with app.app_context():
        state = app.extensions["responso_chat"]
        assert state.db.session.get(Ticket, ticket_id).assignee_id == "3"
        bodies = [m.body for m in messages.messages_after(ticket_id, 0, include_internal=True)]
        assert "Bob Other took over the ticket from Alice Agent" in bodies
        assert "Bob Other joined the chat" in bodies


def test_closed_ticket_is_not_assigned_by_opening_it(app, client, auth):
    with app.app_context():
        ticket = make_ticket(make_chat())
        ticket_changes.set_status(ticket, "closed", ALICE)
        ticket_id = ticket.id
    auth.login("alice@shop.test")
    assert client.get(f"/chat/inbox/tickets/{ticket_id}").status_code == 200
    with app.app_context():
        state = app.extensions["responso_chat"]
        assert state.db.session.get(Ticket, ticket_id).assignee_id is None


def test_ticket_page_tells_messages_apart_and_shows_the_side_panel(app, client, auth):
    with app.app_context():
        chat = make_chat()
        ticket = make_ticket(chat, "Lost <parcel>", page_url="https://shop.test/p/1",
                             page_title="Linen shirt")
        messages.post_agent_message(ticket, "2", "Alice Agent", "Looking into it")
        messages.post_agent_message(ticket, "2", "Alice Agent", "check Base", internal=True)
        ticket_changes.set_priority(ticket, "high", ALICE)
        ticket_id = ticket.id
    auth.login("alice@shop.test")
    html = client.get(f"/chat/inbox/tickets/{ticket_id}").get_data(as_text=True)
    assert "Lost &lt;parcel&gt;" in html and "Lost <parcel>" not in html
    assert 'class="rc-msg rc-msg-customer"' in html
    assert 'class="rc-msg rc-msg-agent"' in html
    assert 'class="rc-msg rc-msg-agent rc-msg-internal"' in html
    assert 'class="rc-msg rc-msg-system rc-msg-internal"' in html
    assert "Alice Agent set priority to high" in html
    for text in (f"Ticket #{ticket_id}", "Created", "Last message", "Store chat", "Inbox",
                 "zoe<wbr>@example.com", "unverified", "Linen shirt", "Tags", "Watchers", "Tasks",
                 "Base orders", "Quick actions", "Create task linked to this ticket",
                 "View projects", '<details class="rc-menu">', "Disable next auto-responder",
                 "Add sender to contacts", "Close ticket", "New ticket to this customer",
                 'list="rc-tag-options"'):
        assert text in html, text


def test_removed_chat_keeps_its_name_on_the_ticket(app, client, auth):
    from responso_chat.conversation.chats import delete_chat

    with app.app_context():
        chat = make_chat("Old chat")
        ticket_id = make_ticket(chat).id
        delete_chat(chat)
    auth.login("admin@shop.test")
    html = client.get(f"/chat/inbox/tickets/{ticket_id}").get_data(as_text=True)
    assert "Old chat" in html and "chat removed" in html


def test_agent_sends_replies_and_internal_notes_idempotently(app, client, auth):
    with app.app_context():
        ticket_id = make_ticket(make_chat()).id
    auth.login("alice@shop.test")
    headers = {"X-CSRFToken": auth.csrf_token()}
    url = f"/chat/inbox/tickets/{ticket_id}/messages"
    first = client.post(url, json={"body": " Hi Zoe \n", "client_msg_id": "c-1"}, headers=headers)
    assert first.status_code == 201
    event = first.get_json()["message"]
    assert event["body"] == "Hi Zoe" and event["author_name"] == "Alice Agent"
    again = client.post(url, json={"body": "Hi Zoe", "client_msg_id": "c-1"}, headers=headers)
    assert again.get_json()["message"]["seq"] == event["seq"]
    note = client.post(url, json={"body": "VIP", "internal": True}, headers=headers)
    assert note.get_json()["message"]["internal"] is True
    assert client.post(url, json={"body": "   "}, headers=headers).status_code == 422
    assert client.post(url, json=["not", "an", "object"], headers=headers).status_code == 400
    assert client.post(url, json={"body": "no token"}).status_code == 400
    too_long = "x" * (app.config["RESPONSO_CHAT_MAX_MESSAGE_LENGTH"] + 1)
    refused = client.post(url, json={"body": too_long}, headers=headers)
    assert refused.status_code == 422 and "body" in refused.get_json()["errors"]
    caught_up = client.get(f"{url}?after={event['seq'] - 1}").get_json()["messages"]
    assert [m["body"] for m in caught_up] == ["Hi Zoe", "VIP"]
    with app.app_context():
        customer_sees = [m.body for m in messages.messages_after(ticket_id, 0)]
        assert "VIP" not in customer_sees and customer_sees.count("Hi Zoe") == 1
    form = client.post(url, data={"body": "From the form", "csrf_token": headers["X-CSRFToken"]})
    assert form.status_code == 303


def test_watched_tickets_are_on_the_page_for_notifications(app, client, auth):
    with app.app_context():
        chat = make_chat(agent_ids=("2", "3"))
        watched = make_ticket(chat, "Watched")
        ticket_changes.add_watcher(watched, "2", BOB)
        closed = make_ticket(chat, "Closed watched")
        ticket_changes.add_watcher(closed, "2", BOB)
        ticket_changes.set_status(closed, "closed", BOB)
        watched_id = watched.id
        assert inbox.watched_ticket_ids(_user(app, 2)) == [watched_id]
        assert inbox.watched_ticket_ids(_user(app, 3)) == []
    auth.login("alice@shop.test")
    html = client.get("/chat/inbox/").get_data(as_text=True)
    assert f'data-watching="{watched_id}"' in html


def _plan(state, query) -> str:
    with state.db.engine.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}")
        return "\n".join(row[0] for row in rows)


@pytest.mark.postgres
def test_keyset_pages_stay_on_indexes_with_100000_tickets(pg_app):
    """Newest-first pages at any depth are read from an activity index, never sorted."""
    with pg_app.app_context():
        state = pg_app.extensions["responso_chat"]
        mine, other = make_chat(agent_ids=("2",)), make_chat("Other", agent_ids=("3",))
        state.db.session.execute(
            sa.text(
                "INSERT INTO responso_chat_ticket (channel, chat_id, chat_name, subject, "
                "customer_name, customer_email, customer_email_verified, status, priority, "
                "created_at, updated_at, last_message_at, last_sender, last_seq, "
                "disable_next_autoresponder, out_of_hours) "
                "SELECT 'chat', CASE WHEN n % 2 = 0 THEN :mine ELSE :other END, 'Store chat', "
                "'Subject ' || n, 'Customer ' || n, 'c' || n || '@example.com', false, "
                "(ARRAY['open', 'pending', 'solved', 'closed'])[n % 4 + 1], 'normal', now(), "
                "now(), now() - n * interval '1 second', 'customer', 1, false, false "
                "FROM generate_series(1, 100000) AS n"
            ),
            {"mine": mine.id, "other": other.id},
        )
        state.db.session.commit()
        with state.db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE responso_chat_ticket")
            connection.commit()
        admin, alice = _user(pg_app, 1), _user(pg_app, 2)
        first = inbox.list_tickets(admin)
        deep = inbox.list_tickets(admin, cursor=paging.encode_cursor(
            first.items[-1].last_message_at - timedelta(hours=20), 10**6
        ))
        assert len(first.items) == len(deep.items) == inbox.PAGE_SIZE
        second = inbox.list_tickets(alice, cursor=inbox.list_tickets(alice).next_cursor)
        assert {t.chat_id for t in second.items} == {mine.id}
        cursor = first.next_cursor
        for user, filters in (
            (admin, inbox.InboxFilters()),
            (alice, inbox.InboxFilters()),
            (admin, inbox.InboxFilters(view="to_handle")),
            (alice, inbox.InboxFilters(view="closed")),
        ):
            plan = _plan(state, inbox.page_query(user, filters, cursor, inbox.PAGE_SIZE + 1))
            assert "Index Scan Backward using ix_responso_chat_ticket_" in plan, plan
            assert "Sort" not in plan, plan
