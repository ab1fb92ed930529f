"""Changes agents make to a ticket from its side panel, and the ticket's quick actions.

Every change is recorded in the conversation as an internal system line naming who did what
("Alice Agent set priority to high"), committed together with the change, then published: the
line to the agents, a ``status`` event to everyone on a status change, and an inbox
``changed`` event. A refused change raises :class:`ChangeRefused` before anything is written.

``actor`` is the agent making the change: anything with ``id`` and ``name`` (a
:class:`responso_chat.users.Agent`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from responso_chat import signals
from responso_chat.conversation import events, messages, tickets, wire
from responso_chat.conversation.access import can_see_ticket
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.inbox import contacts, teams
from responso_chat.infra.broker import INBOX_CHANNEL, agent_channel, ticket_channel
from responso_chat.mail import outgoing as mail
from responso_chat.models import Contact, Tag, Team, Ticket, TicketWatcher, utcnow
from responso_chat.schemas.common import tag_name
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id, is_agent, load_user
from responso_chat.vocab import ENDED_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES


def normalize_tag(name: str) -> str:
    """A tag as stored (:func:`schemas.common.tag_name`); ChangeRefused if bad."""
    try:
        return tag_name(name)
    except ValueError as exc:
        raise ChangeRefused("tag", str(exc)) from None


def _commit_and_publish(ticket, lines, *, status_changed: bool = False) -> None:
    """Commit the change and its system lines, then publish them (never before the commit)."""
    state = plugin_state()
    state.db.session.commit()
    messages.publish_messages(lines)
    if status_changed:
        state.broker.publish(ticket_channel(ticket.id), wire.status(ticket.id, ticket.status))
    state.broker.publish(INBOX_CHANNEL, wire.inbox("changed", ticket))


def _record(ticket, actor, text: str, *, status_changed: bool = False, record_events=None):
    """Add the internal system line of a change, ``record_events(line)`` in its transaction
    (the outbox rows of its events), commit, publish; roll back on failure."""
    session = plugin_state().db.session
    try:
        line = messages.add_system_line(ticket, f"{actor.name} {text}", author_id=actor.id)
        if record_events is not None:
            record_events(line)
    except Exception:
        session.rollback()
        raise
    _commit_and_publish(ticket, [line], status_changed=status_changed)
    return line


def _agent(user_id: str, field: str):
    agent = agents_by_id().get(str(user_id))
    if agent is None:
        raise ChangeRefused(field, "Choose an agent from the list.")
    return agent


def set_status(ticket, status: str, actor) -> bool:
    """Change the status (open, pending, solved, closed, spam); False if it already was."""
    if status not in TICKET_STATUSES:
        raise ChangeRefused("status", "Choose a status from the list.")
    if ticket.status == status:
        return False
    old = ticket.status
    ticket.status = status
    if status not in ENDED_STATUSES:
        ticket.ended_at = None
    elif old not in ENDED_STATUSES:
        ticket.ended_at = utcnow()
    _record(
        ticket,
        actor,
        f"set status to {status}",
        status_changed=True,
        record_events=lambda line: events.status_changed(ticket.id, old, status, actor, line.id),
    )
    signals.send(signals.ticket_status_changed, ticket_id=ticket.id, old=old, new=status, by=actor)
    return True


def close_ticket(ticket, actor) -> bool:
    """Quick action: close the ticket (the customer sees the conversation ended)."""
    return set_status(ticket, "closed", actor)


def set_priority(ticket, priority: str, actor) -> bool:
    """Change the priority (low, normal, high, urgent); False if it already was."""
    if priority not in TICKET_PRIORITIES:
        raise ChangeRefused("priority", "Choose a priority from the list.")
    if ticket.priority == priority:
        return False
    ticket.priority = priority
    _record(ticket, actor, f"set priority to {priority}")
    return True


def assign(ticket, assignee_id: str | None, actor) -> bool:
    """Assign the ticket to an agent who may open it, or to nobody (``None``)."""
    assignee = agent_for(ticket, assignee_id, "assignee") if assignee_id else None
    new_id = assignee.id if assignee else None
    if ticket.assignee_id == new_id:
        return False
    ticket.assignee_id = new_id
    _record(
        ticket,
        actor,
        f"assigned the ticket to {assignee.name}" if assignee else "unassigned the ticket",
        record_events=lambda _line: events.assigned(ticket.id, new_id, actor),
    )
    signals.send(signals.ticket_assigned, ticket_id=ticket.id, assignee_id=new_id, by=actor)
    return True


def take_over(ticket, actor) -> None:
    """Take a ticket assigned to someone else, explicitly (the conversation records it)."""
    previous = agents_by_id().get(ticket.assignee_id or "")
    tickets.take_over(ticket, actor.id, actor.name, previous.name if previous else "")


def set_team(ticket, team_id: int | None, actor) -> bool:
    """Give the ticket to a team, or to none (``None``)."""
    state = plugin_state()
    team = state.db.session.get(Team, team_id) if team_id is not None else None
    if team_id is not None and team is None:
        raise ChangeRefused("team", "Choose a team from the list.")
    if ticket.team_id == team_id:
        return False
    ticket.team_id = team_id
    ticket.team = team
    _record(ticket, actor, f"set team to {team.name}" if team else "removed the team")
    return True


def get_or_create_tag(name: str):
    """The tag called ``name`` (normalized), created if new; safe against a concurrent twin."""
    state = plugin_state()
    session = state.db.session
    name = normalize_tag(name)
    query = sa.select(Tag).where(Tag.name == name)
    tag = session.execute(query).scalar_one_or_none()
    if tag is None:
        try:
            with session.begin_nested():
                tag = Tag(name=name)
                session.add(tag)
        except IntegrityError:  # created meanwhile by another request
            tag = session.execute(query).scalar_one()
    return tag


def add_tag(ticket, name: str, actor) -> bool:
    """Put a tag on the ticket, creating the tag if new; False if the ticket had it."""
    name = normalize_tag(name)
    if any(tag.name == name for tag in ticket.tags):
        return False
    ticket.tags.append(get_or_create_tag(name))
    _record(ticket, actor, f"added tag {name}")
    return True


def remove_tag(ticket, name: str, actor) -> bool:
    """Take a tag off the ticket; False if it did not have it."""
    name = normalize_tag(name)
    tag = next((tag for tag in ticket.tags if tag.name == name), None)
    if tag is None:
        return False
    ticket.tags.remove(tag)
    _record(ticket, actor, f"removed tag {name}")
    return True


def add_watcher(ticket, user_id: str, actor) -> bool:
    """Let an agent follow the ticket (notified of new messages); False if they did."""
    agent = _agent(user_id, "watcher")
    if agent.id in ticket.watcher_ids:
        return False
    ticket.watcher_rows.append(TicketWatcher(user_id=agent.id))
    _record(ticket, actor, f"added {agent.name} as a watcher")
    return True


def remove_watcher(ticket, user_id: str, actor) -> bool:
    """Stop an agent following the ticket; False if they did not."""
    row = next((row for row in ticket.watcher_rows if row.user_id == str(user_id)), None)
    if row is None:
        return False
    agent = agents_by_id().get(row.user_id)
    ticket.watcher_rows.remove(row)
    _record(ticket, actor, f"removed {agent.name if agent else row.user_id} from the watchers")
    return True


def disable_next_autoresponder(ticket, actor) -> bool:
    """Quick action: the next auto-responder for this ticket is skipped (once)."""
    if ticket.disable_next_autoresponder:
        return False
    ticket.disable_next_autoresponder = True
    _record(ticket, actor, "disabled the next auto-responder")
    return True


def add_sender_to_contacts(ticket, actor):
    """Quick action: the customer becomes a contact, found by e-mail; ``(contact, created)``.

    An existing contact keeps what agents wrote on it; only a blank name is filled in.
    """
    state = plugin_state()
    email = ticket.customer_email.strip().lower()
    contact = contacts.contact_for_email(email)
    created = contact is None
    if created:
        contact = Contact(name=ticket.customer_name, email=email)
        state.db.session.add(contact)
    elif not contact.name.strip():
        contact.name = ticket.customer_name
    verb = "added" if created else "updated"
    _record(ticket, actor, f"{verb} {ticket.customer_name} <{email}> in the contacts")
    return contact, created


def create_ticket_for_customer(ticket, subject: str, body: str, actor):
    """Quick action: a new ticket in the same chat to this customer, opened by the agent.

    The new ticket is assigned to the agent and starts with the agent's message, which always
    goes to the customer by e-mail; the original ticket records a line pointing to it. Both
    are committed together.
    """
    state = plugin_state()
    session = state.db.session
    new = Ticket(
        chat_id=ticket.chat_id,
        chat_name=ticket.chat_name,
        subject=subject,
        customer_name=ticket.customer_name,
        customer_email=ticket.customer_email,
        customer_email_verified=ticket.customer_email_verified,
        assignee_id=actor.id,
        team_id=ticket.team_id,
        language=ticket.language,
    )
    try:
        session.add(new)
        session.flush()
        lines = [
            messages.add_message(
                new, author_kind="agent", body=body, author_id=actor.id, author_name=actor.name
            ),
            messages.add_system_line(
                new,
                f"{actor.name} created this ticket from ticket #{ticket.id}",
                author_id=actor.id,
            ),
            messages.add_system_line(
                ticket,
                f"{actor.name} created ticket #{new.id} for this customer",
                author_id=actor.id,
            ),
        ]
        events.ticket_created(new.id, lines[0].id)
        events.message_created(new.id, lines[0].id, "agent")
        mail.queue_new_ticket(new.id)
    except Exception:
        session.rollback()
        raise
    session.commit()
    messages.publish_messages(lines, inbox="created")
    state.broker.publish(INBOX_CHANNEL, wire.inbox("changed", ticket))
    signals.send(signals.ticket_created, ticket_id=new.id, message_id=lines[0].id)
    signals.send(
        signals.message_created, ticket_id=new.id, message_id=lines[0].id, author_kind="agent"
    )
    return new


# --- transfer --------------------------------------------------------------------------------


def _may_take(agent_id: str, ticket) -> bool:
    """Whether the host's user ``agent_id`` is an agent who may open ``ticket``."""
    user = load_user(agent_id)
    return user is not None and is_agent(user) and can_see_ticket(user, ticket)


