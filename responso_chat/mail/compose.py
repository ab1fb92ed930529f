"""An e-mail about a ticket: plain text and HTML, the customer's language, threading headers.

The bodies are the templates ``responso_chat/mail/<name>.txt`` and ``.html`` (a host may
override them); the HTML one is autoescaped, so every customer string is escaped. Every mail
carries :data:`LOOP_HEADER`, so one of ours that comes back into the mailbox is never taken
for a customer's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from flask import current_app

from responso_chat.files import attachments
from responso_chat.mail import signing
from responso_chat.models import utcnow
from responso_chat.state import plugin_state
from responso_chat.vocab import LANGUAGES

#: A header of every mail the plugin sends (mail loops: see :mod:`.incoming`).
LOOP_HEADER = "X-Responso-Chat"
#: The words of customers' mails, by language.
TEXT = {
    "en": {
        "new_ticket": "{agent} wrote to you:",
        "unseen": "You have a new reply about “{subject}”:",
        "transcript": "Here is the transcript of your chat “{subject}”:",
        "continue": "Answer this e-mail, or continue the conversation on our site:",
        "answer": "Answer this e-mail to continue the conversation.",
        "open_link": "Continue the chat",
        "you": "You",
    },
    "fr": {
        "new_ticket": "{agent} vous a écrit :",
        "unseen": "Vous avez une nouvelle réponse à « {subject} » :",
        "transcript": "Voici la transcription de votre conversation « {subject} » :",
        "continue": "Répondez à cet e-mail, ou continuez la conversation sur notre site :",
        "answer": "Répondez à cet e-mail pour continuer la conversation.",
        "open_link": "Continuer la conversation",
        "you": "Vous",
    },
    "pl": {
        "new_ticket": "{agent} napisał(a) do Ciebie:",
        "unseen": "Masz nową odpowiedź w sprawie „{subject}”:",
        "transcript": "Oto zapis Twojej rozmowy „{subject}”:",
        "continue": "Odpowiedz na tego e-maila lub kontynuuj rozmowę na naszej stronie:",
        "answer": "Odpowiedz na tego e-maila, aby kontynuować rozmowę.",
        "open_link": "Kontynuuj czat",
        "you": "Ty",
    },
}


@dataclass(frozen=True)
class Line:
    """One message as a mail shows it."""

    author: str
    body: str
    at: str
    #: The message's files: ``(name, size, signed URL)``, links rather than parts of the
    #: mail (they may be large), valid as long as a visitor token.
    files: tuple = ()


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def language_of(ticket) -> str:
    """The customer's language (en, fr, pl), English when unknown."""
    return ticket.language if ticket.language in LANGUAGES else "en"


def lines_of(ticket, messages, language: str) -> list[Line]:
    """The messages as mail lines: the customer's are "You" in their language."""
    you = TEXT[language]["you"]
    messages = list(messages)
    attachments.describe_messages(
        messages, plugin_state().setting("VISITOR_TOKEN_MAX_AGE"), absolute=True
    )
    return [
        Line(
            author=you if m.author_kind == "customer" else (m.author_name or ticket.chat_name),
            body=m.body,
            at=f"{m.created_at:%Y-%m-%d %H:%M} UTC",
            files=tuple((f["name"], _size(f["size"]), f["url"]) for f in m.attachment_views),
        )
        for m in messages
    ]


def _render(name: str, **context) -> tuple[str, str]:
    env = current_app.jinja_env
    text = env.get_template(f"responso_chat/mail/{name}.txt").render(**context)
    html = env.get_template(f"responso_chat/mail/{name}.html").render(**context)
    return text, html


def shop_link(config, path: str) -> str:
    """An absolute URL of a plugin page on the shop's public address ("" without one)."""
    if not config.shop_url:
        return ""
    from urllib.parse import urlsplit

    parts = urlsplit(config.shop_url)
    prefix = current_app.config["RESPONSO_CHAT_URL_PREFIX"]
    return f"{parts.scheme}://{parts.netloc}{prefix}{path}"


def customer_mail(config, ticket, kind: str, messages, *, agent_name: str = "") -> tuple:
    """The subject, text and HTML of a mail to the customer of ``ticket`` (``kind``:
    new_ticket, unseen or transcript) carrying ``messages``."""
    language = language_of(ticket)
    words = TEXT[language]
    token = signing.link_token(ticket)
    link = shop_link(config, f"/widget/continue/{token}")
    intro = words[kind].format(agent=agent_name or ticket.chat_name, subject=ticket.subject)
    text, html = _render(
        "customer",
        intro=intro,
        lines=lines_of(ticket, messages, language),
        link=link,
        words=words,
        language=language,
        ticket=ticket,
    )
    return ticket.subject, text, html


def agent_mail(config, ticket, message) -> tuple:
    """The subject, text and HTML of a note to an agent: a new customer message."""
    subject = f"[#{ticket.id}] {ticket.subject}"
    text, html = _render(
        "agent",
        ticket=ticket,
        line=lines_of(ticket, [message], "en")[0],
        link=shop_link(config, f"/inbox/tickets/{ticket.id}"),
    )
    return subject, text, html


def build(
    config,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references=(),
    automatic: bool = False,
) -> EmailMessage:
    """The e-mail itself: headers, a plain text part and an HTML alternative."""
    mail = EmailMessage()
    mail["From"] = formataddr((config.from_name, config.from_address))
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = message_id
    if reply_to:
        mail["Reply-To"] = reply_to
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    if automatic:
        mail["Auto-Submitted"] = "auto-generated"
    mail[LOOP_HEADER] = "1"
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    return mail
