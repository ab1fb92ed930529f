"""Users come from the host's flask-login; roles from the host's callables."""

from __future__ import annotations

import pytest

from responso_chat.users import Agent, list_agents


@pytest.mark.parametrize("path", ["/chat/admin/", "/chat/inbox/"])
def test_anonymous_users_go_to_the_hosts_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize(
    ("email", "admin_status", "inbox_status"),
    [
        ("admin@shop.test", 200, 200),
        ("alice@shop.test", 403, 200),
        ("carl@shop.test", 403, 403),
    ],
)
def test_roles_decide_access(client, auth, email, admin_status, inbox_status):
    auth.login(email)
    admin = client.get("/chat/admin/")
    inbox = client.get("/chat/inbox/")
    assert (admin.status_code, inbox.status_code) == (admin_status, inbox_status)
    for response in (admin, inbox):
        if response.status_code == 403:
            assert "Access denied" in response.get_data(as_text=True)


def test_403_is_json_for_json_clients(client, auth):
    auth.login("carl@shop.test")
    response = client.get("/chat/inbox/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json == {"errors": {"_request": ["You do not have access to this."]}}


def test_agents_listed_from_the_hosts_callable(app):
    with app.app_context():
        agents = list_agents()
    assert agents == [
        Agent("1", "Ada Admin", "admin@shop.test"),
        Agent("2", "Alice Agent", "alice@shop.test"),
        Agent("3", "Bob Other", "bob@shop.test"),
    ]


def test_default_callables_read_attributes_and_the_user_model(tmp_path):
    from responso_chat.demo.app import ShopUser, create_app, create_shop_tables, db
    from responso_chat.demo.seed import seed_shop_users

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.db"})
    with app.app_context():
        create_shop_tables()
        seed_shop_users()
        names = [agent.name for agent in list_agents()]
        assert names == ["Marta Nowak", "Ola Admin", "Paul Martin"]
        from responso_chat.users import is_admin, is_agent

        admin = db.session.query(ShopUser).filter_by(email="admin@example.com").one()
        agent = db.session.query(ShopUser).filter_by(email="agent@example.com").one()
        assert is_admin(admin) and is_agent(admin)
        assert is_agent(agent) and not is_admin(agent)
        db.session.remove()
        db.engine.dispose()
