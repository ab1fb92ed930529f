"""Messages of a conversation: numbering, idempotent posting, catch-up by sequence number.

A message is committed before it is published; clients that missed the push catch up with
:func:`messages_after`. Public messages go to the ticket's channel (customer and agents),
internal ones (notes, change records) to its agents-only channel.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from responso_chat import signals
from responso_chat.conversation import events, wire
from responso_chat.conversation.analysis import publish_analysis
from responso_chat.files import attachments
from responso_chat.infra.broker import INBOX_CHANNEL, agent_ticket_channel, ticket_channel
from responso_chat.models import Message, Ticket, UTCDateTime, utcnow
from responso_chat.state import plugin_state
from responso_chat.users import Agent
from responso_chat.vocab import ENDED_STATUSES, FINISHED_STATUSES

log = logging.getLogger(__name__)


class ConversationEnded(Exception):
    """The customer tried to write into a ticket that is spam, or that was solved or closed
    longer ago than ``RESPONSO_CHAT_REOPEN_WINDOW`` (see :func:`customer_may_reopen`)."""


class ReopenRequired(Exception):
    """An agent replied to a solved, closed or spam ticket without saying to reopen it (the
    inbox asks first: "Reopen and send")."""


def customer_may_reopen(status: str, ended_at=None, now=None) -> bool:
    """Whether a customer's message reopens a ticket in ``status`` that ended at ``ended_at``
    (None: just now): solved or closed, within ``RESPONSO_CHAT_REOPEN_WINDOW``; never spam."""
    if status not in FINISHED_STATUSES:
        return False
    window = plugin_state().setting("REOPEN_WINDOW")
    if window <= 0:
        return False
    if ended_at is None:
        return True
    return ((now or utcnow()) - ended_at).total_seconds() < window


def add_message(
    ticket,
    *,
    author_kind: str,
    body: str,
    author_id: str | None = None,
    author_name: str = "",
    internal: bool = False,
    client_msg_id: str | None = None,
    analysis=None,
    reopen: bool = False,
    source: str | None = None,
):
    """Add a message to ``ticket`` in the current transaction, numbered after the last one.

    Public messages of the customer, agents and automations become the ticket's last message
    (its activity time and last sender); system lines, even public ones such as "<agent>
    joined the chat", do not: they leave a ticket waiting for a reply, or answered, as it was.

    The sequence number is taken with an ``UPDATE ... RETURNING`` on the ticket row, which
    also locks it on PostgreSQL until commit, so concurrent sends never share a number. The
    same statement stores ``analysis`` (the classifier's verdict, see :func:`classify`) and
    sets the ticket back to open when ``reopen``; the ticket object gets the new values
    without being read again. ``source`` says where a message came from (a customer's
    e-mail, the proactive greeting a chat began with: ``MESSAGE_SOURCES``); a greeting
    answers nobody, so it is not the ticket's first response, and the customer read it before
    starting the chat, so it is seen (never mailed as an unseen reply).
    """
    state = plugin_state()
    now = utcnow()
    values = {"updated_at": now}
    if not internal and author_kind != "system":
        values.update(last_message_at=now, last_sender=author_kind)
    if analysis is not None:
        values.update(sentiment=analysis.sentiment, context=analysis.context)
    if reopen:
        values.update(status="open", ended_at=None)
    # The first public agent reply is the ticket's first response (kept for the reports).
    first_response = author_kind == "agent" and not internal and source != "greeting"
    returned = [Ticket.last_seq]
    if first_response:
        values["first_response_at"] = sa.func.coalesce(
            Ticket.first_response_at, sa.literal(now, UTCDateTime())
        )
        returned.append(Ticket.first_response_at)
    seq, *answered = state.db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(last_seq=Ticket.last_seq + 1, **values)
        .returning(*returned)
        .execution_options(synchronize_session=False)
    ).one()
    if first_response:
        values["first_response_at"] = answered[0]
    for key, value in {**values, "last_seq": seq}.items():
        set_committed_value(ticket, key, value)
    row = {
        "ticket_id": ticket.id,
        "seq": seq,
        "author_kind": author_kind,
        "author_id": author_id,
        "author_name": author_name,
        "body": body,
        "internal": internal,
        "client_msg_id": client_msg_id,
        "client_key": client_key(author_kind, author_id, client_msg_id),
        "created_at": now,
        "seen_at": now if source == "greeting" else None,  # read before the chat began
        "sentiment": analysis.sentiment if analysis else None,
        "context": analysis.context if analysis else None,
        "analysis_corrected_by": None,
        "analysis_corrected_at": None,
        "source": source,
    }
    table = Message.__table__
    row["id"] = state.db.session.execute(
        sa.insert(table).values(row).returning(table.c.id)
    ).scalar_one()
    # The stored row as an object of its own (detached: no unit of work inserts it, and a
    # rollback of its transaction leaves no trace of it in the session).
    message = Message(**row)
    make_transient_to_detached(message)
    set_committed_value(message, "ticket", ticket)
    return message


def classify(ticket, body: str):
    """The classifier's verdict (sentiment, context) on a customer's message of ``ticket``;
    None when the host's classifier fails (that must never stop a customer's message)."""
    try:
        return plugin_state().classifier.classify(body, subject=ticket.subject)
    except Exception:
        log.exception("classifier failed on ticket %s", ticket.id)
        return None


def classify_customer_message(ticket, message) -> None:
    """Store the sentiment and context of a stored customer message on it and on its ticket."""
    result = classify(ticket, message.body)
    if result is not None:
        message.sentiment = ticket.sentiment = result.sentiment
        message.context = ticket.context = result.context


def client_key(author_kind: str, author_id: str | None, client_msg_id: str | None):
    """The idempotency key of a message: its client message id scoped to its author (None
    without an id). Ids are chosen by clients, so a key never reaches another author's row."""
    if not client_msg_id:
        return None
    return f"{author_kind}:{author_id or ''}:{client_msg_id}"


