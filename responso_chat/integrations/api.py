"""What the JSON API lists and changes, on top of the inbox, chat, task and automation services.

Lists are paginated by keyset (:mod:`responso_chat.inbox.paging`): each page ends with an
opaque cursor that the next request hands back. Tickets keep the inbox's order (newest
activity first, :func:`inbox.list_tickets`); the other lists go by id, or by run order for
automation rules. Access is the inbox's: ``user`` sees the tickets (and their messages and
tasks) of the chats they have access to, admins everything.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from responso_chat.conversation import ticket_changes, tickets
from responso_chat.conversation.access import visible_chat_ids
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.files import attachments
from responso_chat.inbox import contacts, tasks
from responso_chat.inbox import queries as inbox
from responso_chat.inbox.paging import Page, keyset_page
from responso_chat.inbox.queries import UNASSIGNED
from responso_chat.models import AutomationRule, Chat, Contact, Message, Tag, Task, Team, Ticket
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id


def database_answers() -> bool:
    """Whether the plugin's database answers a trivial query (the health check)."""
    session = plugin_state().db.session
    try:
        session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        session.rollback()
        return False
    return True


# --- lists ---------------------------------------------------------------------------------


def list_tickets(
    user,
    *,
    view: str,
    chat: int | None,
    channel: str | None,
    status: str | None,
    priority: str | None,
    tag: str | None,
    assignee: str | None,
    team: int | None,
    q: str,
    cursor: str | None,
    limit: int,
) -> Page:
    """The inbox's list (:func:`inbox.list_tickets`) for ``user``; ``assignee`` may be ``me``."""
    filters = inbox.InboxFilters(
        view=view,
        chat_id=chat,
        channel=channel,
        status=status,
        priority=priority,
        tag=tag,
        assignee=str(user.get_id()) if assignee == "me" else assignee,
        team_id=team,
        q=q,
    )
    return inbox.list_tickets(
        user,
        filters,
        cursor=cursor,
        limit=limit,
        options=[selectinload(Ticket.watcher_rows), selectinload(Ticket.rating),
                 selectinload(Ticket.order_links)],
    )



def list_chats(*, enabled: bool | None, cursor: str | None, limit: int) -> Page:
    """Chats by id, optionally only the enabled (or disabled) ones."""
    query = sa.select(Chat).options(selectinload(Chat.agent_rows))
    if enabled is not None:
        query = query.where(Chat.enabled.is_(enabled))
    return keyset_page(query, [Chat.id], cursor, limit)


def list_tags(*, q: str, cursor: str | None, limit: int) -> Page:
    """Tags by id, optionally those whose name contains ``q``."""
    query = sa.select(Tag)
    if q.strip():
        query = query.where(Tag.name.icontains(q.strip(), autoescape=True))
    return keyset_page(query, [Tag.id], cursor, limit)


def list_contacts(*, q: str, cursor: str | None, limit: int) -> Page:
    """Contacts by id, optionally those whose name, e-mail or phone contains ``q``."""
    return keyset_page(
        sa.select(Contact).where(contacts.search_clause(q)), [Contact.id], cursor, limit
    )


def list_tasks(
    user,
    *,
    assignee: str | None,
    done: bool | None,
    ticket_id: int | None,
    project_id: int | None,
    cursor: str | None,
    limit: int,
) -> Page:
    """Tasks ``user`` may see, by id; ``assignee`` is an agent's id, ``me`` or ``none``."""
    query = sa.select(Task).where(tasks.visible_clause(user))
    if assignee == UNASSIGNED:
        query = query.where(Task.assignee_id.is_(None))
    elif assignee:
        user_id = str(user.get_id()) if assignee == "me" else assignee
        query = query.where(Task.assignee_id == user_id)
    if done is not None:
        query = query.where(Task.done.is_(done))
    if ticket_id is not None:
        query = query.where(Task.ticket_id == ticket_id)
    if project_id is not None:
        query = query.where(Task.project_id == project_id)
    return keyset_page(query, [Task.id], cursor, limit)


def list_rules(*, enabled: bool | None, trigger: str | None, cursor: str | None, limit: int):
    """Automation rules in the order they run."""
    query = sa.select(AutomationRule)
    if enabled is not None:
        query = query.where(AutomationRule.enabled.is_(enabled))
    if trigger:
        query = query.where(AutomationRule.trigger == trigger)
    return keyset_page(query, [AutomationRule.position, AutomationRule.id], cursor, limit)


