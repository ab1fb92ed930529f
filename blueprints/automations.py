"""Admin pages of automations: the rules, their editor, a dry run and failed jobs. Admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from responso_chat.automations import catalogue, describe, dry_run, rules
from responso_chat.infra import outbox
from responso_chat.infra.jobs import QueueUnreachable
from responso_chat.schemas.automation_rules import (
    FORM_ROWS,
    DryRunSchema,
    automation_form_input,
    automation_form_values,
    blank_rule_values,
)
from responso_chat.users import admin_required
from responso_chat.vocab import AUTOMATION_TRIGGERS, TRIGGER_LABELS

bp = Blueprint("automations", __name__)


@bp.app_template_global("rc_automation_runs")
def _automation_runs(ticket_id: int):
    """For the ticket page's side panel: the rules that ran on the ticket."""
    return rules.runs_for_ticket(ticket_id)


@bp.before_request
@admin_required
def _admins_only():
    """Every automation page needs an admin; anonymous users go to the host's login."""


def _rule_or_404(rule_id: int):
    return rules.get_rule(rule_id) or abort(404)


@bp.get("/")
def rule_list():
    """The rules in the order they run, with enable/disable and move up/down."""
    return render_template(
        "responso_chat/automations/rule_list.html",
        rules=rules.list_rules(),
        choices=describe.value_choices(),
        trigger_labels=TRIGGER_LABELS,
        describe_condition=describe.describe_condition,
        describe_action=describe.describe_action,
    )



def _form_values() -> tuple[dict, bool]:
    """The rule form's values, and whether it was sent by an "Add …" or "Remove" button (which
    work without JavaScript: the form comes back with the row added or removed, unsaved)."""
    form = request.form.copy()
    verb, _, target = form.pop("form_action", "save").partition("_")
    what, _, number = target.partition(":")
    if what not in FORM_ROWS or verb not in ("add", "remove"):
        return automation_form_input(form), False
    prefix, blank = FORM_ROWS[what]
    if verb == "remove":
        for key in [key for key in form if key.startswith(f"{prefix}-{number}-")]:
            form.poplist(key)
    values = automation_form_input(form)
    if verb == "add":
        values[prefix].append(dict(blank))
    return values, True


def _rule_form(values: dict, errors: dict, rule=None, status: int = 200):
    return (
        render_template(
            "responso_chat/automations/rule_form.html",
            rule=rule,
            values=values,
            errors=errors,
            fields=catalogue.CONDITION_FIELDS,
            operators=catalogue.OPERATOR_LABELS,
            field_operators={k: f.operators for k, f in catalogue.CONDITION_FIELDS.items()},
            action_types=catalogue.ACTION_TYPES,
            triggers=[(t, TRIGGER_LABELS[t]) for t in AUTOMATION_TRIGGERS],
            choices=describe.value_choices(),
            variables=catalogue.TEMPLATE_VARIABLES,
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
def rule_create():
    """Create a rule: the editor, then validate and save."""
    if request.method == "GET":
        return _rule_form(blank_rule_values(), {})
    values, editing_rows = _form_values()
    if editing_rows:
        return _rule_form(values, {})
    try:
        rule = rules.create_rule(values)
    except ValidationError as exc:
        return _rule_form(values, exc.messages, status=422)
    flash(f"Rule “{rule.name}” created.", "success")
    return redirect(url_for(".rule_list"))


@bp.route("/<int:rule_id>", methods=["GET", "POST"])
def rule_edit(rule_id: int):
    """Change a rule."""
    rule = _rule_or_404(rule_id)
    if request.method == "GET":
        return _rule_form(automation_form_values(rule), {}, rule)
    values, editing_rows = _form_values()
    if editing_rows:
        return _rule_form(values, {}, rule)
    try:
        rules.update_rule(rule, values)
    except ValidationError as exc:
        return _rule_form(values, exc.messages, rule, status=422)
    flash(f"Rule “{rule.name}” saved.", "success")
    return redirect(url_for(".rule_list"))


@bp.post("/<int:rule_id>/delete")
def rule_delete(rule_id: int):
    """Delete a rule."""
    rule = _rule_or_404(rule_id)
    name = rule.name
    rules.delete_rule(rule)
    flash(f"Rule “{name}” deleted.", "success")
    return redirect(url_for(".rule_list"))


@bp.post("/<int:rule_id>/enabled")
def rule_enable(rule_id: int):
    """Enable (``enabled=1``) or disable (``enabled=0``) a rule."""
    rule = _rule_or_404(rule_id)
    rules.set_enabled(rule, request.form.get("enabled") == "1")
    flash(f"Rule “{rule.name}” {'enabled' if rule.enabled else 'disabled'}.", "success")
    return redirect(url_for(".rule_list"))


@bp.post("/<int:rule_id>/move")
def rule_move(rule_id: int):
    """Move a rule one place up or down in the run order."""
    rule = _rule_or_404(rule_id)
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        abort(400, description="Move a rule up or down.")
    if rules.move_rule(rule, direction):
        flash(f"Rule “{rule.name}” moved {direction}.", "success")
    return redirect(url_for(".rule_list"))


@bp.get("/<int:rule_id>/dry-run")
def rule_dry_run(rule_id: int):
    """Try a rule on an existing ticket: would it match, and what would it do (nothing done)."""
    rule = _rule_or_404(rule_id)
    form, errors, result, ticket, status = dict(request.args), {}, None, None, 200
    if "ticket_id" in request.args:
        try:
            ticket_id = DryRunSchema().load(request.args)["ticket_id"]
        except ValidationError as exc:
            errors, status = exc.messages, 422
        else:
            ticket = rules.get_ticket(ticket_id)
            if ticket is None:
                errors, status = {"ticket_id": [f"There is no ticket #{ticket_id}."]}, 422
            else:
                result = dry_run.dry_run_details(rule, ticket)
    return render_template(
        "responso_chat/automations/dry_run.html",
        rule=rule,
        form=form,
        errors=errors,
        result=result,
        ticket=ticket,
    ), status


@bp.get("/failed-jobs")
def failed_jobs():
    """Background jobs that failed for good (after their retries), and the outbox's jobs
    still waiting to be queued (Redis away)."""
    try:
        failed, unreachable = rules.failed_jobs(), False
    except QueueUnreachable:
        failed, unreachable = [], True
    kept, kept_since = outbox.backlog()
    return render_template(
        "responso_chat/automations/failed_jobs.html",
        jobs=failed,
        unreachable=unreachable,
        kept=kept,
        kept_since=kept_since,
    )
