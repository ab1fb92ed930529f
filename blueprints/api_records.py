"""The JSON API's tags, contacts, tasks and automation rules (admins). Their routes join the
API blueprint (:data:`.api.bp`): the same token check, errors and OpenAPI document."""

from __future__ import annotations

from marshmallow import ValidationError

from responso_chat.automations import rules
from responso_chat.inbox import contacts, tasks
from responso_chat.inbox import queries as inbox
from responso_chat.integrations.api import (
    change_task,
    create_tag,
    get_tag,
    list_contacts,
    list_rules,
    list_tags,
    list_tasks,
    rename_tag,
)
from responso_chat.openapi import operation
from responso_chat.schemas.api import (
    ApiRuleQuerySchema,
    ApiSearchQuerySchema,
    ApiTagInputSchema,
    ApiTaskChangesSchema,
    ApiTaskInputSchema,
    ApiTaskQuerySchema,
)
from responso_chat.schemas.api_output import (
    ApiAutomationRuleSchema,
    ApiContactSchema,
    ApiTagSchema,
    ApiTaskSchema,
    api_page_schema,
)
from responso_chat.schemas.automation_rules import AutomationRuleSchema, automation_form_values
from responso_chat.schemas.inbox import ContactSchema
from responso_chat.users import as_agent

from .api import (
    _admins_only,
    _body,
    _fail,
    _found,
    _id,
    _json_body,
    _one,
    _page,
    _patch,
    _query,
    _user,
    bp,
)

# --- tags ------------------------------------------------------------------------------------


@bp.get("/tags")
@operation(
    "List tags",
    "Tags",
    query=ApiSearchQuerySchema,
    response=api_page_schema(ApiTagSchema),
)
def tag_list():
    """Tags by id; ``q`` searches their names."""
    q = _query(ApiSearchQuerySchema)
    return _page(ApiTagSchema, lambda: list_tags(**q))


@bp.get("/tags/<tag_id>")
@operation("Get a tag", "Tags", response=ApiTagSchema)
def tag_read(tag_id):
    """One tag."""
    return _one(ApiTagSchema, _found(get_tag(_id(tag_id))))


@bp.post("/tags")
@operation(
    "Create a tag", "Tags", body=ApiTagInputSchema, response=ApiTagSchema, status=201
)
def tag_create():
    """Create a tag (stored trimmed and lower case)."""
    values = _body(ApiTagInputSchema())
    tag = create_tag(values["name"])
    return _one(ApiTagSchema, tag, 201)


@bp.patch("/tags/<tag_id>")
@operation(
    "Rename a tag", "Tags", body=ApiTagInputSchema, response=ApiTagSchema, admin=True
)
def tag_update(tag_id):
    """Rename a tag on every ticket that has it."""
    _admins_only()
    tag = _found(get_tag(_id(tag_id)))
    values = _body(ApiTagInputSchema())
    rename_tag(tag, values["name"])
    return _one(ApiTagSchema, tag)


# --- contacts --------------------------------------------------------------------------------


@bp.get("/contacts")
@operation(
    "List contacts",
    "Contacts",
    query=ApiSearchQuerySchema,
    response=api_page_schema(ApiContactSchema),
)
def contact_list():
    """Contacts by id; ``q`` searches names, e-mail addresses and phone numbers."""
    q = _query(ApiSearchQuerySchema)
    return _page(ApiContactSchema, lambda: list_contacts(**q))


@bp.get("/contacts/<contact_id>")
@operation("Get a contact", "Contacts", response=ApiContactSchema)
def contact_read(contact_id):
    """One contact."""
    return _one(ApiContactSchema, _found(contacts.get_contact(_id(contact_id))))


@bp.post("/contacts")
@operation(
    "Create a contact",
    "Contacts",
    body=ContactSchema,
    response=ApiContactSchema,
    status=201,
)
def contact_create():
    """Create a contact; e-mail addresses are unique (stored lower case)."""
    values = _body(ContactSchema())
    contact = contacts.create_contact(**values)
    return _one(ApiContactSchema, contact, 201)


