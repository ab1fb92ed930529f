"""What sets the runner off: the tickets' event jobs call these (in the worker, never on the
message path); each costs one query when no rule listens (the common case)."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.automations.runner import (
    MESSAGE_TRIGGERS,
    RULES_FOR_EVENT,
    RUNNER,
    enabled_rules,
    has_message,
    run_automations,
)
from responso_chat.infra import outbox
from responso_chat.models import AutomationRule, Message
from responso_chat.state import plugin_state


def _has_rules(triggers) -> bool:
    state = plugin_state()
    return bool(
        state.db.session.scalar(
            sa.select(
                sa.exists().where(
                    AutomationRule.enabled.is_(True), AutomationRule.trigger.in_(triggers)
                )
            )
        )
    )


def on_customer_message(ticket_id: int, message_id: int) -> None:
    """A customer's message: run the message rules, and write the delayed "no agent reply"
    checks to the outbox. One query when no rule listens (the common case)."""
    rules = enabled_rules(MESSAGE_TRIGGERS)
    triggers = {rule.trigger for rule in rules}
    if triggers & set(RULES_FOR_EVENT["new_ticket"]):
        event = "customer_message" if _earlier_customer_message(ticket_id, message_id) \
            else "new_ticket"
        if triggers & set(RULES_FOR_EVENT[event]):
            run_automations(event, ticket_id, message_id)
    checks = [rule for rule in rules if rule.trigger == "no_agent_reply" and rule.trigger_minutes]
    for rule in checks:
        outbox.add(
            RUNNER,
            "no_agent_reply",
            ticket_id,
            message_id,
            rule.id,
            delay=rule.trigger_minutes * 60,
        )
    if checks:
        plugin_state().db.session.commit()


def _earlier_customer_message(ticket_id: int, message_id: int) -> bool:
    return has_message(ticket_id, Message.author_kind == "customer", Message.id < message_id)


def on_status_changed(ticket_id: int, new: str, message_id: int | None) -> None:
    """A status change (by someone else than an automation) runs the status rules."""
    if _has_rules(RULES_FOR_EVENT["status_changed"]):
        run_automations("status_changed", ticket_id, message_id, None, new)
