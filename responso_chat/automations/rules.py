"""Automation rules: the admin pages' and the API's services (list, create, change, order,
delete), and what ran on a ticket."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from responso_chat.automations.describe import value_choices
from responso_chat.models import AutomationRule, AutomationRun, Ticket, ticket_details
from responso_chat.schemas.automation_rules import AutomationRuleSchema
from responso_chat.state import plugin_state


def list_rules() -> list:
    """Every rule in the order they run."""
    state = plugin_state()
    query = sa.select(AutomationRule).order_by(AutomationRule.position, AutomationRule.id)
    return list(state.db.session.scalars(query))


def get_rule(rule_id: int):
    """The rule ``rule_id``, or None."""
    state = plugin_state()
    return state.db.session.get(AutomationRule, rule_id)


def get_ticket(ticket_id: int):
    """The ticket ``ticket_id`` (any chat: admins see every ticket), or None."""
    state = plugin_state()
    return state.db.session.get(Ticket, ticket_id, options=ticket_details())


def _apply(rule, data: dict) -> None:
    rule.name = data["name"]
    rule.enabled = data["enabled"]
    rule.trigger = data["trigger"]
    rule.trigger_minutes = data["trigger_minutes"] if data["trigger"] == "no_agent_reply" else None
    rule.match = data["match"]
    rule.conditions = data["conditions"]
    rule.actions = data["actions"]


def _validated(values: dict) -> dict:
    return AutomationRuleSchema(choices=value_choices()).load(values)


def create_rule(values: dict):
    """Validate the form's ``values`` and save a new rule after the existing ones.

    Raises ``marshmallow.ValidationError`` (nothing saved) when they are wrong.
    """
    data = _validated(values)
    state = plugin_state()
    session = state.db.session
    last = session.scalar(sa.select(sa.func.max(AutomationRule.position)))
    rule = AutomationRule(position=(last + 1) if last is not None else 0)
    _apply(rule, data)
    session.add(rule)
    session.commit()
    return rule


def update_rule(rule, values: dict) -> None:
    """Validate the form's ``values`` and save them on ``rule`` (``ValidationError``: unsaved)."""
    _apply(rule, _validated(values))
    plugin_state().db.session.commit()


def delete_rule(rule) -> None:
    """Delete a rule (its run records go with it)."""
    session = plugin_state().db.session
    session.delete(rule)
    session.commit()


def set_enabled(rule, enabled: bool) -> None:
    """Enable or disable a rule."""
    rule.enabled = bool(enabled)
    plugin_state().db.session.commit()


def move_rule(rule, direction: str) -> bool:
    """Move a rule one place ``up`` or ``down`` in the run order; False at either end."""
    rules = list_rules()
    index = next(i for i, r in enumerate(rules) if r.id == rule.id)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(rules):
        return False
    rules[index], rules[other] = rules[other], rules[index]
    for position, each in enumerate(rules):
        each.position = position
    plugin_state().db.session.commit()
    return True


@dataclass(frozen=True)
class RunView:
    """One run of a rule on a ticket, as the ticket's side panel lists it."""

    rule_name: str
    created_at: object
    outcome: list


def runs_for_ticket(ticket_id: int, limit: int = 50) -> list[RunView]:
    """The rules that ran on a ticket, newest first, with what each action did."""
    state = plugin_state()
    rows = state.db.session.execute(
        sa.select(AutomationRun, AutomationRule.name)
        .join(AutomationRule, AutomationRule.id == AutomationRun.rule_id)
        .where(AutomationRun.ticket_id == ticket_id)
        .order_by(AutomationRun.created_at.desc(), AutomationRun.id.desc())
        .limit(limit)
    )
    return [RunView(name, run.created_at, list(run.outcome or [])) for run, name in rows]


def failed_jobs(limit: int = 50) -> list:
    """Background jobs that failed for good, newest first (RQ's registry, or this process's)."""
    return plugin_state().jobs.failed_jobs(limit)
