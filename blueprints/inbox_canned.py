"""The inbox's canned responses (their page, the composer's suggestions and filling one in for
a ticket) and a ticket's transfer. Views of the inbox blueprint (:data:`.inbox.bp`): the same
access check, CSRF and answers (an HTML form, or JSON for a ``fetch``)."""

from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from responso_chat.conversation import ticket_changes
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.inbox import canned
from responso_chat.schemas.canned import CannedResponseSchema, TransferSchema
from responso_chat.schemas.common import UNFILLED_VARIABLE
from responso_chat.users import as_agent, is_admin
from responso_chat.vocab import CANNED_VARIABLE_LABELS

from .inbox import _load_and_change, _payload, _ticket_change, _ticket_or_404, _wants_json, bp

FORM = "responso_chat/inbox/canned_form.html"


def _usable_or_404(canned_id: int):
    found = canned.get_usable(current_user, canned_id)
    if found is None:
        abort(404)
    return found


def _managed_or_403(canned_id: int):
    """A response the agent may change: another agent's own is a 404, a shared one a 403
    for agents (admins manage those)."""
    found = _usable_or_404(canned_id)
    if not canned.may_manage(current_user, found):
        abort(403)
    return found


def _form(values: dict, errors: dict, item=None, status: int = 200):
    return render_template(
        FORM,
        item=item,
        values=values,
        errors=errors,
        variables=CANNED_VARIABLE_LABELS,
        may_share=is_admin(current_user),
    ), status


def _form_input() -> dict:
    data = _payload()
    if not request.is_json:  # an unticked box sends nothing: not shared
        data["shared"] = request.form.get("shared") == "true"
    return data


def _saved(save, item=None):
    """Validate the form, ``save(values)``; back to the list, or the form with its errors."""
    data = _form_input()
    _saved_item, errors = _load_and_change(CannedResponseSchema, data, save)
    if errors:
        if _wants_json():
            return jsonify(errors=errors), 422
        return _form(data, errors, item, 422)
    if _wants_json():
        return jsonify(ok=True)
    return redirect(url_for("responso_chat.inbox.canned_list"), 303)


@bp.context_processor
def _toolkit_context():
    """``transfer_choices(ticket)``: the agents who may take a ticket (the side panel's
    "Transfer" and "Assigned agent" offer them); ``unfilled_variable``: the pattern of a
    canned variable left unfilled, which the composer marks as the server refuses it."""
    return {"transfer_choices": ticket_changes.transfer_choices,
            "unfilled_variable": UNFILLED_VARIABLE.pattern}


@bp.get("/canned-responses")
def canned_list():
    """The canned responses the agent uses: their own and the team's shared ones."""
    return render_template(
        "responso_chat/inbox/canned_list.html",
        items=canned.usable(current_user),
        may_manage=canned.may_manage,
        me=current_user,
        variables=CANNED_VARIABLE_LABELS,
    )


@bp.route("/canned-responses/new", methods=["GET", "POST"])
def canned_new():
    """Create a canned response (shared with the team: admins only)."""
    if request.method == "GET":
        return _form({"shared": False}, {})
    return _saved(lambda values: canned.create(current_user, values))


@bp.route("/canned-responses/<int:canned_id>", methods=["GET", "POST"])
def canned_edit(canned_id: int):
    """Change a canned response the agent manages."""
    item = _managed_or_403(canned_id)
    if request.method == "GET":
        return _form(canned.form_values(item), {}, item)
    return _saved(lambda values: canned.update(current_user, item, values), item)


@bp.route("/canned-responses/<int:canned_id>/delete", methods=["GET", "POST"])
def canned_delete(canned_id: int):
    """Ask, then delete a canned response the agent manages."""
    item = _managed_or_403(canned_id)
    if request.method == "GET":
        return render_template("responso_chat/inbox/canned_delete.html", item=item)
    canned.delete(item)
    if _wants_json():
        return jsonify(ok=True)
    return redirect(url_for("responso_chat.inbox.canned_list"), 303)


@bp.get("/canned-responses/choices")
def canned_choices():
    """The composer's suggestions (JSON): the responses the agent may insert."""
    return jsonify(
        canned=[
            {"id": c.id, "shortcut": c.shortcut, "title": c.title, "shared": c.shared}
            for c in canned.usable(current_user)
        ]
    )


@bp.get("/tickets/<int:ticket_id>/canned/<int:canned_id>")
def canned_fill(ticket_id: int, canned_id: int):
    """A canned response filled in for the ticket (JSON): ``text``, and ``missing``, the
    variables without a value (left in the text as ``{{name}}``) with their labels."""
    ticket = _ticket_or_404(ticket_id)
    item = canned.get_usable(current_user, canned_id)
    if item is None:
        return jsonify(errors={"_request": ["No such canned response."]}), 404
    try:
        filled = canned.fill(item, ticket, as_agent(current_user))
    except ChangeRefused as exc:
        return jsonify(errors=exc.errors), 422
    return jsonify(
        id=filled.id,
        text=filled.text,
        missing=[
            {"name": name, "label": CANNED_VARIABLE_LABELS[name]} for name in filled.missing
        ],
    )


@bp.post("/tickets/<int:ticket_id>/transfer")
def transfer(ticket_id: int):
    """Hand the ticket to an agent of its chat or to a team, with a note only agents see."""
    return _ticket_change(
        ticket_id,
        TransferSchema,
        lambda t, v, a: ticket_changes.transfer(
            t, a, agent_id=v["agent_id"], team_id=v["team_id"], note=v["note"]
        ),
    )
