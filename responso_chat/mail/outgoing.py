"""What goes out by e-mail, as outbox jobs, and its delivery by SMTP with retries.

Each job below composes its mail at run time from what the database says then, stores it
(a :class:`MailRecord` ``queued``, the raw mail in it) and writes a :func:`deliver` job to the
outbox in the same transaction. :func:`deliver` hands it to the SMTP server; a failure is tried
again later (``RESPONSO_CHAT_MAIL_SEND_RETRIES`` times, after :data:`RETRY_MINUTES`), shown on
the admin page, and told on the ticket as an internal system line. Nothing is written while
no SMTP server and from address are set.

- :func:`send_new_ticket`: "New ticket to this customer" always goes by e-mail.
- :func:`send_unseen`: agent replies and auto-responses the customer has not seen in the
  widget ``RESPONSO_CHAT_MAIL_UNSEEN_MINUTES`` after the first of them, in one e-mail
  (``Auto-Submitted: auto-generated`` when it holds only auto-responses).
- :func:`send_transcript`: the conversation, when a chat is closed (optional).
- :func:`notify_agents`: a customer's message, to the assignee and watchers who do not have
  the ticket open (optional).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta
from email import message_from_string
from email import policy as email_policy

import sqlalchemy as sa

from responso_chat.conversation import messages as conversation
from responso_chat.conversation import presence, wire
from responso_chat.infra import outbox
from responso_chat.infra.broker import agent_ticket_channel
from responso_chat.mail import compose, signing
from responso_chat.mail.settings import mail_config, record_send_error
from responso_chat.models import MailRecord, Message, Ticket, ticket_details, utcnow
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id

log = logging.getLogger(__name__)

_JOBS = "responso_chat.mail.outgoing."
#: Minutes before each new try of a mail the SMTP server did not take.
RETRY_MINUTES = (1, 5, 15, 60, 240)
#: Authors whose public messages a customer may miss and get by e-mail.
_TO_CUSTOMER = ("agent", "automation")
#: The mails that carry the conversation to the customer (up to their ``up_to_seq``).
CUSTOMER_MAIL_KINDS = ("new_ticket", "unseen", "transcript")


class MailNotSent(Exception):
    """The SMTP server could not be reached or refused the mail; the text says why."""


def _session():
    return plugin_state().db.session


# --- hooks the conversation calls (in the worker, inside a job) ----------------------------


def after_message(ticket_id: int, message_id: int, author_kind: str) -> None:
    """A message was posted (its event's job): plan the e-mails it may need, and commit."""
    config = mail_config()
    if not config.sending:
        return
    state = plugin_state()
    if author_kind in _TO_CUSTOMER and not _opened_by_agent(ticket_id, message_id):
        minutes = float(state.setting("MAIL_UNSEEN_MINUTES"))
        outbox.add(_JOBS + "send_unseen", ticket_id, delay=minutes * 60)
    elif author_kind == "customer" and state.setting("MAIL_NOTIFY_AGENTS"):
        outbox.add(_JOBS + "notify_agents", ticket_id, message_id)
    _session().commit()


def _opened_by_agent(ticket_id: int, message_id: int) -> bool:
    """Whether the message is the first of a ticket an agent opened ("New ticket to this
    customer"): :func:`send_new_ticket` mails it."""
    row = _session().execute(sa.select(Message.seq, Message.author_kind).where(
        Message.id == message_id, Message.ticket_id == ticket_id)).first()
    return row is not None and tuple(row) == (1, "agent")


def after_status_change(ticket_id: int, new: str) -> None:
    """A ticket's status changed (its event's job): a closed chat may get its transcript."""
    if new != "closed" or not plugin_state().setting("MAIL_TRANSCRIPT"):
        return
    if mail_config().sending:
        outbox.add(_JOBS + "send_transcript", ticket_id)
        _session().commit()


def queue_new_ticket(ticket_id: int) -> None:
    """Write (before the commit of "New ticket to this customer") the job of its e-mail."""
    outbox.add(_JOBS + "send_new_ticket", ticket_id)


# --- composing ----------------------------------------------------------------------------


def _thread(ticket_id: int) -> tuple[str | None, list[str]]:
    """``In-Reply-To`` and ``References`` of a new mail of the ticket: the latest mails of its
    thread, the customer's last answer preferred."""
    rows = _session().execute(
        sa.select(MailRecord.message_id, MailRecord.kind)
        .where(MailRecord.ticket_id == ticket_id, MailRecord.kind != "notify")
        .order_by(MailRecord.id.desc())
        .limit(10)
    ).all()
    if not rows:
        return None, []
    replies = [row.message_id for row in rows if row.kind == "reply"]
    return (replies[0] if replies else rows[0].message_id), [r.message_id for r in reversed(rows)]


def _store(ticket, kind: str, to: str, subject: str, text: str, html: str, *,
           up_to_seq=None, automatic=False) -> MailRecord:
    """Compose and keep the mail, with its delivery job (the caller commits)."""
    config = mail_config()
    message_id = signing.new_message_id(ticket.id if ticket else None, config.from_address)
    in_reply_to, references = _thread(ticket.id) if ticket and kind != "notify" else (None, [])
    reply_to = signing.reply_address(config.from_address, ticket.id) if ticket else None
    mail = compose.build(
        config, to=to, subject=subject, text=text, html=html, message_id=message_id,
        reply_to=reply_to, in_reply_to=in_reply_to, references=references, automatic=automatic,
    )
    record = MailRecord(
        ticket_id=ticket.id if ticket else None, kind=kind, state="queued",
        message_id=message_id, address=to, subject=subject[:300], up_to_seq=up_to_seq,
        raw=mail.as_string(), attempts=0, error="", created_at=utcnow(),
    )
    _session().add(record)
    _session().flush()
    outbox.add(_JOBS + "deliver", record.id)
    return record


def queue_without_ticket(kind: str, to: str, subject: str, text: str, html: str) -> MailRecord:
    """Keep a mail about no ticket (a customer's one-time code) with its delivery job, in the
    caller's transaction (the caller commits)."""
    return _store(None, kind, to, subject, text, html, automatic=True)


def _public(ticket_id: int, *conditions) -> list:
    return list(_session().scalars(
        sa.select(Message)
        .where(Message.ticket_id == ticket_id, Message.internal.is_(False), *conditions)
        .order_by(Message.seq)
    ))


def _claim_seq(ticket, up_to: int) -> bool:
    """Move the ticket's mailed sequence number to ``up_to`` unless a run got there first (a
    job run twice, two jobs at once: one of them mails)."""
    done = _session().execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.mail_seq < up_to)
        .values(mail_seq=up_to)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def send_new_ticket(ticket_id: int) -> None:
    """Job: the first message of a ticket an agent opened to a customer, by e-mail."""
    ticket = _session().get(Ticket, ticket_id)
    if ticket is None:
        return
    if not mail_config().sending:
        conversation.post_system_line(
            ticket, "Not sent by e-mail: no SMTP server is set up (Integrations → E-mail).")
        return
    first = _public(ticket_id, Message.author_kind == "agent")[:1]
    if not first or not _claim_seq(ticket, first[0].seq):
        return
    subject, text, html = compose.customer_mail(
        mail_config(), ticket, "new_ticket", first, agent_name=first[0].author_name
    )
    _store(ticket, "new_ticket", ticket.customer_email, subject, text, html,
           up_to_seq=first[0].seq)
    _session().commit()


