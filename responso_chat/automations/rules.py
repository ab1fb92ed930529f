"""Automations on chat tickets: rules (trigger, conditions, actions), their runner and dry run.

A rule has a trigger, conditions joined by "all" or "any" and a list of actions, applied in
``position`` order. The runner, :func:`run_automations`, runs in the background (ids only):
the tickets' event jobs (:mod:`.events`, written to the outbox with their change) call it
through :func:`on_customer_message` and :func:`on_status_changed`:

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
customer sends. Changes made by automations never trigger automations, the number of
auto-responses per ticket and hour is capped (``RESPONSO_CHAT_AUTORESPONDER_LIMIT``), and the
ticket's "disable next auto-responder" flag skips exactly one auto-response. An action that
fails (Base down, an agent removed) is recorded on the ticket and in the run's outcome; the
other actions still run.

Conditions are ``{"field", "operator", "value"}`` (``value`` a list for ``in``); actions are
``{"type", "value"}``. :data:`CONDITION_FIELDS` and :data:`ACTION_TYPES` describe both.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

import sqlalchemy as sa
from jinja2 import TemplateError
from sqlalchemy.exc import IntegrityError

from responso_chat import signals
from responso_chat.automations.catalogue import (
    ACTION_TYPES,
    CONDITION_FIELDS,
    OPERATOR_LABELS,
)
from responso_chat.automations.templating import render_text
from responso_chat.conversation import events, messages, ticket_changes
from responso_chat.conversation.classify import normalize
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.conversation.visibility import opening_state
from responso_chat.infra import outbox
from responso_chat.models import (
    AutomationRule,
    AutomationRun,
    Chat,
    Message,
    Order,
    OrderStatus,
    OrderSync,
    Team,
    Ticket,
    ticket_details,
    utcnow,
)
from responso_chat.orders import sync as orders
from responso_chat.orders.base_client import BaseClientError
from responso_chat.schemas.automation_rules import AutomationRuleSchema
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id, list_agents
from responso_chat.vocab import (
    CONTEXT_LABELS,
    CONTEXTS,
    LANGUAGE_LABELS,
    SENTIMENTS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)

log = logging.getLogger(__name__)

RUNNER = "responso_chat.automations.rules.run_automations"

#: The rules an event runs: a ticket's first message is also a customer message.
RULES_FOR_EVENT = {
    "new_ticket": ("new_ticket", "customer_message"),
    "customer_message": ("customer_message",),
    "status_changed": ("status_changed",),
    "no_agent_reply": ("no_agent_reply",),
}
#: The triggers a customer's message may set off (now, or later when no agent replied).
MESSAGE_TRIGGERS = ("new_ticket", "customer_message", "no_agent_reply")

_NEGATED = {"is_not": "is", "not_contains": "contains"}

YES_NO = [("yes", "Yes"), ("no", "No")]

_ORDER_NUMBER = re.compile(r"\d{2,20}")


@dataclass(frozen=True)
class AutomationActor:
    """A rule acting on a ticket: what ticket changes and signals name as ``by``.

    Its ``name`` ("Automation <rule name>") starts the system lines of its changes; ``id`` is
    None as no host user made the change.
    """

    rule_id: int
    name: str
    id: None = None


def actor_for(rule) -> AutomationActor:
    """The actor a rule's changes are recorded under."""
    return AutomationActor(rule_id=rule.id, name=f"Automation {rule.name}")


class Skipped(Exception):
    """An action that had nothing to do, or must not act now; the text says why."""


# --- Value choices and descriptions -----------------------------------------------------------


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


def _label(choices, key: str, value) -> str:
    return dict(choices.get(key, ())).get(str(value), str(value))


def describe_condition(condition: dict, choices: dict) -> str:
    """A condition in words: "Sentiment is Negative"."""
    spec = CONDITION_FIELDS.get(condition.get("field"))
    if spec is None:
        return f"unknown condition {condition.get('field')!r}"
    value = condition.get("value")
    values = value if isinstance(value, list) else [value]
    shown = ", ".join(
        _label(choices, spec.key, v) if spec.kind == "choice" else f"“{v}”" for v in values
    )
    return f"{spec.label} {OPERATOR_LABELS.get(condition.get('operator'), '?')} {shown}"


