"""The admin's automation rule form (conditions and actions checked against the catalogue)
and the dry run's ticket."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from responso_chat.automations.catalogue import ACTION_TYPES, CONDITION_FIELDS, OPERATOR_LABELS
from responso_chat.automations.templating import template_problems
from responso_chat.schemas.chat_form import ChatText, chat_path
from responso_chat.schemas.common import MAX_ID, Id, tag_name
from responso_chat.state import plugin_state
from responso_chat.vocab import AUTOMATION_MATCH, AUTOMATION_TRIGGERS

AUTOMATION_MAX_ROWS = 30
AUTOMATION_MAX_MINUTES = 7 * 24 * 60


class _AutomationRow(Schema):
    """One row of the rule form (a condition or an action); checked by the rule's schema."""

    class Meta:
        unknown = EXCLUDE


class AutomationConditionSchema(_AutomationRow):
    """A condition: field, operator and value (a list for "is one of")."""

    field = fields.String(required=True, error_messages={"required": "Choose a field."})
    operator = fields.String(required=True, error_messages={"required": "Choose an operator."})
    value = fields.Raw(load_default="")


class AutomationActionSchema(_AutomationRow):
    """An action: its type and value (a template, a choice or a tag)."""

    type = fields.String(required=True, error_messages={"required": "Choose an action."})
    value = fields.String(load_default="")


def _is_amount(text: str) -> bool:
    """Whether ``text`` is an amount a cart value is compared with (0 or more, finite)."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return False
    return amount.is_finite() and 0 <= amount <= 10**10


def _condition_values(value) -> list[str]:
    """A condition's value(s) as a list of trimmed, distinct, non-blank strings."""
    values = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


