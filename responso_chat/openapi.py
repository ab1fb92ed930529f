"""The OpenAPI 3 document of the JSON API, built from its routes and marshmallow schemas.

Each API view declares its operation with :func:`operation` (summary, query, body and response
schemas, who may call it); :func:`build_document` walks the app's URL map and turns every
declared view into the document with apispec's marshmallow plugin. The schemas that validate
requests and dump responses are the ones the document shows, so the two cannot drift apart.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from responso_chat.schemas.api_output import ApiErrorsSchema
from responso_chat.schemas.common import MAX_ID
from responso_chat.version import __version__

OPENAPI_VERSION = "3.0.3"
_ENDPOINT_PREFIX = "responso_chat.api."
_RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_METHODS = ("get", "post", "patch", "put", "delete")

DESCRIPTION = """\
The JSON API of Responso Chat: chats, tickets and their messages, tags, contacts, tasks,
canned responses and automation rules.

Authentication: send an API token in `Authorization: Bearer <token>`. Each agent creates
tokens on the "API tokens" page; a token acts with its agent's rights (an agent sees the
tickets of the chats they have access to; chats and automation rules need an admin's token).
The session cookie of the shop is never accepted.

Lists return `{"data": [...], "next_cursor": ...}`: pass `next_cursor` back as `cursor`
for the next page (`limit` items at most, 100 at the most); it is null on the last page.

Errors return `{"errors": {field: [message]}}` (`_request` for the request as a whole):
400 malformed request, 401 no valid token, 403 not allowed, 404 not found, 413 body too large,
422 refused values.
"""

_ERRORS = {
    400: ("BadRequest", "Malformed request: not JSON, or a query parameter is wrong."),
    401: ("Unauthorized", "No valid API token."),
    403: ("Forbidden", "The token's user may not do this."),
    404: ("NotFound", "No such record, or not one the token's user may see."),
    413: ("TooLarge", "The request body is too large."),
    422: ("Unprocessable", "Refused values, by field."),
}


@dataclass(frozen=True)
class Operation:
    """What the document says about one API view."""

    summary: str
    tag: str
    description: str
    query: object = None
    body: object = None
    response: object = None  # None: 204 No Content
    status: int = 200
    admin: bool = False
    public: bool = False
    media_type: str = "application/json"  # another one: a file (a ZIP, ...)
    #: The body's media type: JSON, or ``multipart/form-data`` for uploads.
    body_type: str = "application/json"


def operation(summary: str, tag: str, **options):
    """Declare an API view's operation (its docstring is the description): ``query``,
    ``body`` and ``response`` schemas, the success ``status``, ``admin`` (admins' tokens
    only), ``public`` (no token needed) and ``media_type`` (a file's, answered instead of
    JSON)."""

    def decorator(view):
        view.rc_operation = Operation(
            summary=summary, tag=tag, description=inspect.getdoc(view) or "", **options
        )
        return view

    return decorator


def schema_name(schema) -> str:
    """The component name of a schema: ``ApiTicketSchema`` is ``Ticket``, a reused input
    schema such as ``ContactSchema`` is ``ContactInput``, a partial one ends in ``Patch``."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    name = name.removeprefix("Api") if name.startswith("Api") else name + "Input"
    if not isinstance(schema, type) and schema.partial:
        name = name.removesuffix("Input") + "Patch"
    return name


def _responses(op: Operation, has_path_ids: bool) -> dict:
    success = {"description": "Created." if op.status == 201 else "Done."}
    if op.media_type != "application/json":
        success["content"] = {op.media_type: {"schema": {"type": "string", "format": "binary"}}}
    elif op.response is not None:
        success["content"] = {"application/json": {"schema": op.response}}
    responses = {str(op.status): success}
    if op.public:
        return responses
    codes = [401, 403]
    if op.query is not None or op.body is not None:
        codes.append(400)
    if has_path_ids:
        codes.append(404)
    if op.body is not None:
        codes += [413, 422]
    for code in sorted(codes):
        responses[str(code)] = _ERRORS[code][0]
    return responses


def _operation(op: Operation, endpoint: str, path_ids: list[str]) -> dict:
    spec = {
        "operationId": endpoint.removeprefix(_ENDPOINT_PREFIX),
        "summary": op.summary,
        "tags": [op.tag],
        "responses": _responses(op, bool(path_ids)),
    }
    if op.description:
        spec["description"] = op.description + (" Admins' tokens only." if op.admin else "")
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in path_ids
    ]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {op.body_type: {"schema": op.body}},
        }
    if op.public:
        spec["security"] = []
    return spec


def build_document(app, server_url: str = "/") -> dict:
    """The OpenAPI 3 document of ``app``'s API routes (those declared with :func:`operation`)."""
    spec = APISpec(
        title="Responso Chat API",
        version=__version__,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin(schema_name_resolver=schema_name)],
        info={"description": DESCRIPTION},
        servers=[{"url": server_url}],
        security=[{"apiToken": []}],
    )
    spec.components.security_scheme(
        "apiToken", {"type": "http", "scheme": "bearer", "description": "An agent's API token."}
    )
    for name, description in _ERRORS.values():
        content = {"application/json": {"schema": ApiErrorsSchema}}
        spec.components.response(name, {"description": description, "content": content})
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(_ENDPOINT_PREFIX):
            continue
        op = getattr(app.view_functions[rule.endpoint], "rc_operation", None)
        if op is None:
            continue
        path = _RULE_ARGUMENT.sub(r"{\1}", rule.rule)
        for method in (rule.methods or ()):
            if method.lower() in _METHODS:
                paths.setdefault(path, {})[method.lower()] = _operation(
                    op, rule.endpoint, _RULE_ARGUMENT.findall(rule.rule)
                )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    for operations in document["paths"].values():
        for op in operations.values():
            _tidy_query_parameters(op.get("parameters", []))
    return document


def _tidy_query_parameters(parameters: list) -> None:
    """A query parameter left out is never null: drop what ``load_default=None`` adds."""
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if parameter.get("in") != "query" or not schema.pop("nullable", False):
            continue
        if "default" in schema and schema["default"] is None:
            del schema["default"]
        if "enum" in schema:
            schema["enum"] = [value for value in schema["enum"] if value is not None]