def find_by_client_id(
    ticket_id: int, author_kind: str, author_id: str | None, client_msg_id: str | None
):
    """The message this author already stored under this client message id, if any
    (idempotent sends); another author's message with the same id is never found."""
    key = client_key(author_kind, author_id, client_msg_id)
    if key is None:
        return None
    state = plugin_state()
    return state.db.session.execute(
        sa.select(Message).where(Message.ticket_id == ticket_id, Message.client_key == key)
    ).scalar_one_or_none()


def messages_after(ticket_id: int, after_seq: int = 0, include_internal: bool = False) -> list:
    """Messages of a ticket with a sequence number above ``after_seq``, in order."""
    state = plugin_state()
    query = sa.select(Message).where(Message.ticket_id == ticket_id, Message.seq > after_seq)
    if not include_internal:
        query = query.where(Message.internal.is_(False))
    rows = list(state.db.session.execute(query.order_by(Message.seq)).scalars())
    attachments.describe_messages(rows)
    return rows


def _commit_new(ticket, record_events, **fields):
    """Add a message (see :func:`add_message`), ``record_events(message)`` in its transaction
    (the outbox rows of its events; it may return more messages to announce with it), commit,
    publish (first the ``status`` event when the message reopened its ticket, ``reopen``),
    then the message's; ``(message, created)``; the
    message's values stay loaded, and ``message.committed_event`` is its browser event as
    stored: acknowledge with it, never by reading the message again (the signals' receivers
    that run next may roll the session back, which expires it; the database may be gone).

    A message already stored under the same ``client_msg_id`` (a resend, or two sends of it
    at once) fails the insert on the unique key: that one is returned with ``created=False``
    and nothing is published.
    """
    session = plugin_state().db.session
    ticket_id = ticket.id
    try:
        message = add_message(ticket, **fields)
        extra = record_events(message) or []
        published = announcements([message, *extra])
        commit_keeping(session, message)
    except IntegrityError:
        session.rollback()
        existing = find_by_client_id(
            ticket_id, fields["author_kind"], fields.get("author_id"), fields.get("client_msg_id")
        )
        if existing is None:
            raise
        attachments.describe_messages([existing])
        existing.committed_event = wire.message(existing)
        return existing, False
    message.committed_event = published[0][1]  # announcements() puts the message's own first
    if fields.get("reopen"):
        published.insert(0, (ticket_channel(ticket_id), wire.status(ticket_id, "open")))
    publish(published)
    return message, True


