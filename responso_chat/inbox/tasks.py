"""Tasks and projects: to-dos of the agents, usually linked to a ticket, grouped in projects.

A task linked to a ticket is visible to the agents who may see that ticket; a task without a
ticket to every agent. Creating or completing a linked task is recorded in the ticket's
conversation as an internal system line.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from responso_chat.conversation import messages, wire
from responso_chat.conversation.access import ticket_visibility_clause
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.infra.broker import INBOX_CHANNEL
from responso_chat.models import Project, Task, Ticket
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id

SCOPES = {"mine": "My tasks", "all": "All tasks"}


def visible_clause(user):
    """Tasks ``user`` may see: unlinked ones, and those of tickets they may see."""
    linked_visible = sa.select(Ticket.id).where(ticket_visibility_clause(user))
    return sa.or_(Task.ticket_id.is_(None), Task.ticket_id.in_(linked_visible))


def _ordered(query):
    """``query`` in the task lists' order, with the project and ticket each row shows."""
    return query.options(selectinload(Task.project), selectinload(Task.ticket)).order_by(
        Task.done, Task.due_date.is_(None), Task.due_date, Task.created_at.desc(), Task.id.desc()
    )


def list_tasks(user, *, scope: str = "mine", include_done: bool = False) -> list:
    """Tasks ``user`` may see, open ones first by due date; ``scope`` mine or all."""
    state = plugin_state()
    query = sa.select(Task).where(visible_clause(user))
    if scope == "mine":
        query = query.where(Task.assignee_id == str(user.get_id()))
    if not include_done:
        query = query.where(Task.done.is_(False))
    return list(state.db.session.execute(_ordered(query)).scalars())


def tasks_of_ticket(ticket) -> list:
    """Every task linked to ``ticket``, open ones first."""
    state = plugin_state()
    query = sa.select(Task).where(Task.ticket_id == ticket.id)
    return list(state.db.session.execute(_ordered(query)).scalars())


def get_visible_task(user, task_id: int):
    """The task with ``task_id`` if ``user`` may see it, else None."""
    state = plugin_state()
    return state.db.session.execute(
        sa.select(Task)
        .where(Task.id == task_id, visible_clause(user))
        .options(selectinload(Task.project), selectinload(Task.ticket))
    ).scalar_one_or_none()


def _record_on_ticket(ticket, actor, text: str) -> None:
    """Commit, with an internal line on the linked ticket when there is one, then publish."""
    state = plugin_state()
    if ticket is None:
        state.db.session.commit()
        return
    messages.post_system_line(ticket, f"{actor.name} {text}", author_id=actor.id)
    state.broker.publish(INBOX_CHANNEL, wire.inbox("changed", ticket))


def _check_choices(assignee_id: str | None, project_id: int | None) -> None:
    """Refuse an assignee who is not an agent, or a project that does not exist."""
    state = plugin_state()
    if assignee_id and str(assignee_id) not in agents_by_id():
        raise ChangeRefused("assignee_id", "Choose an agent from the list.")
    if project_id is not None and state.db.session.get(Project, project_id) is None:
        raise ChangeRefused("project_id", "Choose a project from the list.")


def create_task(
    actor,
    *,
    title: str,
    description: str = "",
    assignee_id: str | None = None,
    due_date: date | None = None,
    project_id: int | None = None,
    ticket=None,
):
    """Create a task; ``ticket`` links it (the caller checked the agent may see the ticket)."""
    state = plugin_state()
    session = state.db.session
    _check_choices(assignee_id, project_id)
    task = Task(
        title=title,
        description=description,
        assignee_id=str(assignee_id) if assignee_id else None,
        due_date=due_date,
        project_id=project_id,
        ticket_id=ticket.id if ticket is not None else None,
    )
    session.add(task)
    try:
        session.flush()
        _record_on_ticket(ticket, actor, f"created task #{task.id} “{title}”")
    except Exception:
        session.rollback()
        raise
    return task


def set_done(task, done: bool, actor) -> bool:
    """Mark a task done or not done; False if it already was."""
    if task.done == done:
        return False
    task.done = done
    verb = "completed" if done else "reopened"
    _record_on_ticket(task.ticket, actor, f"{verb} task #{task.id} “{task.title}”")
    return True


#: What :func:`update_task` may change.
TASK_FIELDS = ("title", "description", "assignee_id", "due_date", "project_id")


def update_task(task, actor, **changes) -> bool:
    """Change a task's :data:`TASK_FIELDS` given in ``changes``; False if nothing changed.

    A linked ticket records the change as an internal line.
    """
    unknown = set(changes) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"update_task() cannot change {', '.join(sorted(unknown))}")
    if changes.get("assignee_id") is not None:
        changes["assignee_id"] = str(changes["assignee_id"])
    changed = {k: v for k, v in changes.items() if getattr(task, k) != v}
    if not changed:
        return False
    _check_choices(changed.get("assignee_id"), changed.get("project_id"))
    for field, value in changed.items():
        setattr(task, field, value)
    _record_on_ticket(task.ticket, actor, f"updated task #{task.id} “{task.title}”")
    return True


def list_projects(user) -> list[tuple]:
    """Every project with the tasks ``user`` may see in it: ``[(project, tasks)]``."""
    state = plugin_state()
    session = state.db.session
    projects = list(session.execute(sa.select(Project).order_by(Project.name)).scalars())
    tasks = session.execute(
        _ordered(sa.select(Task).where(Task.project_id.is_not(None), visible_clause(user)))
    ).scalars()
    by_project: dict[int, list] = {project.id: [] for project in projects}
    for task in tasks:
        if task.project_id in by_project:  # a project created meanwhile waits for a reload
            by_project[task.project_id].append(task)
    return [(project, by_project[project.id]) for project in projects]


def all_projects() -> list:
    """Every project by name (for choosing one)."""
    state = plugin_state()
    return list(state.db.session.execute(sa.select(Project).order_by(Project.name)).scalars())


def create_project(name: str, description: str = ""):
    """Create a project; names are unique."""
    state = plugin_state()
    session = state.db.session
    taken = session.execute(
        sa.select(Project.id).where(sa.func.lower(Project.name) == name.lower())
    ).first()
    if taken:
        raise ChangeRefused("name", "A project with this name exists.")
    project = Project(name=name, description=description)
    session.add(project)
    session.commit()
    return project
