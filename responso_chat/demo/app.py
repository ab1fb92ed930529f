"""A small but real host shop, integrating Responso Chat the way any Flask shop would.

It has its own user model, login page, catalogue, cart and checkout, so chat path rules can
be shown on real pages, and the seeded chat's embed code on every storefront page.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import check_password_hash, generate_password_hash

from responso_chat import ResponsoChat
from responso_chat.conversation import chats
from responso_chat.demo.mail_pages import register_mail_pages
from responso_chat.demo.mailcatcher import MailCatcher
from responso_chat.models import Chat
from responso_chat.safe_urls import local_path

DEMO_CHAT_NAME = "Shop chat"

db = SQLAlchemy()
login_manager = LoginManager()
login_manager.login_view = "login"
csrf = CSRFProtect()


class ShopUser(UserMixin, db.Model):
    """A shop account; ``is_admin`` and ``is_agent`` are what the plugin's defaults read."""

    __tablename__ = "shop_user"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column(sa.String(254), unique=True, nullable=False)
    display_name = sa.Column(sa.String(100), nullable=False)
    password_hash = sa.Column(sa.String(256), nullable=False)
    is_admin = sa.Column(sa.Boolean, nullable=False, default=False)
    is_agent = sa.Column(sa.Boolean, nullable=False, default=False)

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)


@login_manager.user_loader
def _load_user(user_id: str):
    return db.session.get(ShopUser, int(user_id))


@dataclass(frozen=True)
class Product:
    """An item of the demo catalogue."""

    slug: str
    name: str
    price: Decimal
    description: str


CATALOGUE = {
    p.slug: p
    for p in (
        Product("linen-shirt", "Linen shirt", Decimal("49.90"), "Breathable linen, relaxed fit."),
        Product("wool-scarf", "Merino wool scarf", Decimal("29.00"), "Soft and warm, 180 cm."),
        Product("canvas-sneakers", "Canvas sneakers", Decimal("64.50"), "Sizes 36 to 46."),
        Product("leather-belt", "Leather belt", Decimal("35.00"), "Full-grain, brass buckle."),
    )
}


#: What a login with an unknown e-mail checks its password against.
_UNKNOWN_USER_HASH = generate_password_hash(secrets.token_hex(16))


def create_app(config: dict | None = None, mail_catcher: MailCatcher | None = None) -> Flask:
    """Build the demo shop app; ``config`` overrides any setting (tests use it), and
    ``mail_catcher`` is the SMTP server whose mails the "Sent e-mails" page lists."""
    app = Flask(__name__)
    app.config.update(
        # A key nobody else knows (sessions end when the demo restarts), or the one given.
        SECRET_KEY=os.environ.get("DEMO_SECRET_KEY") or secrets.token_hex(32),
        SQLALCHEMY_DATABASE_URI="sqlite:///responso-chat-demo.db",
        RESPONSO_CHAT_USER_MODEL="responso_chat.demo.app:ShopUser",
        RESPONSO_CHAT_CART="responso_chat.demo.app:demo_cart",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    app.config.update(config or {})
    if app.config["PREFERRED_URL_SCHEME"] == "https":  # behind TLS: cookies only go encrypted
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    ResponsoChat(app, db=db)
    _register_views(app)
    register_mail_pages(app, mail_catcher)
    return app


def create_shop_tables() -> None:
    """Create the shop's own tables (the host's business; the plugin has its migrations)."""
    ShopUser.__table__.create(db.engine, checkfirst=True)


def embed_snippet() -> str:
    """The seeded chat's embed code, as an admin would copy it from "Show code"."""
    chat = db.session.execute(sa.select(Chat).filter_by(name=DEMO_CHAT_NAME)).scalar_one_or_none()
    if chat is None:
        return ""
    return chats.embed_snippet(chat, request.url_root)


def _cart() -> dict[str, int]:
    return session.setdefault("cart", {})


def demo_cart() -> dict | None:
    """The demo's ``RESPONSO_CHAT_CART``: the cart in the shop's session, as agents see it."""
    lines = [(CATALOGUE[s], n) for s, n in (session.get("cart") or {}).items() if s in CATALOGUE]
    if not lines:
        return None
    return {
        "items": [{"name": p.name, "quantity": n, "price": str(p.price)} for p, n in lines],
        "total": str(sum((p.price * n for p, n in lines), Decimal("0"))),
        "currency": "PLN",
    }


def _register_views(app: Flask) -> None:
    @app.context_processor
    def shop_globals():
        cart = _cart()
        return {
            "cart_count": sum(cart.values()),
            "chat_embed": embed_snippet,
        }

    @app.get("/")
    def home():
        return render_template("demo/home.html", products=CATALOGUE.values())

    @app.get("/products/<slug>")
    def product(slug):
        item = CATALOGUE.get(slug) or abort(404)
        return render_template("demo/product.html", product=item)

    @app.post("/cart")
    def add_to_cart():
        slug = request.form.get("slug", "")
        if slug not in CATALOGUE:
            abort(400)
        cart = _cart()
        cart[slug] = cart.get(slug, 0) + 1
        session.modified = True
        flash(f"{CATALOGUE[slug].name} added to your cart.")
        return redirect(url_for("cart"))

    @app.get("/cart")
    def cart():
        lines = [(CATALOGUE[s], n) for s, n in _cart().items() if s in CATALOGUE]
        total = sum((p.price * n for p, n in lines), Decimal("0"))
        return render_template("demo/cart.html", lines=lines, total=total)

    @app.route("/checkout", methods=["GET", "POST"])
    def checkout():
        if request.method == "POST":
            session.pop("cart", None)
            flash("Thank you! This demo shop does not take real orders.")
            return redirect(url_for("home"))
        return render_template("demo/checkout.html")

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = None
        if request.method == "POST":
            email = request.form.get("email", "").strip().lower()
            user = db.session.execute(
                sa.select(ShopUser).filter_by(email=email)
            ).scalar_one_or_none()
            password = request.form.get("password", "")
            if user is None:  # the same work as a wrong password: timing tells no one apart
                check_password_hash(_UNKNOWN_USER_HASH, password)
            elif user.check_password(password):
                login_user(user)
                return redirect(local_path(request.args.get("next"), url_for("home")))
            error = "Wrong e-mail or password."
        return render_template("demo/login.html", error=error), (401 if error else 200)

    @app.post("/logout")
    def logout():
        logout_user()
        return redirect(url_for("home"))

    @app.get("/account")
    def account():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return render_template("demo/account.html")
