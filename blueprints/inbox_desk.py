"""The inbox's other pages: tasks, projects, contacts, teams (admins), the ticket page's
"Base orders" panel and the agent's own availability (My status). Their views join the inbox
blueprint (:data:`.inbox.bp`), so they share its URL prefix, its endpoint names
(``responso_chat.inbox.task_list``), its access check and its answers (an HTML form, or JSON
for a ``fetch``).
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from responso_chat.conversation import availability
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.inbox import contacts, tasks, teams
from responso_chat.inbox import queries as inbox
from responso_chat.orders import panel as order_panel
from responso_chat.orders import sync as orders
from responso_chat.safe_urls import local_path
from responso_chat.schemas import inbox as schemas
from responso_chat.schemas.common import parse_count
from responso_chat.users import admin_required, as_agent, list_agents

from .inbox import (
    _json_error,
    _load,
    _load_and_change,
    _payload,
    _ticket_or_404,
    _ticket_url,
    _wants_json,
    bp,
)

# --- the agent's availability -------------------------------------------------------------


@bp.post("/availability")
def set_availability():
    """The agent sets their availability (online, away, offline): the widget of their chats
    shows who is online, and a chat may close while none of its agents is."""
    values, errors = _load(schemas.AvailabilitySchema, _payload())
    if errors:
        if _wants_json():
            return _json_error(errors, 422)
        flash(" ".join(errors.get("status", ["Choose online, away or offline."])), "error")
    else:
        availability.set_availability(current_user.get_id(), values["status"])
        if _wants_json():
            return jsonify(ok=True, status=values["status"])
    back = local_path(request.form.get("next"), url_for("responso_chat.inbox.ticket_list"))
    return redirect(back, 303)


# --- tasks and projects --------------------------------------------------------------------


def _task_form_context(values=None, errors=None) -> dict:
    values = values or {}
    ticket = None
    ticket_id = parse_count(values.get("ticket_id") or request.args.get("ticket_id"))
    if ticket_id:
        ticket = inbox.get_visible_ticket(current_user, ticket_id)
    return {
        "agents": list_agents(),
        "projects": tasks.all_projects(),
        "linked_ticket": ticket,
        "values": values,
        "errors": errors or {},
        "me": str(current_user.get_id()),
    }


@bp.get("/tasks")
def task_list():
    """The agent's tasks, or everyone's (``?scope=all``); ``?done=1`` shows finished ones."""
    scope = request.args.get("scope", "mine")
    if scope not in tasks.SCOPES:
        abort(400, description="Unknown task list.")
    include_done = request.args.get("done") == "1"
    return render_template(
        "responso_chat/inbox/tasks.html",
        tasks=tasks.list_tasks(current_user, scope=scope, include_done=include_done),
        scope=scope,
        scopes=tasks.SCOPES,
        include_done=include_done,
        **_task_form_context(),
    )


@bp.route("/tasks/new", methods=["GET", "POST"])
def task_new():
    """Create a task; ``?ticket_id=`` links it to a ticket (the ticket's "…" menu)."""
    if request.method == "GET":
        context = _task_form_context()
        if request.args.get("ticket_id") and context["linked_ticket"] is None:
            abort(404)
        return render_template("responso_chat/inbox/task_new.html", **context)
    data = _payload()
    values, errors = _load(schemas.TaskSchema, data)
    ticket = None
    if not errors and values["ticket_id"] is not None:
        ticket = inbox.get_visible_ticket(current_user, values["ticket_id"])
        if ticket is None:
            errors = {"ticket_id": ["No such ticket."]}
    if not errors:
        fields = {k: v for k, v in values.items() if k != "ticket_id"}
        try:
            task = tasks.create_task(as_agent(current_user), ticket=ticket, **fields)
        except ChangeRefused as exc:
            errors = exc.errors
    if errors:
        if _wants_json():
            return _json_error(errors, 422)
        return render_template(
            "responso_chat/inbox/task_new.html", **_task_form_context(data, errors)
        ), 422
    if _wants_json():
        return jsonify(ok=True, task_id=task.id), 201
    if ticket is not None:
        return redirect(_ticket_url(ticket), 303)
    return redirect(url_for("responso_chat.inbox.task_list"), 303)


@bp.post("/tasks/<int:task_id>/done")
def task_done(task_id: int):
    """Mark a task done (``done=1``) or not done."""
    task = tasks.get_visible_task(current_user, task_id)
    if task is None:
        abort(404)
    values, errors = _load(schemas.TaskDoneSchema, _payload())
    if errors:
        return _json_error(errors, 422) if _wants_json() else abort(400)
    tasks.set_done(task, values["done"], as_agent(current_user))
    if _wants_json():
        return jsonify(ok=True, done=task.done)
    back = local_path(request.form.get("next"), url_for("responso_chat.inbox.task_list"))
    return redirect(back, 303)


@bp.route("/projects", methods=["GET", "POST"])
def project_list():
    """Projects with their tasks; POST creates a project."""
    errors, values = {}, {}
    if request.method == "POST":
        values = _payload()
        _project, errors = _load_and_change(
            schemas.ProjectSchema, values,
            lambda loaded: tasks.create_project(loaded["name"], loaded["description"]),
        )
        if not errors:
            return redirect(url_for("responso_chat.inbox.project_list"), 303)
    return render_template(
        "responso_chat/inbox/projects.html",
        projects=tasks.list_projects(current_user),
        errors=errors,
        values=values,
    ), (422 if errors else 200)


# --- contacts ------------------------------------------------------------------------------


@bp.route("/contacts", methods=["GET", "POST"])
def contact_list():
    """Contacts, searchable by name, e-mail or phone; POST adds one."""
    errors, values = {}, {}
    if request.method == "POST":
        values = _payload()
        contact, errors = _load_and_change(
            schemas.ContactSchema, values, lambda loaded: contacts.create_contact(**loaded)
        )
        if not errors:
            return redirect(url_for("responso_chat.inbox.contact_page", contact_id=contact.id), 303)
    q = request.args.get("q", "")[:200]
    page = parse_count(request.args.get("page")) or 1
    rows, more = contacts.search_contacts(q, page)
    return render_template(
        "responso_chat/inbox/contacts.html",
        contacts=rows,
        more=more,
        q=q,
        page_number=page,
        errors=errors,
        values=values,
    ), (422 if errors else 200)


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
def contact_page(contact_id: int):
    """A contact's details (editable) and the tickets of their e-mail."""
    contact = contacts.get_contact(contact_id)
    if contact is None:
        abort(404)
    errors, values = {}, {}
    if request.method == "POST":
        values = _payload()
        _same, errors = _load_and_change(
            schemas.ContactSchema, values,
            lambda loaded: contacts.update_contact(contact, **loaded),
        )
        if not errors:
            return redirect(url_for("responso_chat.inbox.contact_page", contact_id=contact.id), 303)
    return render_template(
        "responso_chat/inbox/contact.html",
        contact=contact,
        tickets=contacts.contact_tickets(contact, current_user),
        errors=errors,
        values=values,
    ), (422 if errors else 200)


# --- teams (admins) ------------------------------------------------------------------------


def _team_input() -> dict:
    data = _payload()
    if not request.is_json:  # checkboxes: one value or several
        data["members"] = request.form.getlist("members")
    return data


@bp.route("/teams", methods=["GET", "POST"])
@admin_required
def team_list():
    """Teams and their members; POST creates a team."""
    errors, values = {}, {}
    if request.method == "POST":
        values = _team_input()
        _team, errors = _load_and_change(
            schemas.TeamSchema, values,
            lambda loaded: teams.create_team(loaded["name"], loaded["members"]),
        )
        if not errors:
            return redirect(url_for("responso_chat.inbox.team_list"), 303)
    return _render_teams(errors=errors, values=values)


@bp.post("/teams/<int:team_id>")
@admin_required
def team_update(team_id: int):
    """Rename a team and set its members."""
    team = teams.get_team(team_id)
    if team is None:
        abort(404)
    values = _team_input()
    _same, errors = _load_and_change(
        schemas.TeamSchema, values,
        lambda loaded: teams.update_team(team, loaded["name"], loaded["members"]),
    )
    if not errors:
        return redirect(url_for("responso_chat.inbox.team_list"), 303)
    return _render_teams(edit_id=team.id, errors=errors, values=values)


def _render_teams(edit_id=None, errors=None, values=None):
    return render_template(
        "responso_chat/inbox/teams.html",
        teams=teams.list_teams(),
        member_ids=teams.member_ids,
        agents=list_agents(),
        edit_id=edit_id,
        errors=errors or {},
        values=values or {},
    ), (422 if errors else 200)


# --- Base orders ---

ORDERS_PANEL = "responso_chat/inbox/_orders_panel.html"


@bp.context_processor
def _orders_panel_context():
    """``orders_panel(ticket)`` for the "Base orders" side panel of the ticket page."""
    return {"orders_panel": order_panel.orders_panel}


def _orders_reply(ticket, status: int = 200, **context):
    """The panel alone for the page's script (``X-Requested-With: fetch``); without the
    script, back to the ticket page with the outcome flashed."""
    if request.headers.get("X-Requested-With") == "fetch":
        return render_template(ORDERS_PANEL, ticket=ticket, **context), status
    if context.get("orders_error"):
        flash(context["orders_error"], "error")
    elif context.get("orders_notice"):
        flash(context["orders_notice"], "success")
    return redirect(_ticket_url(ticket, _anchor="rc-orders"), 303)


@bp.get("/tickets/<int:ticket_id>/orders")
def orders_panel(ticket_id: int):
    """The ticket's "Base orders" panel, from the local cache."""
    return render_template(ORDERS_PANEL, ticket=_ticket_or_404(ticket_id))


@bp.post("/tickets/<int:ticket_id>/orders/refresh")
def orders_refresh(ticket_id: int):
    """Fetch the customer's orders from Base now, then show the panel again."""
    ticket = _ticket_or_404(ticket_id)
    try:
        orders.refresh_ticket_orders(ticket)
    except orders.OrdersError as exc:  # the panel shows the failure, recorded with its time
        return _orders_reply(ticket, 503, orders_error=str(exc))
    return _orders_reply(ticket, orders_notice="Orders refreshed.")


@bp.post("/tickets/<int:ticket_id>/orders/<int:order_id>/status")
def order_status(ticket_id: int, order_id: int):
    """Move one of the customer's orders to another status in Base (a line records it)."""
    ticket = _ticket_or_404(ticket_id)
    order = order_panel.ticket_order(ticket, order_id)
    if order is None:
        abort(404)
    values, errors = _load(schemas.OrderStatusChangeSchema, request.form.to_dict())
    error = " ".join(errors.get("status_id", ()))
    if not errors:
        agent = as_agent(current_user)
        try:
            orders.change_order_status(ticket, order, values["status_id"], agent.id, agent.name)
        except orders.OrdersError as exc:
            error = str(exc)
    if error:
        return _orders_reply(ticket, 422, orders_error=error, orders_error_order=order_id)
    notice = f"Order {order_id} is now {orders.status_label(order.status_id)}."
    return _orders_reply(ticket, orders_notice=notice)
