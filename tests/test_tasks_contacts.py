"""Tasks, projects, contacts and teams: pages, validation and who sees what."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from responso_chat.conversation import messages
from responso_chat.inbox import contacts, tasks, teams
from responso_chat.models import Task
from responso_chat.users import Agent
from tests.factories import make_chat, make_ticket

ALICE = Agent("2", "Alice Agent", "alice@shop.test")


def _form(client, auth, url, **data):
    return client.post(url, data={"csrf_token": auth.csrf_token(), **data})


def _models(app):
    return app.extensions["responso_chat"]


def test_create_task_linked_to_a_ticket_from_its_menu(app, client, auth):
    with app.app_context():
        ticket_id = make_ticket(make_chat()).id
    auth.login("alice@shop.test")
    page = client.get(f"/chat/inbox/tasks/new?ticket_id={ticket_id}").get_data(as_text=True)
    assert "Linked to ticket" in page and f'name="ticket_id" value="{ticket_id}"' in page
    response = _form(
        client, auth, "/chat/inbox/tasks/new",
        title="Call the courier", description="Ask about parcel 42", assignee_id="2",
        due_date="2030-05-01", ticket_id=str(ticket_id),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/chat/inbox/tickets/{ticket_id}")
    with app.app_context():
        state = _models(app)
        task = state.db.session.execute(sa.select(Task)).scalar_one()
        assert (task.title, task.assignee_id, task.due_date, task.ticket_id) == (
            "Call the courier", "2", date(2030, 5, 1), ticket_id
        )
        lines = [m.body for m in messages.messages_after(ticket_id, 0, include_internal=True)]
        assert f"Alice Agent created task #{task.id} “Call the courier”" in lines
    ticket_page = client.get(f"/chat/inbox/tickets/{ticket_id}").get_data(as_text=True)
    assert "Call the courier" in ticket_page and "due 2030-05-01" in ticket_page


def test_task_form_errors_keep_what_was_typed(app, client, auth):
    with app.app_context():
        hidden = make_ticket(make_chat("Other", agent_ids=("3",))).id
    auth.login("alice@shop.test")
    cases = [
        ({"title": "  ", "description": "kept text"}, "Enter a title."),
        ({"title": "Due", "due_date": "31/12/2030"}, "Enter a date."),
        ({"title": "Project", "project_id": "999"}, "Choose a project from the list."),
        ({"title": "Who", "assignee_id": "4"}, "Choose an agent from the list."),
        ({"title": "Hidden", "ticket_id": str(hidden)}, "No such ticket."),
    ]
    for data, message in cases:
        response = _form(client, auth, "/chat/inbox/tasks/new", **data)
        assert response.status_code == 422, data
        html = response.get_data(as_text=True)
        assert message in html, data
    assert ">kept text</textarea>" in _form(
        client, auth, "/chat/inbox/tasks/new", title="", description="kept text"
    ).get_data(as_text=True)
    with app.app_context():
        state = _models(app)
        count = sa.select(sa.func.count(Task.id))
        assert state.db.session.execute(count).scalar() == 0
    assert client.get(f"/chat/inbox/tasks/new?ticket_id={hidden}").status_code == 404
    refused = client.post(
        "/chat/inbox/tasks/new", json={"title": ""}, headers={"X-CSRFToken": auth.csrf_token()}
    )
    assert refused.status_code == 422 and "title" in refused.get_json()["errors"]


def test_task_lists_mine_all_and_done(app, client, auth):
    with app.app_context():
        visible = make_ticket(make_chat())
        hidden = make_ticket(make_chat("Other", agent_ids=("3",)))
        bob = Agent("3", "Bob Other", "bob@shop.test")
        late = tasks.create_task(ALICE, title="Late one",
                                 assignee_id="2", due_date=date(2020, 1, 2))
        soon = tasks.create_task(ALICE, title="Soon one",
                                 assignee_id="2", due_date=date(2031, 1, 2))
        tasks.create_task(ALICE, title="Undated mine", assignee_id="2")
        tasks.create_task(ALICE, title="Task of Bob", assignee_id="3", ticket=visible)
        secret = tasks.create_task(bob, title="Secret task", assignee_id="3", ticket=hidden)
        done = tasks.create_task(ALICE, title="Finished", assignee_id="2")
        tasks.set_done(done, True, ALICE)
        late_id, soon_id, secret_id = late.id, soon.id, secret.id
    auth.login("alice@shop.test")
    mine = client.get("/chat/inbox/tasks").get_data(as_text=True)
    assert mine.index("Late one") < mine.index("Soon one") < mine.index("Undated mine")
    assert "(overdue)" in mine and "Task of Bob" not in mine and "Finished" not in mine
    everyone = client.get("/chat/inbox/tasks?scope=all").get_data(as_text=True)
    assert "Task of Bob" in everyone and "Secret task" not in everyone
    assert "Finished" in client.get("/chat/inbox/tasks?scope=all&done=1").get_data(as_text=True)
    assert client.get("/chat/inbox/tasks?scope=nobody").status_code == 400

    response = _form(client, auth, f"/chat/inbox/tasks/{late_id}/done", done="true",
                     next="/chat/inbox/tasks")
    assert response.status_code == 303 and response.headers["Location"] == "/chat/inbox/tasks"
    assert "Late one" not in client.get("/chat/inbox/tasks").get_data(as_text=True)
    reopened = client.post(f"/chat/inbox/tasks/{late_id}/done",
                           json={"done": False}, headers={"X-CSRFToken": auth.csrf_token()})
    assert reopened.get_json() == {"ok": True, "done": False}
    evil = _form(client, auth, f"/chat/inbox/tasks/{soon_id}/done", done="true",
                 next="//evil.example/")
    assert evil.headers["Location"] == "/chat/inbox/tasks"
    hidden_task = _form(client, auth, f"/chat/inbox/tasks/{secret_id}/done", done="true")
    assert hidden_task.status_code == 404


def test_projects_page_groups_tasks_and_creates_projects(app, client, auth):
    auth.login("alice@shop.test")
    assert _form(client, auth, "/chat/inbox/projects", name="Spring sale").status_code == 303
    duplicate = _form(client, auth, "/chat/inbox/projects", name="spring SALE")
    assert duplicate.status_code == 422
    assert "A project with this name exists." in duplicate.get_data(as_text=True)
    assert _form(client, auth, "/chat/inbox/projects", name="").status_code == 422
    with app.app_context():
        project = tasks.all_projects()[0]
        tasks.create_task(ALICE, title="Banner", project_id=project.id)
    html = client.get("/chat/inbox/projects").get_data(as_text=True)
    assert "Spring sale" in html and "Banner" in html and "1 open" in html


def test_contacts_list_search_edit_and_tickets(app, client, auth):
    with app.app_context():
        mine = make_chat()
        other = make_chat("Other", agent_ids=("3",))
        make_ticket(mine, "Visible ticket", email="ANNA@example.com")
        make_ticket(other, "Hidden ticket", email="anna@example.com")
    auth.login("alice@shop.test")
    created = _form(client, auth, "/chat/inbox/contacts",
                    name="Anna Kowalska", email="Anna@Example.com", phone="+48 600 100 200")
    assert created.status_code == 303
    contact_url = created.headers["Location"]
    page = client.get(contact_url).get_data(as_text=True)
    assert "Visible ticket" in page and "Hidden ticket" not in page
    assert 'value="anna@example.com"' in page
    duplicate = _form(client, auth, "/chat/inbox/contacts", name="Other Anna",
                      email="anna@EXAMPLE.com")
    assert duplicate.status_code == 422
    assert "Another contact has this e-mail address." in duplicate.get_data(as_text=True)
    bad = _form(client, auth, "/chat/inbox/contacts", name="", email="not-an-email")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Enter a name." in html
    assert "Enter a valid e-mail address." in html and 'value="not-an-email"' in html
    _form(client, auth, "/chat/inbox/contacts", name="Bruno", email="bruno@example.com")
    for query, expected, absent in (
        ("kowal", "Anna Kowalska", "Bruno"),
        ("BRUNO@", "Bruno", "Anna Kowalska"),
        ("600 100", "Anna Kowalska", "Bruno"),
    ):
        html = client.get(f"/chat/inbox/contacts?q={query}").get_data(as_text=True)
        assert expected in html and absent not in html, query
    edited = _form(client, auth, contact_url, name="Anna K.", email="anna@example.com",
                   phone="", notes="Prefers e-mail")
    assert edited.status_code == 303
    with app.app_context():
        contact = contacts.contact_for_email("ANNA@example.com")
        assert (contact.name, contact.notes, contact.phone) == ("Anna K.", "Prefers e-mail", "")
    clash = _form(client, auth, contact_url, name="Anna", email="bruno@example.com")
    assert clash.status_code == 422
    assert client.get("/chat/inbox/contacts/9999").status_code == 404


def test_contacts_paginate(app, client, auth):
    with app.app_context():
        for i in range(contacts.PAGE_SIZE + 1):
            contacts.create_contact(name=f"Person {i:03}", email=f"p{i}@example.com")
    auth.login("alice@shop.test")
    first = client.get("/chat/inbox/contacts").get_data(as_text=True)
    assert "Person 049" in first and "Person 050" not in first and "rel=\"next\"" in first
    second = client.get("/chat/inbox/contacts?page=2").get_data(as_text=True)
    assert "Person 050" in second and "Person 000" not in second


def test_teams_are_managed_by_admins(app, client, auth):
    auth.login("alice@shop.test")
    assert client.get("/chat/inbox/teams").status_code == 403
    assert _form(client, auth, "/chat/inbox/teams", name="Sneaky").status_code == 403
    auth.logout()
    auth.login("admin@shop.test")
    token = auth.csrf_token()
    response = client.post("/chat/inbox/teams",
                           data={"csrf_token": token, "name": "Returns", "members": ["2", "3"]})
    assert response.status_code == 303
    with app.app_context():
        team = teams.list_teams()[0]
        assert teams.member_ids(team) == ["2", "3"]
        team_id = team.id
    assert _form(client, auth, "/chat/inbox/teams", name="returns").status_code == 422
    unknown = client.post("/chat/inbox/teams",
                          data={"csrf_token": token, "name": "Ghosts", "members": ["4"]})
    assert unknown.status_code == 422
    assert "Choose members from the list of agents." in unknown.get_data(as_text=True)
    renamed = client.post(f"/chat/inbox/teams/{team_id}",
                          data={"csrf_token": token, "name": "Returns & refunds", "members": "2"})
    assert renamed.status_code == 303
    with app.app_context():
        team = teams.get_team(team_id)
        assert team.name == "Returns & refunds" and teams.member_ids(team) == ["2"]
    html = client.get("/chat/inbox/teams").get_data(as_text=True)
    assert "Returns &amp; refunds" in html and "Alice Agent" in html
    assert _form(client, auth, f"/chat/inbox/teams/{team_id}", name="").status_code == 422
    assert _form(client, auth, "/chat/inbox/teams/999", name="X").status_code == 404


def test_nav_links_for_agents_and_admins(client, auth):
    auth.login("alice@shop.test")
    html = client.get("/chat/inbox/tasks").get_data(as_text=True)
    for label in ("Inbox", "Tasks", "Projects", "Contacts"):
        assert f">{label}</a>" in html
    assert ">Teams</a>" not in html
    auth.logout()
    auth.login("admin@shop.test")
    assert ">Teams</a>" in client.get("/chat/inbox/tasks").get_data(as_text=True)
