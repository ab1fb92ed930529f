"""A foreign host shop for the tests: its own user model, login, tables and role callables.

It integrates the plugin the way a shop would, but unlike the demo it names its own
callables for "is admin", "is agent" and "list agents", so those settings are exercised.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import Flask, current_app, redirect, render_template_string, request, session, url_for
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import generate_csrf

from responso_chat import ResponsoChat
from responso_chat.users import Agent

PASSWORD = "secret-pass"

#: (id, e-mail, name, role) of the seeded accounts.
ACCOUNTS = (
    (1, "admin@shop.test", "Ada Admin", "admin"),
    (2, "alice@shop.test", "Alice Agent", "agent"),
    (3, "bob@shop.test", "Bob Other", "agent"),
    (4, "carl@shop.test", "Carl Customer", "customer"),
)


def is_admin_account(user) -> bool:
    """Host callable: admins have the role ``admin``."""
    return user.role == "admin"


def is_agent_account(user) -> bool:
    """Host callable: agents have the role ``agent``."""
    return user.role == "agent"


def list_staff() -> list[Agent]:
    """Host callable: every admin and agent account."""
    host = current_app.extensions["host_shop"]
    accounts = host.db.session.execute(
        sa.select(host.Account).where(host.Account.role.in_(("admin", "agent")))
    ).scalars()
    return [Agent(str(a.id), a.name, a.email) for a in accounts]


#: What the host shop sells: name -> price (its cart pages and the cart callable).
PRODUCTS = {"Linen shirt": "89.90", "Wool scarf": "45.00"}


def session_cart():
    """Host callable (``RESPONSO_CHAT_CART``): the cart the shop keeps in its session."""
    lines = session.get("cart") or {}
    if not lines:
        return None
    items = [{"name": n, "quantity": q, "price": PRODUCTS[n]} for n, q in lines.items()]
    total = sum(Decimal(PRODUCTS[n]) * q for n, q in lines.items())
    return {"items": items, "total": str(total), "currency": "PLN"}


class HostShop:
    """What the host keeps for itself: its db and its user model."""

    def __init__(self, db, account_model):
        self.db = db
        self.Account = account_model


def create_host_app(database_url: str, **config) -> Flask:
    """A host app on ``database_url`` with the plugin registered; ``config`` overrides."""
    db = SQLAlchemy()

    class Account(UserMixin, db.Model):
        __tablename__ = "host_account"
        id = sa.Column(sa.Integer, primary_key=True)
        email = sa.Column(sa.String(200), unique=True, nullable=False)
        name = sa.Column(sa.String(100), nullable=False)
        role = sa.Column(sa.String(20), nullable=False)

    app = Flask("host_shop")
    app.config.update(
        SECRET_KEY="host-test-secret",
        SQLALCHEMY_DATABASE_URI=database_url,
        RESPONSO_CHAT_IS_ADMIN="tests.hostapp:is_admin_account",
        RESPONSO_CHAT_IS_AGENT="tests.hostapp:is_agent_account",
        RESPONSO_CHAT_LIST_AGENTS="tests.hostapp:list_staff",
    )
    app.config.update(config)
    db.init_app(app)
    login_manager = LoginManager(app)
    login_manager.login_view = "login"
    app.extensions["host_shop"] = HostShop(db, Account)

    @login_manager.user_loader
    def load_account(account_id):
        return db.session.get(Account, int(account_id))

    @app.get("/")
    def home():
        return "<!doctype html><title>Host shop</title><h1>Host shop</h1>"

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            account = db.session.execute(
                sa.select(Account).filter_by(email=request.form["email"])
            ).scalar_one_or_none()
            if account is not None and request.form.get("password") == PASSWORD:
                login_user(account)
                return redirect(request.args.get("next") or url_for("home"))
        return render_template_string(
            "<!doctype html><title>Log in</title><form method=post>"
            "<label>E-mail <input name=email type=email></label>"
            "<label>Password <input name=password type=password></label>"
            "<button>Log in</button></form>"
        )

    @app.post("/logout")
    def logout():
        logout_user()
        return redirect(url_for("home"))

    @app.post("/cart/add")
    def cart_add():
        name = request.form.get("product", "")
        if name in PRODUCTS:
            lines = dict(session.get("cart") or {})
            lines[name] = lines.get(name, 0) + 1
            session["cart"] = lines
        return redirect(request.referrer or url_for("home"), 303)

    @app.get("/store/", defaults={"path": ""})
    @app.get("/store/<path:path>")
    def store_page(path):
        """The shop's own pages (same origin as the plugin): the embed code of
        ``HOST_EMBED_KEY``, an "Add to cart" form and a button that calls track()."""
        return render_template_string(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>{{ title }}</title>"
            "</head><body><h1>{{ title }}</h1>"
            "<form method=post action='/cart/add'><input type=hidden name=product "
            "value='Linen shirt'><button>Add to cart</button></form>"
            "<button type=button id=checkout onclick=\"ResponsoChat.track('checkout_started', "
            "{step: 1, coupon: 'WINTER'})\">Go to checkout</button>"
            "{% if key %}<script src='/chat/widget/{{ key }}/loader.js' async></script>"
            "{% endif %}</body></html>",
            title=path.replace("/", " ").strip().title() or "Store",
            key=app.config.get("HOST_EMBED_KEY"),
        )

    @app.get("/csrf-token")
    def csrf_token():
        return generate_csrf()

    ResponsoChat(app, db=db)
    return app


def seed_accounts(app: Flask) -> None:
    """Create the accounts of :data:`ACCOUNTS` (inside an app context)."""
    host = app.extensions["host_shop"]
    for account_id, email, name, role in ACCOUNTS:
        host.db.session.add(host.Account(id=account_id, email=email, name=name, role=role))
    host.db.session.commit()