def describe_action(action: dict, choices: dict) -> str:
    """An action in words, as the rule list shows it: "Set priority: High"."""
    spec = ACTION_TYPES.get(action.get("type"))
    if spec is None:
        return f"unknown action {action.get('type')!r}"
    value = action.get("value") or ""
    if spec.kind == "choice":
        return f"{spec.label}: {_label(choices, spec.key, value)}"
    if spec.kind == "text":
        return f"{spec.label}: {value}"
    return spec.label


# --- What a rule sees of a ticket ---------------------------------------------------------


class Facts:
    """What conditions and templates see of a ticket; read lazily, each thing once.

    The ticket's own fields (status, priority, tags) are read live, so a rule sees what the
    rules before it changed. With ``fetch_orders``, a customer whose orders were never fetched
    from Base gets them fetched first (the runner does; a dry run only reads the cache).
    """

    def __init__(self, ticket, message=None, now=None, fetch_orders=False):
        self.ticket = ticket
        self.message = message
        self.now = now or utcnow()
        self.fetch_orders = fetch_orders

    @cached_property
    def customer_message(self):
        """The triggering message when the customer wrote it, else their latest one."""
        if self.message is not None and self.message.author_kind == "customer":
            return self.message
        state = plugin_state()
        return state.db.session.scalars(
            sa.select(Message)
            .where(Message.ticket_id == self.ticket.id, Message.author_kind == "customer")
            .order_by(Message.seq.desc())
            .limit(1)
        ).first()

    @cached_property
    def orders(self) -> list:
        """The customer's cached Base orders, newest first; none for an unverified e-mail.

        Anyone can type any address into the widget, so a rule never reads, tells or changes
        the orders of an address nobody proved (signed ``setCustomer``, the host's login).
        """
        state = plugin_state()
        email = orders.normalize_email(self.ticket.customer_email)
        if not email or not self.ticket.customer_email_verified:
            return []
        if self.fetch_orders and state.db.session.get(OrderSync, email) is None:
            try:
                orders.sync_customer_orders(email)
            except orders.OrdersError:  # not connected, or Base down: what is cached counts
                state.db.session.rollback()
        placed = sa.func.coalesce(Order.date_confirmed, Order.date_add)
        return list(
            state.db.session.scalars(
                sa.select(Order)
                .where(Order.email == email)
                .order_by(placed.desc().nulls_last(), Order.base_order_id.desc())
            )
        )

    @cached_property
    def target_order(self):
        """The order an order action acts on: one the customer mentions, else the latest."""
        text = f"{self.ticket.subject}\n{getattr(self.customer_message, 'body', '')}"
        mentioned = set(_ORDER_NUMBER.findall(text))
        for order in self.orders:
            if str(order.base_order_id) in mentioned or (
                order.shop_order_id and order.shop_order_id in mentioned
            ):
                return order
        return self.orders[0] if self.orders else None

    def status_name(self, status_id) -> str:
        """The name the customer reads for an order status ("" when unknown)."""
        state = plugin_state()
        status = state.db.session.get(OrderStatus, status_id) if status_id else None
        if status is None:
            return ""
        return status.name_for_customer or status.name

    @cached_property
    def open_now(self) -> bool | None:
        """Whether the ticket's chat is within its opening hours (None: chat deleted)."""
        chat = self.ticket.chat
        return None if chat is None else opening_state(chat, self.now)[0]

    @cached_property
    def language(self) -> str | None:
        """The ticket's language, else the one the classifier reads in the customer's text."""
        if self.ticket.language:
            return self.ticket.language
        message = self.customer_message
        if message is None:
            return None
        try:
            return plugin_state().classifier.classify(message.body, self.ticket.subject).language
        except Exception:  # a host's classifier must never stop automations
            log.exception("classifier failed on ticket %s", self.ticket.id)
            return None

    def value(self, key: str):
        """The ticket's value for condition field ``key``: text, a set (tags) or None."""
        ticket, message = self.ticket, self.customer_message
        email = (ticket.customer_email or "").strip().lower()
        match key:
            case "chat":
                return str(ticket.chat_id) if ticket.chat_id else None
            case "channel" | "subject" | "priority" | "status":
                return getattr(ticket, key)
            case "sentiment" | "context":  # the message's own, else the ticket's latest
                return (message and getattr(message, key)) or getattr(ticket, key)
            case "message":
                return message.body if message is not None else None
            case "customer_email":
                return email
            case "email_domain":
                return email.rpartition("@")[2] or None
            case "email_verified":
                return "yes" if ticket.customer_email_verified else "no"
            case "has_order":
                return "yes" if self.orders else "no"
            case "order_status":
                latest = self.orders[0] if self.orders else None
                return str(latest.status_id) if latest and latest.status_id else None
            case "open_hours":
                return None if self.open_now is None else "yes" if self.open_now else "no"
            case "tag":
                return frozenset(tag.name for tag in ticket.tags)
            case "language":
                return self.language
        raise KeyError(key)

    def template_variables(self) -> dict:
        """The variables of auto-responder and note templates."""
        ticket, order = self.ticket, self.target_order
        agent = agents_by_id().get(ticket.assignee_id or "")
        return {
            "customer_name": ticket.customer_name,
            "customer_email": ticket.customer_email,
            "ticket_id": ticket.id,
            "order_number": (order.shop_order_id or str(order.base_order_id)) if order else "",
            "order_status": self.status_name(order.status_id) if order else "",
            "agent_name": agent.name if agent else "",
            "chat_name": ticket.chat_name,
        }