class AutomationRuleSchema(Schema):
    """An automation rule as the admin's form sends it.

    ``choices``: the ``(value, label)`` lists of the choice fields and actions
    (``automations.value_choices()``); a chosen value must be one of them.
    """

    class Meta:
        unknown = EXCLUDE

    def __init__(self, *, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = {key: {str(v) for v, _label in pairs} for key, pairs in choices.items()}

    name = ChatText(
        required=True,
        validate=validate.Length(min=1, max=100, error="Enter a name of 1 to 100 characters."),
        error_messages={"required": "Enter a name."},
    )
    enabled = fields.Boolean(load_default=True)
    trigger = fields.String(
        required=True,
        validate=validate.OneOf(AUTOMATION_TRIGGERS, error="Choose when the rule runs."),
        error_messages={"required": "Choose when the rule runs."},
    )
    trigger_minutes = fields.Integer(
        load_default=None,
        validate=validate.Range(
            min=1,
            max=AUTOMATION_MAX_MINUTES,
            error=f"Enter a number of minutes from 1 to {AUTOMATION_MAX_MINUTES}.",
        ),
        error_messages={"invalid": "Enter a whole number of minutes."},
    )
    match = fields.String(
        load_default="all",
        validate=validate.OneOf(AUTOMATION_MATCH, error="Choose all or any."),
    )
    conditions = fields.List(
        fields.Nested(AutomationConditionSchema),
        load_default=list,
        validate=validate.Length(
            max=AUTOMATION_MAX_ROWS, error=f"At most {AUTOMATION_MAX_ROWS} conditions."
        ),
    )
    actions = fields.List(
        fields.Nested(AutomationActionSchema),
        load_default=list,
        validate=validate.Length(
            min=1, max=AUTOMATION_MAX_ROWS, error="Add at least one action (at most 30)."
        ),
    )

    @validates_schema(skip_on_field_errors=False)
    def _rows_make_sense(self, data, **_kwargs):
        errors = {}
        if data.get("trigger") == "no_agent_reply" and not data.get("trigger_minutes"):
            errors["trigger_minutes"] = ["Enter after how many minutes without a reply."]
        rows = {}
        for index, condition in enumerate(data.get("conditions") or []):
            problems = self._condition_problems(condition)
            if problems:
                rows[index] = problems
        if rows:
            errors["conditions"] = rows
        rows = {}
        for index, action in enumerate(data.get("actions") or []):
            problems = self._action_problems(action)
            if problems:
                rows[index] = problems
        if rows:
            errors["actions"] = rows
        if errors:
            raise ValidationError(errors)

    def _condition_problems(self, condition) -> dict:
        # .get(): a row whose own fields were refused (not strings) comes without them
        spec = CONDITION_FIELDS.get(condition.get("field"))
        if spec is None:
            return {"field": ["Choose a field from the list."]}
        if condition.get("operator") not in spec.operators:
            allowed = ", ".join(OPERATOR_LABELS[op] for op in spec.operators)
            return {"operator": [f"{spec.label} can be tested with: {allowed}."]}
        values = _condition_values(condition.get("value"))
        if not values:
            return {"value": ["Choose a value." if spec.kind == "choice" else "Enter a value."]}
        if any(len(v) > 200 for v in values):
            return {"value": ["Use at most 200 characters."]}
        if spec.kind == "choice" and any(v not in self.choices.get(spec.key, ()) for v in values):
            return {"value": ["Choose a value from the list."]}
        if spec.kind == "number" and not _is_amount(values[0]):
            return {"value": ["Enter an amount of 0 or more, e.g. 100 or 99.50."]}
        if spec.kind == "path":
            try:
                chat_path(values[0])
            except ValueError as exc:
                return {"value": [f"Enter a path: {exc}"]}
        return {}

    def _action_problems(self, action) -> dict:
        spec = ACTION_TYPES.get(action.get("type"))
        if spec is None:
            return {"type": ["Choose an action from the list."]}
        value = action.get("value", "").strip()
        if spec.kind == "choice":
            if value not in self.choices.get(spec.key, ()):
                return {"value": ["Choose a value from the list."]}
        elif spec.kind == "text":
            try:
                tag_name(value)
            except ValueError as exc:
                return {"value": [str(exc)]}
        else:
            if not value:
                return {"value": ["Write the text."]}
            if len(value) > plugin_state().setting("MAX_MESSAGE_LENGTH"):
                return {"value": ["The text is too long."]}
            problems = template_problems(value)
            if problems:
                return {"value": problems}
        return {}

    @post_load
    def _normalize(self, data, **_kwargs):
        if data["trigger"] != "no_agent_reply":
            data["trigger_minutes"] = None
        for condition in data["conditions"]:
            values = _condition_values(condition["value"])
            condition["value"] = values if condition["operator"] == "in" else values[0]
        for action in data["actions"]:
            action["value"] = action["value"].strip()
        return data


def automation_form_input(form) -> dict:
    """The rule form (a MultiDict) as :class:`AutomationRuleSchema` input, also what the form
    shows again after an error: rows ``conditions-<n>-field|operator|value`` and
    ``actions-<n>-type|value``, in order; rows left blank are dropped. An "is one of" value is
    the list of chosen options, or a comma-separated text.
    """

    def indexes(prefix: str) -> list[int]:
        pattern = re.compile(rf"^{prefix}-(\d+)-")
        found = {int(m.group(1)) for key in form for m in [pattern.match(key)] if m}
        return sorted(found)[: AUTOMATION_MAX_ROWS + 1]

    conditions = []
    for n in indexes("conditions"):
        name = f"conditions-{n}-"
        field, operator = form.get(name + "field", ""), form.get(name + "operator", "")
        raw = [v for v in form.getlist(name + "value") if v.strip()]
        spec = CONDITION_FIELDS.get(field)
        if operator == "in":
            if spec is not None and spec.kind == "text":
                raw = [part for v in raw for part in v.split(",") if part.strip()]
            value = raw
        else:
            value = raw[0] if raw else ""
        if field or value:
            conditions.append({"field": field, "operator": operator, "value": value})
    actions = []
    for n in indexes("actions"):
        name = f"actions-{n}-"
        kind, value = form.get(name + "type", ""), form.get(name + "value", "")
        if kind or value.strip():
            actions.append({"type": kind, "value": value})
    return {
        "name": form.get("name", ""),
        "enabled": "enabled" in form,
        "trigger": form.get("trigger", ""),
        "trigger_minutes": form.get("trigger_minutes", "").strip() or None,
        "match": form.get("match", "all"),
        "conditions": conditions,
        "actions": actions,
    }


def automation_form_values(rule) -> dict:
    """A saved rule shaped like :func:`automation_form_input`, to fill the rule form."""
    return {
        "name": rule.name,
        "enabled": bool(rule.enabled),
        "trigger": rule.trigger,
        "trigger_minutes": rule.trigger_minutes,
        "match": rule.match,
        "conditions": [dict(c) for c in rule.conditions or []],
        "actions": [dict(a) for a in rule.actions or []],
    }


class DryRunSchema(Schema):
    """The ticket a rule is tried on."""

    class Meta:
        unknown = EXCLUDE

    ticket_id = Id(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID, error="Enter a ticket number."),
        error_messages={"required": "Enter a ticket number.", "invalid": "Enter a ticket number."},
    )


def blank_rule_values() -> dict:
    """The rule editor's values for a new rule: one blank condition and one blank action."""
    return {
        "name": "",
        "enabled": True,
        "trigger": "new_ticket",
        "trigger_minutes": None,
        "match": "all",
        "conditions": [{"field": "chat", "operator": "is", "value": ""}],
        "actions": [{"type": "auto_reply", "value": ""}],
    }


#: The rule editor's rows: their name prefix and a blank row (its "Add …" buttons).
FORM_ROWS = {
    "condition": ("conditions", {"field": "", "operator": "", "value": ""}),
    "action": ("actions", {"type": "", "value": ""}),
}
