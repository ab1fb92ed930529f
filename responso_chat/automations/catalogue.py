"""The automation catalogue: the condition fields and operators a rule may test, the actions
it may take and the variables its templates may use. A leaf module (it imports nothing of the
plugin's but the vocabulary), read by the rule form's schema, the runner and the pages."""

from __future__ import annotations

from dataclasses import dataclass

OPERATOR_LABELS = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "in": "is one of",
    "greater_than": "is greater than",
    "less_than": "is less than",
    "matches": "include a page matching",
    "not_matches": "include no page matching",
}
TEMPLATE_VARIABLES = (
    "customer_name",
    "customer_email",
    "ticket_id",
    "order_number",
    "order_status",
    "agent_name",
    "chat_name",
)
@dataclass(frozen=True)
class ConditionField:
    """A field a condition tests: its operators, and whether its value is chosen or typed."""

    key: str
    label: str
    operators: tuple[str, ...]
    kind: str  # "choice" (value from a list), "text" (typed; compared without case/accents),
    # "number" (an amount) or "path" (a path pattern of the chat's path list: prefix and *)


_CHOICE_OPS = ("is", "is_not", "in")
CONDITION_FIELDS = {
    f.key: f
    for f in (
        ConditionField("chat", "Integration (chat)", _CHOICE_OPS, "choice"),
        ConditionField("channel", "Channel", ("is", "is_not"), "choice"),
        ConditionField("sentiment", "Sentiment", _CHOICE_OPS, "choice"),
        ConditionField("context", "Context", _CHOICE_OPS, "choice"),
        ConditionField("subject", "Subject", ("contains", "not_contains", "is", "is_not"), "text"),
        ConditionField("message", "Message", ("contains", "not_contains"), "text"),
        ConditionField(
            "customer_email",
            "Customer e-mail",
            ("is", "is_not", "contains", "not_contains", "in"),
            "text",
        ),
        ConditionField("email_domain", "Customer e-mail domain", ("is", "is_not", "in"), "text"),
        ConditionField("email_verified", "Customer e-mail verified", ("is",), "choice"),
        ConditionField("has_order", "Customer has a Base order", ("is",), "choice"),
        ConditionField("order_status", "Latest Base order status", _CHOICE_OPS, "choice"),
        ConditionField(
            "customer_request", "Customer requested (widget's My orders)", _CHOICE_OPS, "choice"
        ),
        ConditionField(
            "requested_order_status", "Status of the order the customer asked about",
            _CHOICE_OPS, "choice",
        ),
        ConditionField("open_hours", "Within opening hours", ("is",), "choice"),
        ConditionField("tag", "Tag", ("is", "is_not", "contains", "not_contains"), "text"),
        ConditionField("priority", "Priority", _CHOICE_OPS, "choice"),
        ConditionField("status", "Status", _CHOICE_OPS, "choice"),
        ConditionField("language", "Language", _CHOICE_OPS, "choice"),
        # the shop's context (conversation.shop_context): the cart's total, the visit's pages
        ConditionField("cart_value", "Cart value", ("greater_than", "less_than"), "number"),
        ConditionField("visited_path", "Pages visited", ("matches", "not_matches"), "path"),
    )
}


@dataclass(frozen=True)
class ActionType:
    """An action a rule can take; ``kind`` says what its value is."""

    key: str
    label: str
    kind: str  # "template" (text with variables), "choice", "text"
    failure: str  # "could not <failure>", recorded on the ticket when it fails


ACTION_TYPES = {
    a.key: a
    for a in (
        ActionType("auto_reply", "Send auto-responder", "template", "send the auto-response"),
        ActionType(
            "change_order_status",
            "Change order status in Base",
            "choice",
            "change the order status in Base",
        ),
        ActionType("set_priority", "Set priority", "choice", "set the priority"),
        ActionType("add_tag", "Add tag", "text", "add the tag"),
        ActionType("remove_tag", "Remove tag", "text", "remove the tag"),
        ActionType("assign_agent", "Assign to agent", "choice", "assign the ticket"),
        ActionType("assign_team", "Assign to team", "choice", "set the team"),
        ActionType("set_status", "Set status", "choice", "set the status"),
        ActionType("internal_note", "Add internal note", "template", "add the internal note"),
        ActionType("notify_watchers", "Notify watchers", "template", "notify the watchers"),
    )
}
