"""The automation job: run a trigger's enabled rules on a ticket, each at most once an event.

A rule has a trigger, conditions joined by "all" or "any" and a list of actions, applied in
``position`` order. The runner, :func:`run_automations`, runs in the background (ids only):
the tickets' event jobs call it through :mod:`.triggers`:

- ``new_ticket``: the ticket's first customer message (rules of ``customer_message`` run too);
- ``customer_message``: every later customer message;
- ``status_changed``: an agent (or the customer's new message) changed the status;
- ``no_agent_reply``: a check scheduled ``trigger_minutes`` after a customer message, which
  acts only if no agent has replied since.

Each rule acts at most once per event: an :class:`AutomationRun` row, unique per (rule,
message), is committed before the actions, so a retried job skips what already ran. The
message is the customer message that triggered the rule; for a status change the ticket's
latest message (the change's own system line); for "no agent reply" the first customer
message still waiting for an answer, so one waiting period acts once however many messages the
customer sends. Changes made by automations never trigger automations.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from responso_chat.automations.actions import ActionContext, actor_for, perform
from responso_chat.automations.facts import Facts, rule_matches
from responso_chat.conversation import messages
from responso_chat.models import (
    AutomationRule,
    AutomationRun,
    Message,
    Ticket,
    ticket_details,
    utcnow,
)
from responso_chat.state import plugin_state

RUNNER = "responso_chat.automations.runner.run_automations"

#: The rules an event runs: a ticket's first message is also a customer message.
RULES_FOR_EVENT = {
    "new_ticket": ("new_ticket", "customer_message"),
    "customer_message": ("customer_message",),
    "status_changed": ("status_changed",),
    "no_agent_reply": ("no_agent_reply",),
}
#: The triggers a customer's message may set off (now, or later when no agent replied).
MESSAGE_TRIGGERS = ("new_ticket", "customer_message", "no_agent_reply")


def enabled_rules(triggers, rule_id=None) -> list:
    """The enabled rules of ``triggers`` (only ``rule_id`` when given), in run order."""
    state = plugin_state()
    query = sa.select(AutomationRule).where(
        AutomationRule.enabled.is_(True), AutomationRule.trigger.in_(triggers)
    )
    if rule_id is not None:
        query = query.where(AutomationRule.id == rule_id)
    return list(
        state.db.session.scalars(query.order_by(AutomationRule.position, AutomationRule.id))
    )


def _claim(rule, ticket, message):
    """Commit the rule's run record for this message; None when the rule already acted.

    A run without an outcome was claimed by a try that died before it finished (a worker
    killed mid-job): it is returned, so this try finishes it; its actions are idempotent
    (messages carry the step's key, changes are skipped when already made).
    """
    state = plugin_state()
    session = state.db.session
    run = AutomationRun(rule_id=rule.id, ticket_id=ticket.id, message_id=message.id, outcome=[])
    session.add(run)
    rule.last_run_at = run.created_at = utcnow()
    try:
        session.commit()
    except IntegrityError:  # run before, by an earlier try of this job or a twin job
        session.rollback()
        earlier = session.scalars(
            sa.select(AutomationRun).where(
                AutomationRun.rule_id == rule.id, AutomationRun.message_id == message.id
            )
        ).first()
        return earlier if earlier is not None and not earlier.outcome else None
    return run


def has_message(ticket_id: int, *conditions) -> bool:
    """Whether the ticket has a message that meets every condition."""
    state = plugin_state()
    query = sa.select(sa.exists().where(Message.ticket_id == ticket_id, *conditions))
    return bool(state.db.session.scalar(query))


def _agent_replied_after(ticket, message) -> bool:
    return has_message(
        ticket.id,
        Message.author_kind == "agent",
        Message.internal.is_(False),
        Message.seq > message.seq,
    )


def _waiting_since(ticket, message):
    """The first customer message after the last agent reply before ``message``."""
    state = plugin_state()
    session = state.db.session
    last_reply = session.scalar(
        sa.select(sa.func.max(Message.seq)).where(
            Message.ticket_id == ticket.id,
            Message.author_kind == "agent",
            Message.internal.is_(False),
            Message.seq < message.seq,
        )
    )
    return session.scalars(
        sa.select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.author_kind == "customer",
            Message.seq > (last_reply or 0),
        )
        .order_by(Message.seq)
        .limit(1)
    ).first()


def _event_message(trigger: str, ticket, message_id):
    """The message an event is about (None: nothing to do)."""
    state = plugin_state()
    session = state.db.session
    if message_id is None:
        return session.scalars(
            sa.select(Message).where(Message.ticket_id == ticket.id).order_by(Message.seq.desc())
        ).first()
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        return None
    if trigger in ("new_ticket", "customer_message", "no_agent_reply"):
        if message.author_kind != "customer":  # never answer an automation's (or agent's) text
            return None
    if trigger == "no_agent_reply":
        if ticket.status in messages.ENDED_STATUSES or _agent_replied_after(ticket, message):
            return None
        return _waiting_since(ticket, message)
    return message


def run_automations(
    trigger: str,
    ticket_id: int,
    message_id: int | None = None,
    rule_id=None,
    status: str | None = None,
):
    """The automation job: run the enabled rules of ``trigger`` on a ticket, in order.

    A new customer message is classified first if it was not yet. Each matching rule that has
    not acted on this event yet runs its actions. ``rule_id`` limits the run to one rule (the
    scheduled "no agent reply" checks). ``status`` is the status a status change set: when a
    later change has already replaced it, the event is stale and nothing runs (jobs of two
    quick changes may run in any order). Returns the ids of the runs made.
    """
    if trigger not in RULES_FOR_EVENT:
        raise ValueError(f"unknown automation trigger {trigger!r}")
    state = plugin_state()
    session = state.db.session
    ticket = session.get(Ticket, ticket_id, options=ticket_details())
    if ticket is None or (status is not None and ticket.status != status):
        return []
    message = _event_message(trigger, ticket, message_id)
    if message is None:
        return []
    if message.author_kind == "customer" and message.sentiment is None:
        messages.classify_customer_message(ticket, message)
        session.commit()
    facts = Facts(ticket, message, fetch_orders=True)
    run_ids = []
    for rule in enabled_rules(RULES_FOR_EVENT[trigger], rule_id):
        if not rule_matches(rule, facts):
            continue
        run = _claim(rule, ticket, message)
        if run is None:
            continue
        ctx = ActionContext(rule=rule, actor=actor_for(rule), facts=facts)
        outcome = []
        for index, action in enumerate(rule.actions or []):
            ctx.step = f"automation:{run.id}:{index}"
            outcome.append(perform(ctx, action))
        run.outcome = outcome
        session.commit()
        run_ids.append(run.id)
    return run_ids
