"""What a rule sees of a ticket (:class:`Facts`) and whether its conditions hold.

Conditions are ``{"field", "operator", "value"}`` (``value`` a list for ``in``);
:data:`~responso_chat.automations.catalogue.CONDITION_FIELDS` describes them. Text is compared
without case or accents.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation
from functools import cached_property

import sqlalchemy as sa

from responso_chat.automations.catalogue import CONDITION_FIELDS
from responso_chat.conversation.classify import normalize
from responso_chat.conversation.visibility import opening_state, path_matches
from responso_chat.models import (
    Message,
    Order,
    OrderStatus,
    OrderSync,
    TicketContext,
    TicketOrder,
    utcnow,
)
from responso_chat.orders import sync as orders
from responso_chat.state import plugin_state
from responso_chat.users import agents_by_id

log = logging.getLogger(__name__)

_NEGATED = {"is_not": "is", "not_contains": "contains", "not_matches": "matches"}

_ORDER_NUMBER = re.compile(r"\d{2,20}")


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
    def request(self):
        """What the customer asked for in the triggering message from the widget's "My
        orders" (a :class:`TicketOrder` with ``request``), or None; never for an unverified
        e-mail."""
        message = self.customer_message
        if message is None or not self.ticket.customer_email_verified:
            return None
        return plugin_state().db.session.scalars(
            sa.select(TicketOrder).where(
                TicketOrder.ticket_id == self.ticket.id,
                TicketOrder.message_id == message.id,
                TicketOrder.request.is_not(None),
            )
        ).first()

    @cached_property
    def requested_order(self):
        """The customer's own order their request is about, or None."""
        if self.request is None:
            return None
        return next(
            (o for o in self.orders if o.base_order_id == self.request.base_order_id), None
        )

    @cached_property
    def target_order(self):
        """The order an order action acts on: the one the customer's request is about, else
        one the customer mentions, else the latest."""
        if self.requested_order is not None:
            return self.requested_order
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

    @cached_property
    def shop_context(self):
        """The ticket's cart and visit (conversation.shop_context), or None."""
        return plugin_state().db.session.get(TicketContext, self.ticket.id)

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
            case "customer_request":
                return self.request.request if self.request is not None else None
            case "requested_order_status":
                order = self.requested_order
                return str(order.status_id) if order is not None and order.status_id else None
            case "open_hours":
                return None if self.open_now is None else "yes" if self.open_now else "no"
            case "tag":
                return frozenset(tag.name for tag in ticket.tags)
            case "language":
                return self.language
            case "cart_value":  # None when no cart is known: no amount compares
                cart = self.shop_context.cart if self.shop_context else None
                return _amount(cart["total"]) if cart else None
            case "visited_path":
                trail = self.shop_context.trail if self.shop_context else []
                return frozenset(page["path"] for page in trail)
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


def _amount(value) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _text(value) -> str:
    return normalize(str(value)).strip()


def _compare(operator: str, fact, value) -> bool:
    """Apply ``operator`` to a ticket's ``fact`` (text, set or None) and a condition's value."""
    if operator in _NEGATED:
        return not _compare(_NEGATED[operator], fact, value)
    if fact is None:
        return False
    if operator == "greater_than":
        return _amount(value) is not None and fact > _amount(value)
    if operator == "less_than":
        return _amount(value) is not None and fact < _amount(value)
    if operator == "matches":
        return any(path_matches(value, path) for path in fact)
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