def list_messages(
    ticket, *, after: int, include_internal: bool, cursor: str | None, limit: int
) -> Page:
    """A ticket's messages in order, after sequence number ``after`` (or the cursor)."""
    query = sa.select(Message).where(Message.ticket_id == ticket.id, Message.seq > after)
    if not include_internal:
        query = query.where(Message.internal.is_(False))
    page = keyset_page(query, [Message.seq], cursor, limit)
    attachments.describe_messages(page.items, absolute=True)
    return page


def get_message(ticket, seq: int):
    """The message ``seq`` of ``ticket`` with its files described, or None."""
    message = plugin_state().db.session.scalar(
        sa.select(Message).where(Message.ticket_id == ticket.id, Message.seq == seq)
    )
    if message is not None:
        attachments.describe_messages([message], absolute=True)
    return message


# --- tickets ---------------------------------------------------------------------------------


def open_ticket(user, values: dict):
    """Open a ticket in a chat ``user`` may see, with the customer's first message."""
    state = plugin_state()
    chat = state.db.session.get(Chat, values["chat_id"])
    allowed = visible_chat_ids(user)
    if chat is None or (allowed is not None and chat.id not in allowed):
        raise ChangeRefused("chat_id", "No such chat.")
    return tickets.open_chat_ticket(
        chat,
        name=values["customer_name"],
        email=values["customer_email"],
        subject=values["subject"],
        message=values["message"],
        language=values["language"],
    )


def _check_ticket_changes(ticket, values: dict) -> None:
    """Refuse unknown agents and teams, and an assignee who may not open ``ticket``, before
    anything changes (so nothing is half-done)."""
    state = plugin_state()
    agents = agents_by_id()
    if values.get("assignee_id") is not None:
        ticket_changes.agent_for(ticket, values["assignee_id"], "assignee_id")
    if any(user_id not in agents for user_id in values.get("watcher_ids", ())):
        raise ChangeRefused("watcher_ids", "Choose agents from the list.")
    team_id = values.get("team_id")
    if team_id is not None and state.db.session.get(Team, team_id) is None:
        raise ChangeRefused("team_id", "Choose a team from the list.")


def change_ticket(ticket, values: dict, actor) -> None:
    """Apply :class:`ApiTicketChangesSchema` values with the inbox's ticket changes, each
    recorded in the conversation under ``actor``."""
    _check_ticket_changes(ticket, values)
    if "priority" in values:
        ticket_changes.set_priority(ticket, values["priority"], actor)
    if "assignee_id" in values:
        ticket_changes.assign(ticket, values["assignee_id"], actor)
    if "team_id" in values:
        ticket_changes.set_team(ticket, values["team_id"], actor)
    if "tags" in values:
        for tag in [tag.name for tag in ticket.tags if tag.name not in values["tags"]]:
            ticket_changes.remove_tag(ticket, tag, actor)
        for tag in values["tags"]:
            ticket_changes.add_tag(ticket, tag, actor)
    if "watcher_ids" in values:
        for user_id in [u for u in ticket.watcher_ids if u not in values["watcher_ids"]]:
            ticket_changes.remove_watcher(ticket, user_id, actor)
        for user_id in values["watcher_ids"]:
            ticket_changes.add_watcher(ticket, user_id, actor)
    if "status" in values:
        ticket_changes.set_status(ticket, values["status"], actor)


# --- tags and tasks ---------------------------------------------------------------------------


def get_tag(tag_id: int):
    """The tag ``tag_id``, or None."""
    state = plugin_state()
    return state.db.session.get(Tag, tag_id)


def _save_tag(tag, name: str):
    """Give ``tag`` the (normalized) ``name`` unless another tag has it, and commit."""
    state = plugin_state()
    session = state.db.session
    name = ticket_changes.normalize_tag(name)
    query = sa.select(Tag.id).where(Tag.name == name)
    if tag.id is not None:
        query = query.where(Tag.id != tag.id)
    if session.scalar(query) is not None:
        raise ChangeRefused("name", "Another tag has this name.")
    tag.name = name
    session.add(tag)
    try:
        session.commit()
    except IntegrityError:  # the same name saved meanwhile
        session.rollback()
        raise ChangeRefused("name", "Another tag has this name.") from None
    return tag


def create_tag(name: str):
    """Create a tag (names are normalized like the inbox's and unique)."""
    return _save_tag(Tag(), name)


def rename_tag(tag, name: str):
    """Rename a tag on every ticket that has it."""
    return _save_tag(tag, name)


def change_task(task, values: dict, actor) -> None:
    """Apply :class:`ApiTaskChangesSchema` values: the task's fields, then done or not."""
    fields = {k: v for k, v in values.items() if k in tasks.TASK_FIELDS}
    if fields:
        tasks.update_task(task, actor, **fields)
    if "done" in values:
        tasks.set_done(task, values["done"], actor)
