"""What a rule does to a ticket: its actions, each recorded as done, skipped or failed.

Actions are ``{"type", "value"}``; :data:`~responso_chat.automations.catalogue.ACTION_TYPES`
describes them. An action that fails (Base down, an agent removed) is rolled back and recorded
on the ticket and in the run's outcome; the other actions still run. The number of
auto-responses per ticket and hour is capped (``RESPONSO_CHAT_AUTORESPONDER_LIMIT``), and the
ticket's "disable next auto-responder" flag skips exactly one auto-response.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from jinja2 import TemplateError

from responso_chat import signals
from responso_chat.automations.catalogue import ACTION_TYPES
from responso_chat.automations.facts import Facts
from responso_chat.automations.templating import render_text
from responso_chat.conversation import events, messages, ticket_changes
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.models import Message, Team, Ticket, utcnow
from responso_chat.orders import sync as orders
from responso_chat.orders.base_client import BaseClientError
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id

log = logging.getLogger(__name__)


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


@dataclass
class ActionContext:
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


def autoreply_refusal(ticket) -> str | None:
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


def _auto_reply(ctx: ActionContext, template: str) -> str:
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
    refusal = autoreply_refusal(ticket)
    if refusal:
        session.rollback()
        raise Skipped(f"auto-response not sent: {refusal}")
    if ticket.disable_next_autoresponder:
        ticket.disable_next_autoresponder = False
        messages.post_system_line(
            ticket,
            f"{ctx.actor.name} did not send its auto-response: the next auto-responder was "
            "disabled for this ticket",
        )
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


def _change_order_status(ctx: ActionContext, status_id: str) -> str:
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


def _internal_note(ctx: ActionContext, template: str) -> str:
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


def _notify_watchers(ctx: ActionContext, template: str) -> str:
    ticket = ctx.ticket
    user_ids = ticket.watcher_ids
    if not user_ids:
        raise Skipped("the ticket has no watchers to notify")
    agents = agents_by_id()
    names = ", ".join(agents[i].name if i in agents else i for i in user_ids)
    text = render_text(template, ctx.facts.template_variables())
    messages.post_system_line(
        ticket, f"{ctx.actor.name} notified the watchers ({names}): {text}"
    )
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


def perform(ctx: ActionContext, action: dict) -> dict:
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


def _record_failure(ctx: ActionContext, text: str) -> None:
    session = plugin_state().db.session
    try:
        line = messages.add_system_line(ctx.ticket, text)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not record a failed automation on ticket %s", ctx.ticket.id)
        return
    messages.publish_messages([line])