def commit_keeping(session, *objects) -> None:
    """Commit, keeping the column values of ``objects`` loaded: a commit expires every object,
    and reading one again afterwards (to answer with what was just written) would cost a
    query each."""
    kept = [
        (obj, {attr.key: obj.__dict__[attr.key]
               for attr in sa.inspect(obj).mapper.column_attrs if attr.key in obj.__dict__})
        for obj in objects
    ]
    session.commit()
    for obj, values in kept:
        for key, value in values.items():
            set_committed_value(obj, key, value)


def post_customer_message(ticket, body: str, client_msg_id: str | None = None, attach=None,
                          files=None):
    """Add the customer's message, commit, publish; returns ``(message, created)``, the
    message's event in ``message.committed_event`` (see :func:`_commit_new`).
    ``attach(message)``, when given, adds rows about the message in its transaction (an order
    the customer asks about).

    Sending again with the same ``client_msg_id`` returns the stored message with
    ``created=False`` and publishes nothing. A pending ticket becomes open again, and so
    does a solved or closed one within ``RESPONSO_CHAT_REOPEN_WINDOW`` (the agents see an
    internal line saying so; everyone gets the ``status`` event before the message). Raises
    :class:`ConversationEnded` for spam, or a ticket ended longer ago than that.
    ``files`` (:class:`responso_chat.files.attachments.NewFiles`) are attached to it in its
    transaction (see :mod:`responso_chat.files.upload`).
    """
    ticket_id, status = ticket.id, ticket.status
    ended = status in ENDED_STATUSES
    if ended:
        existing = find_by_client_id(ticket_id, "customer", None, client_msg_id)
        if existing is not None:
            attachments.describe_messages([existing])
            existing.committed_event = wire.message(existing)
            return existing, False
        if not customer_may_reopen(status, ticket.ended_at):
            raise ConversationEnded(status)
    reopen = ended or status == "pending"

    def record_events(message) -> list:
        attachments.record(message, files)
        if attach is not None:
            attach(message)
        events.message_created(ticket_id, message.id, "customer")
        if not reopen:
            return []
        events.status_changed(ticket_id, status, "open", None, message.id)
        if not ended:
            return []
        return [add_system_line(ticket, f"The customer wrote again: the ticket, {status}, "
                                        "is open again")]

    message, created = _commit_new(
        ticket,
        record_events,
        author_kind="customer",
        body=body,
        author_name=ticket.customer_name,
        client_msg_id=client_msg_id,
        analysis=classify(ticket, body) if body else None,  # files alone say no mood
        reopen=reopen,
    )
    if not created:
        return message, False
    publish_analysis(message)
    signal_message(ticket_id, message.id, "customer", status, reopen, None)
    return message, True


def signal_message(ticket_id: int, message_id: int, author_kind: str, status: str,
                   reopened: bool, by) -> None:
    """Tell the in-process listeners (:mod:`responso_chat.signals`) of a committed message
    and of the reopening it caused."""
    signals.send(signals.message_created, ticket_id=ticket_id, message_id=message_id,
                 author_kind=author_kind)
    if reopened:
        signals.send(signals.ticket_status_changed, ticket_id=ticket_id, old=status,
                     new="open", by=by)


def post_agent_message(
    ticket,
    agent_id: str,
    agent_name: str,
    body: str,
    client_msg_id: str | None = None,
    internal: bool = False,
    reopen: bool = False,
    files=None,
):
    """Add an agent's reply (or internal note), commit, publish; idempotent by client id.

    A reply to a solved, closed or spam ticket reopens it when ``reopen`` (an internal line
    records who did, the ``status`` event goes out before the reply) and raises
    :class:`ReopenRequired` otherwise; notes never change the status. The message's
    ``created`` says whether it was written now (False: a resend of one stored before), its
    ``reopened`` whether this reply reopened the ticket. ``files`` are attached to it as to a
    customer's message (:func:`post_customer_message`).
    """
    ticket_id, status = ticket.id, ticket.status
    agent = Agent(str(agent_id), agent_name, "")
    reopening = not internal and status in ENDED_STATUSES
    if reopening:
        existing = find_by_client_id(ticket_id, "agent", agent.id, client_msg_id)
        if existing is not None:  # a resend of a reply that reopened it already
            existing.created = existing.reopened = False
            return existing
        if not reopen:
            raise ReopenRequired(status)

    def record_events(message) -> list:
        attachments.record(message, files)
        events.message_created(ticket_id, message.id, "agent")
        if not reopening:
            return []
        line = add_system_line(ticket, f"{agent_name} reopened the ticket with a reply",
                               author_id=agent.id)
        events.status_changed(ticket_id, status, "open", agent, line.id)
        return [line]

    message, created = _commit_new(
        ticket,
        record_events,
        author_kind="agent",
        body=body,
        author_id=agent.id,
        author_name=agent_name,
        internal=internal,
        client_msg_id=client_msg_id,
        reopen=reopening,
    )
    message.created = created
    message.reopened = reopening and created
    if created:
        signal_message(ticket_id, message.id, "agent", status, reopening, agent)
    return message


