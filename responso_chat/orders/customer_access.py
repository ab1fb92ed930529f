"""Who may see a customer's orders in the widget: a verified e-mail, and the access token
the widget holds for it.

An e-mail typed into the widget proves nothing (DESIGN.md, section 8). It counts as the
customer's when:

- the shop signed it (``setCustomer({email, signature})``, HMAC with the chat's secret);
- the widget runs on the host's own pages and the host's logged-in user has that e-mail
  (the host's session came with the request; the same rule as Start chat);
- the customer typed the one-time code e-mailed to it: six random digits, stored as an HMAC
  with the app's ``SECRET_KEY``, valid ``RESPONSO_CHAT_ORDER_CODE_MAX_AGE`` seconds, once,
  for ``RESPONSO_CHAT_ORDER_CODE_ATTEMPTS`` wrong entries at most; a new code replaces the
  previous one.

The widget then gets an access token (signed: chat and e-mail) valid
``RESPONSO_CHAT_ORDER_ACCESS_MAX_AGE`` seconds, which every "My orders" request carries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer

from responso_chat.conversation import chats
from responso_chat.conversation.visitor import email_is_verified
from responso_chat.mail import outgoing
from responso_chat.mail.settings import mail_config
from responso_chat.models import OrderCode, utcnow
from responso_chat.orders.sync import normalize_email
from responso_chat.state import plugin_state
from responso_chat.vocab import LANGUAGES

SALT = "responso-chat-orders"
CODE_DIGITS = 6
#: How long an expired code's row is kept (then the next code sent deletes it).
KEPT_AFTER_EXPIRY = timedelta(days=1)
#: The code mail's words, by language.
CODE_MAIL = {
    "en": ("Your code to see your orders", "Your code to see your orders at {shop}: {code}",
           "It is valid for {minutes} minutes. If you did not ask for it, ignore this e-mail."),
    "fr": ("Votre code pour voir vos commandes", "Votre code pour voir vos commandes chez "
           "{shop} : {code}", "Il est valable {minutes} minutes. Si vous ne l’avez pas demandé, "
           "ignorez cet e-mail."),
    "pl": ("Twój kod do podglądu zamówień", "Twój kod do podglądu zamówień w {shop}: {code}",
           "Jest ważny przez {minutes} min. Jeśli o niego nie prosiłeś(-aś), zignoruj tę "
           "wiadomość."),
}


class CodesUnavailable(Exception):
    """No e-mail can be sent (no SMTP server set up): codes cannot be used."""


def _session():
    return plugin_state().db.session


def _code_hash(chat_id: int, email: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"{chat_id}:{email}:{code}".encode(), hashlib.sha256).hexdigest()


def send_code(chat, email: str, language: str | None = None) -> None:
    """E-mail a new one-time code to ``email`` (through the outbox); earlier codes of that
    address for this chat stop working. Raises :class:`CodesUnavailable` without SMTP."""
    if not mail_config().sending:
        raise CodesUnavailable()
    state, session = plugin_state(), _session()
    email, now = normalize_email(email), utcnow()
    # codes that ended a day ago are of no use any more: the table keeps only recent ones
    session.execute(sa.delete(OrderCode).where(OrderCode.expires_at < now - KEPT_AFTER_EXPIRY)
                    .execution_options(synchronize_session=False))
    session.execute(
        sa.update(OrderCode)
        .where(OrderCode.chat_id == chat.id, OrderCode.email == email, OrderCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    max_age = state.setting("ORDER_CODE_MAX_AGE")
    session.add(OrderCode(
        chat_id=chat.id, email=email, code_hash=_code_hash(chat.id, email, code),
        created_at=now, expires_at=now + timedelta(seconds=max_age), attempts=0,
    ))
    language = language if language in LANGUAGES else "en"
    subject, intro, note = CODE_MAIL[language]
    words = {"shop": chat.name, "code": code, "minutes": max(1, max_age // 60)}
    intro, note = intro.format(**words), note.format(**words)
    html = render_template("responso_chat/mail/code.html", intro=intro, note=note, code=code,
                           language=language)
    outgoing.queue_without_ticket("code", email, subject, f"{intro}\n\n{note}\n", html)
    session.commit()


def check_code(chat, email: str, code: str) -> bool:
    """Whether ``code`` is the live code of ``email``; a right code is used up, a wrong one
    counts against the code's attempts (both committed at once, so two tries at the same
    time cannot both pass)."""
    state, session = plugin_state(), _session()
    email, now = normalize_email(email), utcnow()
    attempts = state.setting("ORDER_CODE_ATTEMPTS")
    live = session.scalars(
        sa.select(OrderCode)
        .where(
            OrderCode.chat_id == chat.id,
            OrderCode.email == email,
            OrderCode.used_at.is_(None),
            OrderCode.expires_at > now,
        )
        .order_by(OrderCode.id.desc())
        .limit(1)
    ).first()
    if live is None:
        return False
    code_id, code_hash = live.id, live.code_hash
    counted = session.execute(
        sa.update(OrderCode)
        .where(OrderCode.id == code_id, OrderCode.used_at.is_(None),
               OrderCode.attempts < attempts)
        .values(attempts=OrderCode.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    right = counted == 1 and hmac.compare_digest(code_hash, _code_hash(chat.id, email, code))
    if right:
        right = session.execute(
            sa.update(OrderCode)
            .where(OrderCode.id == code_id, OrderCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
    session.commit()
    return right


def shop_vouches(chat, email: str, signature: str | None, same_site_user) -> bool:
    """Whether the shop itself says ``email`` is this customer's (signature, host login)."""
    return email_is_verified(chat, email, signature, same_site_user)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_access(chat, email: str) -> str:
    """The widget's token to see and act on the orders of the verified ``email``."""
    return _serializer().dumps({"c": chat.id, "e": normalize_email(email)})


def access_of(token: str | None):
    """``(chat, email)`` of a valid access token of an enabled chat, else None."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=plugin_state().setting("ORDER_ACCESS_MAX_AGE"))
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    chat_id, email = data.get("c"), data.get("e")
    if not isinstance(chat_id, int) or not isinstance(email, str) or not email:
        return None
    chat = chats.get_chat(chat_id)
    if chat is None or not chat.enabled:
        return None
    return chat, email
