"""The agents' inbox: ticket lists, the ticket page and its side panel. Agents and admins.
Tasks, projects, contacts, teams, the orders panel and the agent's availability are views of
the same blueprint, in :mod:`.inbox_desk`.

Every change is a POST (CSRF-checked by the parent blueprint). An HTML form gets a redirect on
success and the page again with the errors next to the fields (422) when refused; a ``fetch``
asking for JSON gets ``{"ok": true, ...}`` or ``{"errors": {field: [message]}}`` (400/422).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError

from responso_chat.conversation import (
    analysis,
    availability,
    messages,
    shop_context,
    ticket_changes,
    tickets,
    wire,
)
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.inbox import contacts, paging, tasks, teams
from responso_chat.inbox import queries as inbox
from responso_chat.mail import outgoing
from responso_chat.models import utcnow
from responso_chat.schemas import inbox as schemas
from responso_chat.schemas.common import AfterQuerySchema
from responso_chat.users import agent_required, agents_by_id, as_agent, list_agents
from responso_chat.vocab import (
    AGENT_AVAILABILITY,
    CONTEXT_LABELS,
    ENDED_STATUSES,
    INBOX_VIEWS,
    SENTIMENTS,
    TICKET_CHANNEL_LABELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    UNFINISHED_STATUSES,
)

bp = Blueprint("inbox", __name__)

#: Why a reply to an ended ticket was not sent (the page then offers "Reopen and send").
REOPEN_FIRST = "This ticket is {status}. Choose “Reopen and send” to reopen it with your reply."

#: Query-string keys of the inbox list, carried from the list to a ticket and back.
LIST_KEYS = ("view", "chat", "channel", "status", "priority", "tag", "assignee", "team", "q")


@bp.before_request
@agent_required
def _agents_only():
    """Every inbox page needs an agent or admin; anonymous users go to the host's login."""


@bp.context_processor
def _inbox_globals():
    return {"rc_agents": agents_by_id, "rc_list_args": _list_args, "today": utcnow().date(),
            "count_label": inbox.count_label, "sentiments": SENTIMENTS,
            "context_labels": CONTEXT_LABELS, "availability_labels": AGENT_AVAILABILITY,
            "rc_my_availability": lambda: availability.chosen(current_user.get_id())}


# --- helpers -----------------------------------------------------------------------------


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _json_error(errors: dict, status: int):
    return make_response(jsonify(errors=errors), status)


def _payload() -> dict:
    """The request's input: a JSON object, or the form's fields (lists for repeated keys)."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(_json_error({"_request": ["Send a JSON object."]}, 400))
        return data
    return {
        key: values if len(values) > 1 else values[0] for key, values in request.form.lists()
    }


def _load(schema_class, data: dict) -> tuple[dict, dict]:
    """``(values, errors)`` of ``data`` through a marshmallow schema."""
    try:
        return schema_class().load(data), {}
    except ValidationError as exc:
        return {}, exc.messages


def _load_and_change(schema_class, data: dict, change) -> tuple[object, dict]:
    """``data`` through the schema, then ``change(values)``: ``(what it returned, errors)``,
    the errors being the schema's or those of a refused change (nothing changed then)."""
    values, errors = _load(schema_class, data)
    if errors:
        return None, errors
    try:
        return change(values), {}
    except ChangeRefused as exc:
        return None, exc.errors


def _list_args() -> dict:
    """The inbox list's query arguments of this request (to keep the same list around)."""
    return {key: request.args[key] for key in LIST_KEYS if request.args.get(key)}


def _list_filters() -> tuple[inbox.InboxFilters, str | None]:
    values, errors = _load(schemas.InboxQuerySchema, request.args.to_dict())
    if errors:
        abort(400, description="Invalid list filters: " + ", ".join(sorted(errors)))
    filters = inbox.InboxFilters(
        view=values["view"],
        chat_id=values["chat"],
        channel=values["channel"],
        status=values["status"],
        priority=values["priority"],
        tag=values["tag"],
        assignee=str(current_user.get_id()) if values["assignee"] == "me" else values["assignee"],
        team_id=values["team"],
        q=values["q"],
    )
    return filters, values["cursor"]


