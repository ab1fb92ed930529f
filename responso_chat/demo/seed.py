"""The demo shop's accounts: one admin, two agents."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.demo.app import ShopUser, db

#: (role, e-mail, password) printed by ``make demo``.
DEMO_LOGINS = (
    ("admin", "admin@example.com", "admin-demo"),
    ("agent", "agent@example.com", "agent-demo"),
    ("agent", "paul@example.com", "paul-demo"),
)
_NAMES = {
    "admin@example.com": "Ola Admin",
    "agent@example.com": "Marta Nowak",
    "paul@example.com": "Paul Martin",
}


def seed_shop_users() -> None:
    """Create the demo accounts that do not exist yet."""
    for role, email, password in DEMO_LOGINS:
        if db.session.execute(sa.select(ShopUser).filter_by(email=email)).scalar_one_or_none():
            continue
        user = ShopUser(
            email=email,
            display_name=_NAMES[email],
            is_admin=role == "admin",
            is_agent=role == "agent",
        )
        user.set_password(password)
        db.session.add(user)
    db.session.commit()