def _text(value) -> str:
    return normalize(str(value)).strip()


def _compare(operator: str, fact, value) -> bool:
    """Apply ``operator`` to a ticket's ``fact`` (text, set or None) and a condition's value."""
    if operator in _NEGATED:
        return not _compare(_NEGATED[operator], fact, value)
    if fact is None:
        return False
    if operator == "in":
        values = set(value)
        return bool(fact & values) if isinstance(fact, frozenset) else fact in values
    if operator == "contains":
        items = fact if isinstance(fact, frozenset) else (fact,)
        return any(value in item for item in items)
    return value in fact if isinstance(fact, frozenset) else fact == value


def condition_met(condition: dict, facts: Facts) -> bool:
    """Whether one condition holds for the ticket (text compared without case or accents)."""
    spec = CONDITION_FIELDS.get(condition.get("field"))
    operator = condition.get("operator")
    if spec is None or operator not in spec.operators:
        return False
    fact, value = facts.value(spec.key), condition.get("value")
    if spec.kind == "text":
        if isinstance(fact, frozenset):
            fact = frozenset(_text(item) for item in fact)
        elif fact is not None:
            fact = _text(fact)
        value = [_text(v) for v in value] if isinstance(value, list) else _text(value)
        if spec.key == "email_domain":
            value = [v.lstrip("@") for v in value] if isinstance(value, list) else value.lstrip("@")
    return _compare(operator, fact, value)


def rule_matches(rule, facts: Facts) -> bool:
    """Whether the rule's conditions hold (all or any); a rule without conditions always does."""
    conditions = rule.conditions or []
    if not conditions:
        return True
    results = (condition_met(condition, facts) for condition in conditions)
    return all(results) if rule.match == "all" else any(results)


# --- Actions ---------------------------------------------------------------------------------


@dataclass
class _Context:
    """One rule acting on one ticket."""

    rule: object
    actor: AutomationActor
    facts: Facts
    #: Idempotency key of the action being performed (``automation:<run id>:<index>``): the
    #: messages it adds carry it, so a retry that finishes a run never sends them twice.
    step: str = ""

    @property
    def ticket(self):
        return self.facts.ticket


def _changed(done: bool, text: str, unchanged: str) -> str:
    if not done:
        raise Skipped(unchanged)
    return text


def _autoreply_refusal(ticket) -> str | None:
    """Why no auto-response may be sent now (None: it may)."""
    state = plugin_state()
    limit = state.setting("AUTORESPONDER_LIMIT")
    sent = state.db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(
            Message.ticket_id == ticket.id,
            Message.author_kind == "automation",
            Message.internal.is_(False),
            Message.created_at >= utcnow() - timedelta(hours=1),
        )
    )
    if sent >= limit:
        return f"limit of {limit} auto-responses an hour reached"
    return None