def _list_context(current_ticket_id: int | None = None) -> dict:
    """What the ticket list column needs: the page, counts, filters and choices."""
    filters, cursor = _list_filters()
    try:
        page = inbox.list_tickets(current_user, filters, cursor=cursor)
    except paging.InvalidCursor:
        abort(400, description="This page link is no longer valid.")
    return {
        "page": page,
        "filters": filters,
        "cursor": cursor,
        "counts": inbox.view_counts(current_user),
        "views": INBOX_VIEWS,
        "choices": inbox.filter_choices(current_user),
        "channels": TICKET_CHANNEL_LABELS,
        "statuses": TICKET_STATUSES,
        "priorities": TICKET_PRIORITIES,
        "agents": list_agents(),
        "current_ticket_id": current_ticket_id,
        "watching": inbox.watched_ticket_ids(current_user),
        "waiting_senders": inbox.WAITING_SENDERS,
        "unfinished": UNFINISHED_STATUSES,
    }


def _ticket_or_404(ticket_id: int):
    ticket = inbox.get_visible_ticket(current_user, ticket_id)
    if ticket is None:
        if _wants_json():
            abort(_json_error({"_request": ["No such ticket."]}, 404))
        abort(404)
    return ticket


def _panel_context(ticket, errors=None, values=None) -> dict:
    return {
        "ticket": ticket,
        "me": str(current_user.get_id()),
        "agents": list_agents(),
        "teams": teams.list_teams(),
        "all_tags": inbox.tag_names(),
        "ticket_tasks": tasks.tasks_of_ticket(ticket),
        "contact": contacts.contact_for_email(ticket.customer_email),
        "last_public": inbox.last_public_message(ticket),
        "shop_context": shop_context.for_panel(ticket.id),
        "statuses": TICKET_STATUSES,
        "priorities": TICKET_PRIORITIES,
        "errors": errors or {},
        "values": values or {},
    }


def _render_ticket(ticket, errors=None, values=None, status: int = 200):
    context = _panel_context(ticket, errors, values)
    context.update(_list_context(ticket.id))
    context["me_name"] = as_agent(current_user).name
    context["unfinished"] = UNFINISHED_STATUSES
    context["ended_statuses"] = ENDED_STATUSES
    context["conversation"] = messages.messages_after(ticket.id, 0, include_internal=True)
    context["mailed_seq"] = outgoing.mailed_seq(ticket.id)
    return render_template("responso_chat/inbox/ticket.html", **context), status


def _ticket_url(ticket, **extra):
    return url_for("responso_chat.inbox.ticket_page", ticket_id=ticket.id, **_list_args(), **extra)


def _refused(ticket, errors: dict, values: dict):
    if _wants_json():
        return _json_error(errors, 422)
    return _render_ticket(ticket, errors, values, 422)


def _changed(ticket, redirect_to: str | None = None, **extra):
    if _wants_json():
        body = {"ok": True, "ticket": ticket_summary(ticket), **extra}
        if redirect_to:
            body["redirect"] = redirect_to
        return jsonify(body)
    return redirect(redirect_to or _ticket_url(ticket), 303)


def ticket_summary(ticket) -> dict:
    """The side-panel fields of a ticket, as JSON answers to a change give them."""
    return {
        "id": ticket.id,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "tags": [tag.name for tag in ticket.tags],
        "watcher_ids": ticket.watcher_ids,
        "disable_next_autoresponder": ticket.disable_next_autoresponder,
    }


def _ticket_change(ticket_id: int, schema_class, apply, respond=None):
    """Validate the input with ``schema_class``, then ``apply(ticket, values, actor)``.

    ``respond(ticket, result)`` answers a successful change (default: :func:`_changed`).
    """
    ticket = _ticket_or_404(ticket_id)
    data = _payload()
    values, errors = _load(schema_class, data)
    if errors:
        return _refused(ticket, errors, data)
    try:
        result = apply(ticket, values, as_agent(current_user))
    except ChangeRefused as exc:
        return _refused(ticket, exc.errors, data)
    return respond(ticket, result) if respond else _changed(ticket)


# --- lists -------------------------------------------------------------------------------


@bp.get("/")
def ticket_list():
    """Tickets the agent may see: views with counts, filters, search, newest activity first.

    ``?fragment=list`` returns only the list column (the page refreshes it live).
    """
    context = _list_context(request.args.get("current", type=int))
    if request.args.get("fragment") == "list":
        return render_template("responso_chat/inbox/_list.html", **context)
    return render_template("responso_chat/inbox/ticket_list.html", **context)