def send_unseen(ticket_id: int) -> None:
    """Job: the agent replies and auto-responses the customer has not seen, in one e-mail.

    Runs ``MAIL_UNSEEN_MINUTES`` after a reply; a reply seen in the widget meanwhile, or
    already mailed, is left out; nothing left, nothing is sent.
    """
    ticket = _session().get(Ticket, ticket_id)
    if ticket is None or not mail_config().sending:
        return
    minutes = float(plugin_state().setting("MAIL_UNSEEN_MINUTES"))
    due = utcnow() - timedelta(minutes=minutes, seconds=-1)
    unseen = _public(
        ticket_id,
        Message.seq > ticket.mail_seq,
        Message.seen_at.is_(None),
        Message.author_kind.in_(_TO_CUSTOMER),
    )
    if not unseen or unseen[0].created_at > due:
        return
    if not _claim_seq(ticket, unseen[-1].seq):
        return
    subject, text, html = compose.customer_mail(mail_config(), ticket, "unseen", unseen)
    # Only auto-responses in it: marked Auto-Submitted, so the customer's robots keep quiet.
    robots_only = all(message.author_kind == "automation" for message in unseen)
    _store(ticket, "unseen", ticket.customer_email, subject, text, html,
           up_to_seq=unseen[-1].seq, automatic=robots_only)
    _session().commit()


def send_transcript(ticket_id: int) -> None:
    """Job: the whole public conversation of a closed chat, to its customer (once)."""
    ticket = _session().get(Ticket, ticket_id)
    if ticket is None or not mail_config().sending:
        return
    already = _session().scalar(sa.select(sa.exists().where(
        MailRecord.ticket_id == ticket_id, MailRecord.kind == "transcript")))
    lines = _public(ticket_id, Message.author_kind != "system")
    if already or not lines:
        return
    _claim_seq(ticket, lines[-1].seq)
    subject, text, html = compose.customer_mail(mail_config(), ticket, "transcript", lines)
    _store(ticket, "transcript", ticket.customer_email, subject, text, html,
           up_to_seq=lines[-1].seq, automatic=True)
    _session().commit()


def notify_agents(ticket_id: int, message_id: int) -> None:
    """Job: tell the assignee and watchers who do not have the ticket open about a new
    customer message (one mail each, once per message)."""
    ticket = _session().get(Ticket, ticket_id, options=ticket_details())
    message = _session().get(Message, message_id)
    if ticket is None or message is None or not mail_config().sending:
        return
    wanted = {ticket.assignee_id, *ticket.watcher_ids} - {None}
    here = {viewer["id"] for viewer in presence.viewers(ticket_id) or []}
    agents = agents_by_id()
    done = set(_session().scalars(sa.select(MailRecord.address).where(
        MailRecord.ticket_id == ticket_id, MailRecord.kind == "notify",
        MailRecord.up_to_seq == message.seq)))
    for user_id in sorted(wanted - here):
        agent = agents.get(user_id)
        if agent is None or not agent.email or agent.email in done:
            continue
        subject, text, html = compose.agent_mail(mail_config(), ticket, message)
        _store(ticket, "notify", agent.email, subject, text, html, up_to_seq=message.seq,
               automatic=True)
    _session().commit()