def add_system_line(ticket, text: str, *, author_id: str | None = None, internal: bool = True):
    """Add (without committing) a system line; internal lines are for agents only.

    The caller commits, then calls :func:`publish_messages` with the returned message.
    """
    return add_message(
        ticket,
        author_kind="system",
        body=text,
        author_id=None if author_id is None else str(author_id),
        internal=internal,
    )


def post_system_line(ticket, text: str, *, author_id: str | None = None,
                     internal: bool = True):
    """Add a system line (:func:`add_system_line`), commit it with whatever the session
    holds, then publish it; returns the line."""
    line = add_system_line(ticket, text, author_id=author_id, internal=internal)
    plugin_state().db.session.commit()
    publish_messages([line])
    return line


def announcements(messages, inbox: str = "activity") -> list[tuple[str, dict]]:
    """The ``(channel, event)`` pairs that tell listeners about new ``messages``.

    Public messages go to their ticket's channel, with one ``inbox`` event per ticket;
    internal ones to the agents-only channel. Neither internal nor system lines count as inbox
    activity (watchers are not told "new message" when an agent joins; the change that made
    the line announces itself). Build them before the commit when the objects should not be
    read again after it (commit expires them).
    """
    events, announced = [], set()
    for message in messages:
        event = wire.message(message)
        if message.internal:
            events.append((agent_ticket_channel(message.ticket_id), event))
            continue
        events.append((ticket_channel(message.ticket_id), event))
        if message.author_kind != "system" and message.ticket_id not in announced:
            announced.add(message.ticket_id)
            events.append((INBOX_CHANNEL, wire.inbox(inbox, message.ticket)))
    return events


def publish(events) -> None:
    """Publish ``(channel, event)`` pairs (see :func:`announcements`), after the commit."""
    broker = plugin_state().broker
    for channel, event in events:
        broker.publish(channel, event)


def publish_messages(messages, inbox: str = "activity") -> None:
    """Push committed messages to their ticket's listeners (see :func:`announcements`)."""
    publish(announcements(messages, inbox))


def mark_seen(ticket, by: str, seq: int) -> bool:
    """Mark the other side's messages up to ``seq`` as seen by ``by`` (customer or agent).

    Commits and publishes a ``seen`` event when something changed; returns whether it did.
    """
    state, ticket_id = plugin_state(), ticket.id
    kinds = ("agent", "system", "automation") if by == "customer" else ("customer",)
    result = state.db.session.execute(
        sa.update(Message)
        .where(
            Message.ticket_id == ticket_id,
            Message.seq <= seq,
            Message.seen_at.is_(None),
            Message.internal.is_(False),
            Message.author_kind.in_(kinds),
        )
        .values(seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    state.db.session.commit()
    if not result.rowcount:
        return False
    state.broker.publish(ticket_channel(ticket_id), wire.seen(ticket_id, by, seq))
    return True


def publish_typing(ticket, author_kind: str, name: str, typing: bool, origin: str = "") -> None:
    """Tell the conversation that someone started or stopped typing (nothing is stored).

    ``origin`` names the sending connection so it can skip its own event.
    """
    plugin_state().broker.publish(
        ticket_channel(ticket.id), wire.typing(ticket.id, author_kind, name, typing, origin)
    )