@bp.get("/counts")
def view_counts():
    """How many tickets each view holds for the agent (JSON): ``counts`` as numbers (more
    than ``limit`` means "over the limit") and ``labels`` as the inbox shows them."""
    counts = inbox.view_counts(current_user)
    return jsonify(counts=counts, labels={view: inbox.count_label(n) for view, n in
                                          counts.items()}, limit=inbox.COUNT_LIMIT)


# --- the ticket page -----------------------------------------------------------------------


@bp.get("/tickets/<int:ticket_id>")
def ticket_page(ticket_id: int):
    """The conversation and side panel; opening an unfinished ticket nobody has assigns it.

    A ticket assigned to another agent is not taken: the page offers "Take over" instead.
    ``?fragment=panel`` returns only the side panel (refreshed after changes).
    """
    ticket = _ticket_or_404(ticket_id)
    if request.args.get("fragment") == "panel":
        return render_template("responso_chat/inbox/_panel.html", **_panel_context(ticket))
    me = str(current_user.get_id())
    if (
        ticket.status in UNFINISHED_STATUSES
        and ticket.assignee_id in (None, me)
        and _opened_from_this_site()
    ):
        tickets.join_by_agent(ticket, me, as_agent(current_user).name)
    return _render_ticket(ticket)


def _opened_from_this_site() -> bool:
    """Whether the browser says the page was opened from this site or typed in
    (``Sec-Fetch-Site``, a header no web page can set): a link on another site never
    assigns a ticket; the page then offers "Join chat" (a POST with its CSRF token)."""
    return request.headers.get("Sec-Fetch-Site") in ("same-origin", "none")


@bp.get("/tickets/<int:ticket_id>/messages")
def ticket_messages(ticket_id: int):
    """Messages after ``?after=<seq>``, internal notes included (JSON catch-up)."""
    ticket = _ticket_or_404(ticket_id)
    query, errors = _load(AfterQuerySchema, request.args.to_dict())
    if errors:
        return _json_error(errors, 400)
    rows = messages.messages_after(ticket.id, query["after"], include_internal=True)
    return jsonify(messages=[wire.message(m) for m in rows])


@bp.post("/tickets/<int:ticket_id>/messages")
def send_message(ticket_id: int):
    """The agent replies (or writes an internal note); idempotent by ``client_msg_id``.

    A reply to a solved, closed or spam ticket needs ``reopen`` (the page's "Reopen and
    send"); without it the answer is a 409 that says so, and nothing is stored.
    """
    ticket = _ticket_or_404(ticket_id)
    data = _payload()
    values, errors = _load(schemas.AgentMessageSchema, data)
    if errors:
        return _refused(ticket, errors, data)
    agent = as_agent(current_user)
    try:
        message = messages.post_agent_message(
            ticket,
            agent.id,
            agent.name,
            values["body"],
            client_msg_id=values["client_msg_id"],
            internal=values["internal"],
            reopen=values["reopen"],
        )
    except messages.ReopenRequired:
        errors = {"body": [REOPEN_FIRST.format(status=ticket.status)]}
        if _wants_json():
            return jsonify(errors=errors, reopen_required=True, status=ticket.status), 409
        return _render_ticket(ticket, errors, data, 409)
    if _wants_json():
        return jsonify(message=wire.message(message)), 201
    return redirect(_ticket_url(ticket), 303)


@bp.post("/tickets/<int:ticket_id>/messages/<int:seq>/analysis")
def correct_analysis(ticket_id: int, seq: int):
    """The agent corrects the sentiment and context of a customer's message (kept as the
    classifier's evaluation set from real use)."""

    def apply(ticket, values, actor):
        return analysis.correct(ticket, seq, values["sentiment"], values["context"], actor)

    def respond(ticket, message):
        if _wants_json():
            return jsonify(ok=True, analysis=wire.analysis(message))
        return redirect(_ticket_url(ticket, _anchor=f"rc-msg-{seq}"), 303)

    return _ticket_change(ticket_id, schemas.AnalysisCorrectionSchema, apply, respond)