# --- delivery -----------------------------------------------------------------------------


def smtp_send(config, mail) -> None:
    """Hand ``mail`` (an ``EmailMessage``) to the SMTP server of ``config``; raises
    :class:`MailNotSent` with the reason in words."""
    timeout = float(plugin_state().setting("SMTP_TIMEOUT"))
    context = ssl.create_default_context()
    try:
        if config.smtp_security == "tls":
            client = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=timeout,
                                      context=context)
        else:
            client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout)
        with client:
            if config.smtp_security == "starttls":
                client.starttls(context=context)
            if config.smtp_user:
                client.login(config.smtp_user, config.smtp_password)
            client.send_message(mail, from_addr=config.from_address)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailNotSent(f"the SMTP server refused the login ({exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailNotSent(f"the SMTP server refused the recipient {', '.join(exc.recipients)}"
                          ) from exc
    except smtplib.SMTPResponseException as exc:
        reason = exc.smtp_error.decode(errors="replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        raise MailNotSent(f"the SMTP server answered {exc.smtp_code} {reason}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailNotSent(f"the SMTP server {config.smtp_host}:{config.smtp_port} could not "
                          f"be reached ({exc or type(exc).__name__})") from exc


def deliver(mail_id: int) -> None:
    """Job: send a stored mail; on failure try again later, then give up and say so."""
    session = _session()
    record = session.get(MailRecord, mail_id)
    if record is None or record.state != "queued":
        return
    config = mail_config()
    mail = message_from_string(record.raw, policy=email_policy.default)
    record.attempts += 1
    try:
        if not config.sending:
            raise MailNotSent("no SMTP server is set up")
        smtp_send(config, mail)
    except MailNotSent as exc:
        _failed(record, str(exc))
        return
    record.state, record.done_at, record.error = "sent", utcnow(), ""
    ticket_id, seq = record.ticket_id, record.up_to_seq
    session.commit()
    if ticket_id and seq and record.kind in CUSTOMER_MAIL_KINDS:  # "E-mailed" in the inbox
        plugin_state().broker.publish(agent_ticket_channel(ticket_id), wire.mailed(ticket_id, seq))


def mailed_seq(ticket_id: int) -> int:
    """The last ``seq`` of the ticket's conversation an e-mail delivered to the customer (0
    for none)."""
    return _session().scalar(sa.select(sa.func.max(MailRecord.up_to_seq)).where(
        MailRecord.ticket_id == ticket_id, MailRecord.state == "sent",
        MailRecord.kind.in_(CUSTOMER_MAIL_KINDS),
    )) or 0


def _failed(record: MailRecord, error: str) -> None:
    """Record the failure; plan the next try or mark it failed; tell the ticket's agents."""
    retries = int(plugin_state().setting("MAIL_SEND_RETRIES"))
    record.error = error
    record_send_error(f"to {record.address}: {error}")
    again = record.attempts <= retries
    if again:
        outbox.add(_JOBS + "deliver", record.id,
                   delay=RETRY_MINUTES[min(record.attempts, len(RETRY_MINUTES)) - 1] * 60)
        text = (f"The e-mail to {record.address} could not be sent ({error}); "
                "it will be tried again.")
    else:
        record.state, record.done_at = "failed", utcnow()
        text = f"The e-mail to {record.address} could not be sent: {error}."
    line = None
    ticket = _session().get(Ticket, record.ticket_id) if record.ticket_id else None
    if ticket is not None and (record.attempts == 1 or not again):
        line = conversation.add_system_line(ticket, text)
    log.warning("mail %s to %s: %s", record.id, record.address, error)
    _session().commit()
    if line is not None:
        conversation.publish_messages([line])


def send_test(config, to: str) -> None:
    """Send a test e-mail now with ``config`` (possibly not saved yet); raises
    :class:`MailNotSent`. Nothing is stored."""
    text = ("This is a test e-mail of Responso Chat. If you can read it, the SMTP settings "
            "work.")
    mail = compose.build(
        config, to=to, subject="Responso Chat test e-mail", text=text,
        html=f"<!doctype html><p>{text}</p>",
        message_id=signing.new_message_id(None, config.from_address or "x@localhost"),
        automatic=True,
    )
    smtp_send(config, mail)


send_test.__test__ = False  # a service, not a pytest test


def recent_mails(limit: int = 20) -> list[MailRecord]:
    """The latest mails sent or received, newest first (the admin page's log)."""
    return list(_session().scalars(
        sa.select(MailRecord).order_by(MailRecord.id.desc()).limit(limit)))