def _auto_reply(ctx: _Context, template: str) -> str:
    state = plugin_state()
    session = state.db.session
    ticket = ctx.ticket
    # The text first: its order facts may wait on Base, which must never happen while the
    # ticket is locked (the customer's next message would wait too).
    body = render_text(template, ctx.facts.template_variables())
    # Lock the ticket (PostgreSQL) so two jobs never both pass the hourly limit.
    session.execute(sa.select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
    if messages.find_by_client_id(ticket.id, "automation", None, ctx.step) is not None:
        session.rollback()
        raise Skipped("the auto-response was sent by an earlier try")
    refusal = _autoreply_refusal(ticket)
    if refusal:
        session.rollback()
        raise Skipped(f"auto-response not sent: {refusal}")
    if ticket.disable_next_autoresponder:
        ticket.disable_next_autoresponder = False
        line = messages.add_system_line(
            ticket,
            f"{ctx.actor.name} did not send its auto-response: the next auto-responder was "
            "disabled for this ticket",
        )
        session.commit()
        messages.publish_messages([line])
        raise Skipped("auto-response not sent: the next auto-responder was disabled")
    if not body:
        session.rollback()
        raise Skipped("auto-response not sent: the template gave an empty text")
    message = messages.add_message(
        ticket, author_kind="automation", body=body, author_name=ticket.chat_name,
        client_msg_id=ctx.step or None,
    )
    events.message_created(ticket.id, message.id, "automation")
    session.commit()
    messages.publish_messages([message])
    signals.send(
        signals.message_created,
        ticket_id=ticket.id,
        message_id=message.id,
        author_kind="automation",
    )
    return "sent the auto-response"


def _change_order_status(ctx: _Context, status_id: str) -> str:
    if not ctx.ticket.customer_email_verified:
        raise Skipped("the customer's e-mail is not verified, so their orders are not changed")
    order = ctx.facts.target_order
    if order is None:
        raise Skipped("no Base order of this customer to change")
    line = orders.change_order_status(ctx.ticket, order, int(status_id), None, ctx.actor.name)
    name = ctx.facts.status_name(int(status_id)) or f"status {status_id}"
    return _changed(
        line is not None,
        f"changed Base order {order.base_order_id} to “{name}”",
        f"Base order {order.base_order_id} already had status “{name}”",
    )


def _internal_note(ctx: _Context, template: str) -> str:
    if messages.find_by_client_id(ctx.ticket.id, "automation", None, ctx.step) is not None:
        raise Skipped("the note was added by an earlier try")
    body = render_text(template, ctx.facts.template_variables())
    if not body:
        raise Skipped("the note's template gave an empty text")
    note = messages.add_message(
        ctx.ticket, author_kind="automation", body=body, author_name=ctx.rule.name, internal=True,
        client_msg_id=ctx.step or None,
    )
    plugin_state().db.session.commit()
    messages.publish_messages([note])
    return "added an internal note"


def _notify_watchers(ctx: _Context, template: str) -> str:
    ticket = ctx.ticket
    user_ids = ticket.watcher_ids
    if not user_ids:
        raise Skipped("the ticket has no watchers to notify")
    agents = agents_by_id()
    names = ", ".join(agents[i].name if i in agents else i for i in user_ids)
    text = render_text(template, ctx.facts.template_variables())
    line = messages.add_system_line(
        ticket, f"{ctx.actor.name} notified the watchers ({names}): {text}"
    )
    plugin_state().db.session.commit()
    messages.publish_messages([line])
    signals.send(signals.watchers_notified, ticket_id=ticket.id, user_ids=user_ids, text=text)
    return f"notified the watchers ({names})"


def _set_priority(ctx, value):
    done = ticket_changes.set_priority(ctx.ticket, value, ctx.actor)
    return _changed(done, f"set priority to {value}", f"priority was already {value}")


def _set_status(ctx, value):
    done = ticket_changes.set_status(ctx.ticket, value, ctx.actor)
    return _changed(done, f"set status to {value}", f"status was already {value}")


def _add_tag(ctx, value):
    done = ticket_changes.add_tag(ctx.ticket, value, ctx.actor)
    return _changed(done, f"added tag {value}", f"the ticket already had tag {value}")


def _remove_tag(ctx, value):
    done = ticket_changes.remove_tag(ctx.ticket, value, ctx.actor)
    return _changed(done, f"removed tag {value}", f"the ticket had no tag {value}")


def _assign_agent(ctx, value):
    agent = agents_by_id().get(str(value))
    name = agent.name if agent else value
    done = ticket_changes.assign(ctx.ticket, value, ctx.actor)
    return _changed(done, f"assigned the ticket to {name}", f"the ticket was already {name}'s")


def _assign_team(ctx, value):
    state = plugin_state()
    team = state.db.session.get(Team, int(value))
    if team is None:
        raise ChangeRefused("team", "The team no longer exists.")
    done = ticket_changes.set_team(ctx.ticket, team.id, ctx.actor)
    return _changed(done, f"set team to {team.name}", f"the team was already {team.name}")


_PERFORM = {
    "auto_reply": _auto_reply,
    "change_order_status": _change_order_status,
    "set_priority": _set_priority,
    "add_tag": _add_tag,
    "remove_tag": _remove_tag,
    "assign_agent": _assign_agent,
    "assign_team": _assign_team,
    "set_status": _set_status,
    "internal_note": _internal_note,
    "notify_watchers": _notify_watchers,
}


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, orders.OrdersError | ChangeRefused):
        return str(exc)
    if isinstance(exc, BaseClientError):
        return orders.describe_error(exc)
    if isinstance(exc, TemplateError):
        return f"the template failed: {exc}"
    return f"unexpected error ({type(exc).__name__}; see the logs)"


