"""The demo shop's "Sent e-mails" page: what the mail catcher received, and a "Reply as the
customer" form that hands an answer to the plugin's incoming mail path.

The answer is built as a mail client would build it (``In-Reply-To``, ``References``, sent to
the signed ``Reply-To`` address, the original quoted under an "On ... wrote:" line) and given
to :func:`responso_chat.mail.incoming.receive`, the function the IMAP poll calls for each mail:
so the reply is matched, stripped of its quoted history and put on the ticket exactly as a
real one would be, and an agent with the ticket open sees it at once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import Flask, flash, redirect, render_template, request, url_for

from responso_chat.demo.mailcatcher import CaughtMail, MailCatcher
from responso_chat.mail import incoming
from responso_chat.state import plugin_state

CATCHER_KEY = "demo_mail_catcher"
_LINK = re.compile(r"https?://\S+/widget/continue/[A-Za-z0-9_.\-]+")
#: What the page says after :func:`incoming.receive` handled the reply.
OUTCOMES = {
    incoming.POSTED: "The reply was put on ticket #{ticket}: an agent with it open sees it now.",
    incoming.OPENED: "The reply matched no ticket, so it opened ticket #{ticket} (E-mail).",
    incoming.DUPLICATE: "This reply was received already.",
    incoming.AUTOMATED: "The reply looked automated, so it was not posted.",
    incoming.TOO_LARGE: "The reply was too large to be read.",
    incoming.UNREADABLE: "The reply had no sender address, so it was not posted.",
}


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    return body.get_content() if body is not None else ""


def quoted_reply(caught: CaughtMail, answer: str) -> bytes:
    """The customer's answer to ``caught``, as their mail client would send it."""
    original = caught.message
    reply = EmailMessage()
    customer = caught.recipients[0] if caught.recipients else str(original["To"])
    reply["From"] = customer
    reply["To"] = str(original["Reply-To"] or original["From"])
    subject = str(original["Subject"] or "")
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = format_datetime(datetime.now(UTC))
    reply["Message-ID"] = make_msgid(domain=customer.rpartition("@")[2] or "customer.invalid")
    if original["Message-ID"]:
        reply["In-Reply-To"] = str(original["Message-ID"])
        references = str(original["References"] or "").split()
        reply["References"] = " ".join([*references, str(original["Message-ID"])])
    when = format_datetime(caught.received_at)
    quoted = "\n".join("> " + line for line in _text(original).splitlines())
    reply.set_content(f"{answer.strip()}\n\nOn {when}, {original['From']} wrote:\n{quoted}\n")
    return reply.as_bytes()


def _rows(catcher: MailCatcher | None) -> list[dict]:
    rows = []
    for caught in catcher.mails() if catcher is not None else ():
        mail = caught.message
        text = _text(mail)
        link = _LINK.search(text)
        rows.append({
            "id": caught.id,
            "subject": str(mail["Subject"] or "(no subject)"),
            "sender": str(mail["From"] or caught.sender),
            "to": ", ".join(caught.recipients),
            "at": caught.received_at,
            "text": text,
            "link": link.group(0) if link else None,
            "answerable": bool(mail["Reply-To"]),
        })
    return rows


def register_mail_pages(app: Flask, catcher: MailCatcher | None) -> None:
    """Add the "Sent e-mails" page of ``catcher`` (None: the page says none is running)."""
    app.extensions[CATCHER_KEY] = catcher

    def page(errors=None, status=200):
        return render_template(
            "demo/mail.html", mails=_rows(catcher), running=catcher is not None,
            errors=errors or {}, smtp=f"{catcher.host}:{catcher.port}" if catcher else "",
        ), status

    @app.get("/mail")
    def sent_mails():
        return page()

    @app.post("/mail/<int:mail_id>/reply")
    def reply_as_customer(mail_id: int):
        caught = catcher.get(mail_id) if catcher is not None else None
        if caught is None:
            flash("That e-mail is no longer in the mail catcher.")
            return redirect(url_for("sent_mails"))
        answer = request.form.get("body", "").strip()
        limit = int(plugin_state().setting("MAX_MESSAGE_LENGTH"))
        if not answer or len(answer) > limit:
            error = "Write a reply." if not answer else f"At most {limit} characters."
            return page({mail_id: error}, 422)
        outcome = incoming.receive(quoted_reply(caught, answer))
        flash(OUTCOMES[outcome.outcome].format(ticket=outcome.ticket_id))
        return redirect(url_for("sent_mails"))
