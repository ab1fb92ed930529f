"""Automation rules in words: the choices of every choice field and action (for the rule form
and its schema), and a condition or action as the rule list shows it."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.automations.catalogue import ACTION_TYPES, CONDITION_FIELDS, OPERATOR_LABELS
from responso_chat.models import Chat, Team
from responso_chat.orders import sync as orders
from responso_chat.state import plugin_state
from responso_chat.users import list_agents
from responso_chat.vocab import (
    CONTEXT_LABELS,
    CONTEXTS,
    LANGUAGE_LABELS,
    ORDER_REQUEST_LABELS,
    SENTIMENTS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)

YES_NO = [("yes", "Yes"), ("no", "No")]


def value_choices() -> dict[str, list[tuple[str, str]]]:
    """The ``(value, label)`` choices of every choice condition field and choice action."""
    state = plugin_state()
    session = state.db.session
    chats = [(str(c.id), c.name) for c in session.scalars(sa.select(Chat).order_by(Chat.name))]
    statuses = [(str(s.id), s.name) for s in orders.status_choices()]
    teams = [(str(t.id), t.name) for t in session.scalars(sa.select(Team).order_by(Team.name))]
    priorities = [(p, p.capitalize()) for p in TICKET_PRIORITIES]
    ticket_statuses = [(s, s.capitalize()) for s in TICKET_STATUSES]
    return {
        "chat": chats,
        "channel": [("chat", "Chat")],
        "sentiment": [(s, s.capitalize()) for s in SENTIMENTS],
        "context": [(c, CONTEXT_LABELS[c]) for c in CONTEXTS],
        "email_verified": YES_NO,
        "has_order": YES_NO,
        "order_status": statuses,
        "customer_request": list(ORDER_REQUEST_LABELS.items()),
        "requested_order_status": statuses,
        "open_hours": YES_NO,
        "priority": priorities,
        "status": ticket_statuses,
        "language": list(LANGUAGE_LABELS.items()),
        "change_order_status": statuses,
        "set_priority": priorities,
        "assign_agent": [(a.id, a.name) for a in list_agents()],
        "assign_team": teams,
        "set_status": ticket_statuses,
    }


def choice_label(choices, key: str, value) -> str:
    """The label of ``value`` among the choices of ``key`` (the value itself when unknown)."""
    return dict(choices.get(key, ())).get(str(value), str(value))


def describe_condition(condition: dict, choices: dict) -> str:
    """A condition in words: "Sentiment is Negative"."""
    spec = CONDITION_FIELDS.get(condition.get("field"))
    if spec is None:
        return f"unknown condition {condition.get('field')!r}"
    value = condition.get("value")
    values = value if isinstance(value, list) else [value]
    shown = ", ".join(
        choice_label(choices, spec.key, v) if spec.kind == "choice" else f"“{v}”" for v in values
    )
    return f"{spec.label} {OPERATOR_LABELS.get(condition.get('operator'), '?')} {shown}"


def describe_action(action: dict, choices: dict) -> str:
    """An action in words, as the rule list shows it: "Set priority: High"."""
    spec = ACTION_TYPES.get(action.get("type"))
    if spec is None:
        return f"unknown action {action.get('type')!r}"
    value = action.get("value") or ""
    if spec.kind == "choice":
        return f"{spec.label}: {choice_label(choices, spec.key, value)}"
    if spec.kind == "text":
        return f"{spec.label}: {value}"
    return spec.label