def _perform(ctx: _Context, action: dict) -> dict:
    """Run one action; returns its outcome. A failure is rolled back and recorded on the ticket."""
    kind = action.get("type")
    session = plugin_state().db.session
    try:
        if kind not in _PERFORM:
            raise ChangeRefused("type", f"unknown action {kind!r}")
        text = _PERFORM[kind](ctx, action.get("value") or "")
        return {"action": kind, "result": "done", "text": text}
    except Skipped as skipped:
        return {"action": kind, "result": "skipped", "text": str(skipped)}
    except Exception as exc:  # one failing action never stops the others
        session.rollback()
        if not isinstance(exc, orders.OrdersError | ChangeRefused | BaseClientError):
            log.exception("automation %s: action %s failed", ctx.rule.id, kind)
        text = _failure_text(exc)
        spec = ACTION_TYPES.get(kind)
        what = spec.failure if spec else f"run action {kind!r}"
        _record_failure(ctx, f"{ctx.actor.name} could not {what}: {text}")
        return {"action": kind, "result": "failed", "text": f"could not {what}: {text}"}


def _record_failure(ctx: _Context, text: str) -> None:
    session = plugin_state().db.session
    try:
        line = messages.add_system_line(ctx.ticket, text)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not record a failed automation on ticket %s", ctx.ticket.id)
        return
    messages.publish_messages([line])


# --- The runner ----------------------------------------------------------------------------


def _rules(triggers, rule_id=None) -> list:
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


def _has_message(ticket_id: int, *conditions) -> bool:
    """Whether the ticket has a message that meets every condition."""
    state = plugin_state()
    query = sa.select(sa.exists().where(Message.ticket_id == ticket_id, *conditions))
    return bool(state.db.session.scalar(query))


def _agent_replied_after(ticket, message) -> bool:
    return _has_message(
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
    for rule in _rules(RULES_FOR_EVENT[trigger], rule_id):
        if not rule_matches(rule, facts):
            continue
        run = _claim(rule, ticket, message)
        if run is None:
            continue
        ctx = _Context(rule=rule, actor=actor_for(rule), facts=facts)
        outcome = []
        for index, action in enumerate(rule.actions or []):
            ctx.step = f"automation:{run.id}:{index}"
            outcome.append(_perform(ctx, action))
        run.outcome = outcome
        session.commit()
        run_ids.append(run.id)
    return run_ids


# --- Events: what runs the runner (in the event jobs, never on the message path) -----------


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
    rules = _rules(MESSAGE_TRIGGERS)
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
    return _has_message(ticket_id, Message.author_kind == "customer", Message.id < message_id)


def on_status_changed(ticket_id: int, new: str, message_id: int | None) -> None:
    """A status change (by someone else than an automation) runs the status rules."""
    if _has_rules(RULES_FOR_EVENT["status_changed"]):
        run_automations("status_changed", ticket_id, message_id, None, new)


# --- Dry run --------------------------------------------------------------------------------


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
            refusal = _autoreply_refusal(ticket)
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
        target = _label(choices, kind, value)
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


# --- Rules: the admin pages' services -----------------------------------------------------


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