@bp.patch("/contacts/<contact_id>")
@operation(
    "Change a contact",
    "Contacts",
    body=ContactSchema(partial=True),
    response=ApiContactSchema,
)
def contact_update(contact_id):
    """Change the details given; the others stay."""
    contact = _found(contacts.get_contact(_id(contact_id)))
    current = {k: getattr(contact, k) for k in ("name", "email", "phone", "notes")}
    values = _patch(ContactSchema(), current)
    contacts.update_contact(contact, **values)
    return _one(ApiContactSchema, contact)


# --- tasks -----------------------------------------------------------------------------------


def _task(task_id: str):
    return _found(tasks.get_visible_task(_user(), _id(task_id)))


@bp.get("/tasks")
@operation(
    "List tasks",
    "Tasks",
    query=ApiTaskQuerySchema,
    response=api_page_schema(ApiTaskSchema),
)
def task_list():
    """Tasks by id: those without a ticket, and those of tickets the token's user may see."""
    q = _query(ApiTaskQuerySchema)
    return _page(ApiTaskSchema, lambda: list_tasks(_user(), **q))


@bp.get("/tasks/<task_id>")
@operation("Get a task", "Tasks", response=ApiTaskSchema)
def task_read(task_id):
    """One task."""
    return _one(ApiTaskSchema, _task(task_id))


@bp.post("/tasks")
@operation(
    "Create a task", "Tasks", body=ApiTaskInputSchema, response=ApiTaskSchema, status=201
)
def task_create():
    """Create a task, optionally about a ticket (recorded in its conversation)."""
    values = _body(ApiTaskInputSchema())
    ticket_id = values.pop("ticket_id")
    ticket = None
    if ticket_id is not None:
        ticket = inbox.get_visible_ticket(_user(), ticket_id)
        if ticket is None:
            _fail(422, {"ticket_id": ["No such ticket."]})
    task = tasks.create_task(as_agent(_user()), ticket=ticket, **values)
    return _one(ApiTaskSchema, task, 201)


@bp.patch("/tasks/<task_id>")
@operation("Change a task", "Tasks", body=ApiTaskChangesSchema, response=ApiTaskSchema)
def task_update(task_id):
    """Change the fields given, or mark the task done (``done``: true) or not."""
    task = _task(task_id)
    values = _body(ApiTaskChangesSchema())
    change_task(task, values, as_agent(_user()))
    return _one(ApiTaskSchema, task)


# --- automation rules (admins) ---------------------------------------------------------------


#: The rule schema as the document shows it (the values to choose from are checked on load).
_RULE_INPUT = AutomationRuleSchema(choices={})


@bp.get("/automation-rules")
@operation(
    "List automation rules",
    "Automation rules",
    query=ApiRuleQuerySchema,
    response=api_page_schema(ApiAutomationRuleSchema),
    admin=True,
)
def rule_list():
    """Automation rules in the order they run."""
    _admins_only()
    q = _query(ApiRuleQuerySchema)
    return _page(ApiAutomationRuleSchema, lambda: list_rules(**q))


@bp.get("/automation-rules/<rule_id>")
@operation(
    "Get an automation rule", "Automation rules", response=ApiAutomationRuleSchema, admin=True
)
def rule_read(rule_id):
    """One automation rule."""
    _admins_only()
    return _one(ApiAutomationRuleSchema, _found(rules.get_rule(_id(rule_id))))


@bp.post("/automation-rules")
@operation(
    "Create an automation rule",
    "Automation rules",
    body=_RULE_INPUT,
    response=ApiAutomationRuleSchema,
    status=201,
    admin=True,
)
def rule_create():
    """Create a rule, run after the existing ones. Conditions and actions are those of the
    rule editor (``conditions``: field, operator, value; ``actions``: type, value)."""
    _admins_only()
    try:
        rule = rules.create_rule(_json_body())
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(ApiAutomationRuleSchema, rule, 201)


@bp.patch("/automation-rules/<rule_id>")
@operation(
    "Change an automation rule",
    "Automation rules",
    body=AutomationRuleSchema(choices={}, partial=True),
    response=ApiAutomationRuleSchema,
    admin=True,
)
def rule_update(rule_id):
    """Change the fields given; the others stay."""
    _admins_only()
    rule = _found(rules.get_rule(_id(rule_id)))
    values = {**automation_form_values(rule), **_json_body()}
    try:
        rules.update_rule(rule, values)
    except ValidationError as exc:
        _fail(422, exc.messages)
    return _one(ApiAutomationRuleSchema, rule)
