"""Inbox queries: the views agents work from, their counts, filters, search and pagination.

Every query is restricted by :func:`access.ticket_visibility_clause`, so an agent only ever
sees tickets of the chats they have access to (admins see all).

Views (``vocab.INBOX_VIEWS``):

- ``all``: every ticket.
- ``to_handle``: open tickets waiting for an agent: status ``open`` and either nobody is
  assigned yet or the customer is waiting for a reply (below).
- ``mine``: the user's own unfinished tickets: assigned to the user, status ``open`` or
  ``pending``.
- ``awaiting``: unfinished tickets (``open`` or ``pending``) where the customer wrote last:
  no agent message after the customer's last one. Public system and automation lines ("Alice
  joined the chat", an auto-responder) do not answer the customer, so a ticket whose last
  public line is one of those still awaits a response.
- ``closed``: finished tickets: status ``solved`` or ``closed``.

Lists are ordered by newest activity first (``last_message_at``, then ``id``, both
descending) and paginated by keyset on that pair, which the ``*_activity`` indexes of the
ticket table serve without offsets however deep the page (:mod:`.paging` makes the cursors).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from responso_chat.conversation.access import ticket_visibility_clause, visible_chat_ids
from responso_chat.inbox.paging import Page, after_clause, page_of
from responso_chat.models import (
    Chat,
    Message,
    Order,
    Tag,
    Team,
    Ticket,
    TicketOrder,
    TicketWatcher,
    ticket_details,
)
from responso_chat.orders.lookup import matching_orders_clause
from responso_chat.state import plugin_state
from responso_chat.vocab import FINISHED_STATUSES, INBOX_VIEWS, UNFINISHED_STATUSES

#: Last public senders that leave the customer waiting for an agent's reply ("system" only on
#: rows written before system lines stopped counting as the last message).
WAITING_SENDERS = ("customer", "system", "automation")
PAGE_SIZE = 30
#: Views count their tickets up to this many, then show "1,000+": an exact count of a shop's
#: whole history would read every ticket on each refresh of the inbox, and tell nothing more.
COUNT_LIMIT = 1000
#: The order of every list, newest activity first (descending), and the key of its cursors.
KEYSET = (Ticket.last_message_at, Ticket.id)
#: ``assignee`` filter value for tickets nobody is assigned to.
UNASSIGNED = "none"


@dataclass
class InboxFilters:
    """What narrows a list: a view, filters and a search text (empty values filter nothing)."""

    view: str = "all"
    chat_id: int | None = None
    channel: str | None = None  # "chat" or "email" (see vocab.TICKET_CHANNELS)
    status: str | None = None
    priority: str | None = None
    tag: str | None = None
    assignee: str | None = None
    team_id: int | None = None
    q: str = ""


def awaiting_reply_clause():
    """Tickets where no agent wrote after the customer (system and automation lines aside)."""
    return Ticket.last_sender.in_(WAITING_SENDERS)


def view_clause(view: str, user_id: str):
    """The WHERE clause of one of :data:`INBOX_VIEWS` for the user with ``user_id``."""
    if view == "all":
        return sa.true()
    if view == "to_handle":
        return sa.and_(
            Ticket.status == "open",
            sa.or_(Ticket.assignee_id.is_(None), awaiting_reply_clause()),
        )
    if view == "mine":
        return sa.and_(Ticket.assignee_id == user_id, Ticket.status.in_(UNFINISHED_STATUSES))
    if view == "awaiting":
        return sa.and_(awaiting_reply_clause(), Ticket.status.in_(UNFINISHED_STATUSES))
    if view == "closed":
        return Ticket.status.in_(FINISHED_STATUSES)
    raise ValueError(f"unknown inbox view {view!r}")


def _contains(column, text: str):
    """``column`` contains ``text``, case-insensitively (``%`` and ``_`` match themselves).

    With several words, the trigram index is asked for the longest word alone and the whole
    text is checked on the rows it finds, through an expression the index does not cover
    (``column || ''``): asked for the whole text, the index would read every row holding a
    common word too ("order 424242" reads the million messages that say "order").
    """
    words = text.split()
    if len(words) < 2:
        return column.icontains(text, autoescape=True)
    return sa.and_(
        column.icontains(max(words, key=len), autoescape=True),
        (column + "").icontains(text, autoescape=True),
    )


def search_clauses(text: str) -> tuple:
    """The ways a ticket matches a search ``text``: on its subject, customer name or
    e-mail, with any of its messages, and, when the text is an order number or a phone
    number, linked to such an order or of the customer who placed it.

    Case-insensitive on every database: ``ILIKE`` on PostgreSQL (served by the trigram
    indexes of ``models.SEARCH_INDEXES`` where they exist, see :func:`_contains`),
    ``lower() LIKE`` on SQLite; ``%`` and ``_`` in the text match themselves.
    """
    on_ticket = sa.or_(
        _contains(Ticket.subject, text),
        _contains(Ticket.customer_name, text),
        _contains(Ticket.customer_email, text),
    )
    in_messages = (
        sa.select(Message.id)
        .where(Message.ticket_id == Ticket.id, _contains(Message.body, text))
        .exists()
    )
    orders = matching_orders_clause(text)
    if orders is None:
        return on_ticket, in_messages
    return on_ticket, in_messages, _of_orders(orders)


def _of_orders(orders):
    """Tickets linked to one of ``orders`` (a WHERE clause of cached orders), or of the
    customer who placed one."""
    linked = sa.select(TicketOrder.ticket_id).where(
        TicketOrder.base_order_id.in_(sa.select(Order.base_order_id).where(orders))
    )
    emails = sa.select(Order.email).where(orders, Order.email != "")
    return sa.or_(Ticket.id.in_(linked), sa.func.lower(Ticket.customer_email).in_(emails))


def order_matches(user, text: str, limit: int = 5) -> list:
    """The cached orders a search ``text`` names (an order number or a phone), newest first,
    when ``user`` may see a ticket linked to one or of its customer: shown above the
    results."""
    orders = matching_orders_clause(text)
    if orders is None:
        return []
    visible = sa.select(Ticket.id).where(ticket_visibility_clause(user))
    seen = sa.or_(
        sa.exists().where(TicketOrder.base_order_id == Order.base_order_id,
                          TicketOrder.ticket_id.in_(visible)),
        sa.exists().where(sa.func.lower(Ticket.customer_email) == Order.email,
                          ticket_visibility_clause(user), Order.email != ""),
    )
    placed = sa.func.coalesce(Order.date_confirmed, Order.date_add)
    return list(plugin_state().db.session.scalars(
        sa.select(Order).where(orders, seen)
        .order_by(placed.desc().nulls_last(), Order.base_order_id.desc()).limit(limit)
    ))


def filter_clauses(filters: InboxFilters, user_id: str) -> list:
    """Every WHERE clause of ``filters`` except visibility and the search text (see
    :func:`page_query`)."""
    clauses = [view_clause(filters.view, user_id)]
    if filters.chat_id is not None:
        clauses.append(Ticket.chat_id == filters.chat_id)
    if filters.channel:
        clauses.append(Ticket.channel == filters.channel)
    if filters.status:
        clauses.append(Ticket.status == filters.status)
    if filters.priority:
        clauses.append(Ticket.priority == filters.priority)
    if filters.tag:
        clauses.append(Ticket.tags.any(Tag.name == filters.tag))
    if filters.assignee == UNASSIGNED:
        clauses.append(Ticket.assignee_id.is_(None))
    elif filters.assignee:
        clauses.append(Ticket.assignee_id == filters.assignee)
    if filters.team_id is not None:
        clauses.append(Ticket.team_id == filters.team_id)
    return clauses


def page_query(user, filters: InboxFilters, cursor: str | None, limit: int):
    """The SELECT of one page: visibility, filters, keyset condition, order and limit.

    The keyset condition is a row comparison, ``(last_message_at, id) < (:when, :id)``, which
    PostgreSQL serves straight from the ``(last_message_at, id)`` indexes, newest first.

    A search is the union of two such pages, tickets matching on their own fields and tickets
    with a matching message, then the first ``limit`` of both: each part has a plan that
    stays fast (walking the activity index when matches are common, the trigram index when
    they are rare), where one ``OR`` of both made PostgreSQL read every message.

    Each ticket comes with its tags, which the list shows.
    """
    clauses = [ticket_visibility_clause(user), *filter_clauses(filters, str(user.get_id()))]
    if cursor:
        clauses.append(after_clause(KEYSET, cursor, (datetime, int), descending=True))
    order = (Ticket.last_message_at.desc(), Ticket.id.desc())
    text = filters.q.strip()
    if text:
        parts = [
            sa.select(Ticket.id).where(*clauses, match).order_by(*order).limit(limit).subquery()
            for match in search_clauses(text)
        ]
        hits = sa.union(*(sa.select(part.c.id) for part in parts)).subquery()
        clauses = [Ticket.id.in_(sa.select(hits.c.id))]
    return (
        sa.select(Ticket)
        .where(*clauses)
        .order_by(*order)
        .limit(limit)
        .options(selectinload(Ticket.tags))
    )


def list_tickets(
    user,
    filters: InboxFilters | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    options=(),
) -> Page:
    """One page of the tickets ``user`` may see that match ``filters``, newest activity first.

    ``cursor`` is the ``next_cursor`` of the previous page; :class:`.paging.InvalidCursor` if
    forged.
    ``options`` load what the caller shows beyond the tags (``selectinload(...)``).
    """
    state = plugin_state()
    filters = filters or InboxFilters()
    query = page_query(user, filters, cursor, limit + 1).options(*options)
    session = state.db.session
    if filters.q.strip() and session.connection().dialect.name == "postgresql":
        # The best plan of a search depends on its text: never serve it from a generic plan
        # cached for a prepared statement (the driver prepares statements it sees often).
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return page_of(list(session.execute(query).unique().scalars()), limit, KEYSET)


def view_counts(user) -> dict[str, int]:
    """How many tickets ``user`` may see in each view, in one query; a view with more than
    :data:`COUNT_LIMIT` counts ``COUNT_LIMIT + 1`` (see :func:`count_label`).

    Each count reads at most that many rows, from the view's index.
    """
    state = plugin_state()
    user_id = str(user.get_id())
    visible = ticket_visibility_clause(user)
    columns = []
    for view in INBOX_VIEWS:
        capped = (
            sa.select(Ticket.id)
            .where(visible, view_clause(view, user_id))
            .limit(COUNT_LIMIT + 1)
            .subquery()
        )
        columns.append(
            sa.select(sa.func.count()).select_from(capped).scalar_subquery().label(view)
        )
    row = state.db.session.execute(sa.select(*columns)).one()
    return {view: row._mapping[view] for view in INBOX_VIEWS}


def count_label(count: int) -> str:
    """A view's count as the inbox shows it: ``"27"``, or ``"1,000+"`` past the limit."""
    return f"{COUNT_LIMIT:,}+" if count > COUNT_LIMIT else str(count)