def agent_for(ticket, user_id: str, field: str):
    """The agent ``user_id`` if they may open ``ticket``; ChangeRefused on ``field`` if not."""
    agent = _agent(user_id, field)
    if not _may_take(agent.id, ticket):
        raise ChangeRefused(
            field, f"{agent.name} has no access to this chat: choose one of its agents."
        )
    return agent


def transfer_choices(ticket) -> list:
    """The agents a ticket can be transferred to: those with access to its chat."""
    return [agent for agent in agents_by_id().values() if _may_take(agent.id, ticket)]


def _transfer_target(ticket, agent_id, team_id):
    """``(agent, team)`` of a transfer, one of them None; ChangeRefused when not allowed."""
    if agent_id is not None:
        agent = agent_for(ticket, agent_id, "target")
        if ticket.assignee_id == agent.id:
            raise ChangeRefused("target", f"The ticket is already {agent.name}'s.")
        return agent, None
    team = teams.get_team(team_id)
    if team is None:
        raise ChangeRefused("target", "Choose a team from the list.")
    return None, team  # again to the same team: its agents are told again


def transfer(ticket, actor, *, agent_id: str | None = None, team_id: int | None = None,
             note: str = "") -> None:
    """Hand the ticket to another agent of its chat, or to a team (then nobody has it until
    one of them takes it), with a note only agents see.

    One commit holds the change, the internal line "<actor> transferred the ticket to ...",
    the note as an internal note, "<agent> joined the chat" for the customer (never the note)
    and the ``assigned`` event (webhooks, automations). Then the new agent (or the team's
    agents who may see the ticket) get a ``transferred`` event on their own channel.
    """
    agent, team = _transfer_target(ticket, agent_id, team_id)
    state = plugin_state()
    session = state.db.session
    ticket_id, subject, previous = ticket.id, ticket.subject, ticket.assignee_id
    new_assignee = agent.id if agent else None
    try:
        ticket.assignee_id = new_assignee
        if team is not None:
            ticket.team_id, ticket.team = team.id, team
        target = agent.name if agent else f"the team {team.name}"
        lines = [messages.add_system_line(
            ticket, f"{actor.name} transferred the ticket to {target}", author_id=actor.id
        )]
        if note:
            lines.append(messages.add_message(
                ticket, author_kind="agent", body=note, author_id=str(actor.id),
                author_name=actor.name, internal=True,
            ))
        published = messages.announcements(lines)
        if agent is not None:
            published += tickets.join_events(ticket, agent.name, [
                tickets.joined_line(ticket, agent.id, agent.name)
            ])
        else:
            published.append((INBOX_CHANNEL, wire.inbox("changed", ticket)))
        if previous != new_assignee:
            events.assigned(ticket_id, new_assignee, actor)
        recipients = [agent.id] if agent else [
            row.user_id for row in team.member_rows if _may_take(row.user_id, ticket)
        ]
    except Exception:
        session.rollback()
        raise
    session.commit()
    messages.publish(published)
    told = wire.transferred(ticket_id, subject, actor.name, note, team.name if team else None)
    for user_id in recipients:
        if user_id != str(actor.id):
            state.broker.publish(agent_channel(user_id), told)
    if previous != new_assignee:
        signals.send(signals.ticket_assigned, ticket_id=ticket_id, assignee_id=new_assignee,
                     by=actor)