@bp.post("/tickets/<int:ticket_id>/take-over")
def take_over(ticket_id: int):
    """Take a ticket another agent has, explicitly."""
    ticket = _ticket_or_404(ticket_id)
    ticket_changes.take_over(ticket, as_agent(current_user))
    return _changed(ticket)


@bp.post("/tickets/<int:ticket_id>/status")
def set_status(ticket_id: int):
    """Change the ticket's status."""
    return _ticket_change(
        ticket_id,
        schemas.TicketStatusSchema,
        lambda t, v, a: ticket_changes.set_status(t, v["status"], a),
    )


@bp.post("/tickets/<int:ticket_id>/priority")
def set_priority(ticket_id: int):
    """Change the ticket's priority."""
    return _ticket_change(
        ticket_id,
        schemas.TicketPrioritySchema,
        lambda t, v, a: ticket_changes.set_priority(t, v["priority"], a),
    )


@bp.post("/tickets/<int:ticket_id>/assignee")
def set_assignee(ticket_id: int):
    """Assign the ticket to an agent, or to nobody."""
    return _ticket_change(
        ticket_id,
        schemas.TicketAssigneeSchema,
        lambda t, v, a: ticket_changes.assign(t, v["assignee"], a),
    )


@bp.post("/tickets/<int:ticket_id>/team")
def set_team(ticket_id: int):
    """Give the ticket to a team, or to none."""
    return _ticket_change(
        ticket_id,
        schemas.TicketTeamSchema,
        lambda t, v, a: ticket_changes.set_team(t, v["team"], a),
    )


@bp.post("/tickets/<int:ticket_id>/tags")
def add_tag(ticket_id: int):
    """Put a tag on the ticket (a new tag is created)."""
    return _ticket_change(
        ticket_id,
        schemas.TicketTagSchema,
        lambda t, v, a: ticket_changes.add_tag(t, v["tag"], a),
    )


@bp.post("/tickets/<int:ticket_id>/tags/remove")
def remove_tag(ticket_id: int):
    """Take a tag off the ticket."""
    return _ticket_change(
        ticket_id,
        schemas.TicketTagSchema,
        lambda t, v, a: ticket_changes.remove_tag(t, v["tag"], a),
    )


@bp.post("/tickets/<int:ticket_id>/watchers")
def add_watcher(ticket_id: int):
    """Add an agent to the ticket's watchers."""
    return _ticket_change(
        ticket_id,
        schemas.TicketWatcherSchema,
        lambda t, v, a: ticket_changes.add_watcher(t, v["user_id"], a),
    )


@bp.post("/tickets/<int:ticket_id>/watchers/remove")
def remove_watcher(ticket_id: int):
    """Remove an agent from the ticket's watchers."""
    return _ticket_change(
        ticket_id,
        schemas.TicketWatcherSchema,
        lambda t, v, a: ticket_changes.remove_watcher(t, v["user_id"], a),
    )


@bp.post("/tickets/<int:ticket_id>/close")
def close_ticket(ticket_id: int):
    """Quick action: close the ticket."""
    ticket = _ticket_or_404(ticket_id)
    ticket_changes.close_ticket(ticket, as_agent(current_user))
    return _changed(ticket)


@bp.post("/tickets/<int:ticket_id>/contact")
def add_to_contacts(ticket_id: int):
    """Quick action: add the customer to the contacts (or update their contact)."""
    ticket = _ticket_or_404(ticket_id)
    contact, created = ticket_changes.add_sender_to_contacts(ticket, as_agent(current_user))
    return _changed(ticket, contact_id=contact.id, created=created)


@bp.post("/tickets/<int:ticket_id>/autoresponder")
def disable_autoresponder(ticket_id: int):
    """Quick action: skip the next auto-responder on this ticket."""
    ticket = _ticket_or_404(ticket_id)
    ticket_changes.disable_next_autoresponder(ticket, as_agent(current_user))
    return _changed(ticket)


@bp.post("/tickets/<int:ticket_id>/new-ticket")
def new_ticket(ticket_id: int):
    """Quick action: open a new ticket to this customer, with a first message."""

    return _ticket_change(
        ticket_id,
        schemas.NewTicketSchema,
        lambda t, v, a: ticket_changes.create_ticket_for_customer(t, v["subject"], v["body"], a),
        lambda t, new: _changed(t, _ticket_url(new), new_ticket_id=new.id),
    )