def get_visible_ticket(user, ticket_id: int):
    """The ticket with ``ticket_id`` if ``user`` may see it, else None."""
    state = plugin_state()
    return state.db.session.execute(
        sa.select(Ticket)
        .where(Ticket.id == ticket_id, ticket_visibility_clause(user))
        .options(*ticket_details())
    ).scalar_one_or_none()


def filter_choices(user) -> dict:
    """What the filter form offers ``user``: their chats, tags and teams."""
    state = plugin_state()
    session = state.db.session
    chats = (
        sa.select(Chat)
        .order_by(Chat.name)
    )
    chat_ids = visible_chat_ids(user)
    if chat_ids is not None:
        chats = chats.where(Chat.id.in_(chat_ids))
    return {
        "chats": list(session.execute(chats).unique().scalars()),
        "tags": list(session.execute(sa.select(Tag).order_by(Tag.name)).scalars()),
        "teams": list(session.execute(sa.select(Team).order_by(Team.name)).scalars()),
    }


def tag_names(limit: int = 500) -> list[str]:
    """Existing tag names, for autocompletion."""
    state = plugin_state()
    query = sa.select(Tag.name).order_by(Tag.name).limit(limit)
    return list(state.db.session.execute(query).scalars())


def watched_ticket_ids(user) -> list[int]:
    """Unfinished tickets ``user`` watches and may see (their new messages notify them)."""
    state = plugin_state()
    query = (
        sa.select(Ticket.id)
        .join(TicketWatcher, TicketWatcher.ticket_id == Ticket.id)
        .where(
            TicketWatcher.user_id == str(user.get_id()),
            Ticket.status.in_(UNFINISHED_STATUSES),
            ticket_visibility_clause(user),
        )
        .order_by(Ticket.id)
    )
    return list(state.db.session.execute(query).scalars())


def last_public_message(ticket):
    """The ticket's last message, as "Last message" shows it next to ``last_message_at``: the
    latest one the customer can see too, system lines ("<agent> joined the chat") aside."""
    state = plugin_state()
    return state.db.session.execute(
        sa.select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.internal.is_(False),
            Message.author_kind != "system",
        )
        .order_by(Message.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
