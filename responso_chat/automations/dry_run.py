"""Dry run: what a rule would do to a ticket now, with each condition's result; nothing changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import TemplateError

from responso_chat.automations.actions import autoreply_refusal
from responso_chat.automations.describe import (
    choice_label,
    describe_action,
    describe_condition,
    value_choices,
)
from responso_chat.automations.facts import Facts, condition_met, rule_matches
from responso_chat.automations.templating import render_text


@dataclass
class DryRun:
    """What a rule would do to a ticket now: each condition's result and the actions."""

    matched: bool
    conditions: list[tuple[str, bool]] = field(default_factory=list)
    would_do: list[str] = field(default_factory=list)


def _would_do(action: dict, facts: Facts, choices: dict) -> str:
    """One action in words as it would act on the ticket now (nothing is changed)."""
    kind, value = action.get("type"), action.get("value") or ""
    ticket = facts.ticket
    try:
        if kind == "auto_reply":
            refusal = autoreply_refusal(ticket)
            if refusal:
                return f"not send the auto-response: {refusal}"
            if ticket.disable_next_autoresponder:
                return "not send the auto-response: the next auto-responder is disabled"
            return f"send the auto-response “{render_text(value, facts.template_variables())}”"
        if kind == "internal_note":
            return f"add the internal note “{render_text(value, facts.template_variables())}”"
        if kind == "notify_watchers":
            if not ticket.watcher_ids:
                return "notify nobody: the ticket has no watchers"
            text = render_text(value, facts.template_variables())
            return f"notify the watchers: “{text}”"
    except TemplateError as exc:
        return f"fail: the template failed: {exc}"
    if kind == "change_order_status":
        order = facts.target_order
        if order is None:
            return "change no order: the customer has no Base order"
        target = choice_label(choices, kind, value)
        return f"change Base order {order.base_order_id} to “{target}” in Base"
    text = describe_action(action, choices)
    return text[:1].lower() + text[1:]


def dry_run_details(rule, ticket, now=None) -> DryRun:
    """Evaluate ``rule`` on ``ticket`` (its latest customer message) without changing anything."""
    facts = Facts(ticket, None, now)
    choices = value_choices()
    conditions = [
        (describe_condition(c, choices), condition_met(c, facts)) for c in rule.conditions or []
    ]
    matched = rule_matches(rule, facts)
    would_do = [_would_do(a, facts, choices) for a in rule.actions or []] if matched else []
    return DryRun(matched=matched, conditions=conditions, would_do=would_do)


def dry_run(rule, ticket) -> tuple[bool, list[str]]:
    """``(would match, what it would do)`` for ``rule`` on ``ticket``; no side effects."""
    details = dry_run_details(rule, ticket)
    return details.matched, details.would_do
