"""The plugin's blueprints, one per audience, nested under one parent blueprint.

Each module only declares routes and calls the package's domain modules;
:func:`create_blueprint` builds a fresh parent for every app, so the same plugin registers
cleanly on several apps in one process.
"""

from __future__ import annotations

import re
from importlib.resources import files

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy.exc import DBAPIError
from wtforms.validators import ValidationError

from responso_chat.schemas.common import MAX_ID, UNSTORABLE_MESSAGE, unstorable
from responso_chat.state import plugin_state
from responso_chat.users import is_admin, is_agent
from responso_chat.version import __version__

from . import (
    account,
    admin,
    admin_proactive,  # noqa: F401 - its views join the admin blueprint
    api,
    api_canned,  # noqa: F401 - its routes join the API blueprint
    api_privacy,  # noqa: F401 - its routes join the API blueprint
    api_records,  # noqa: F401 - its routes join the API blueprint
    attachments,
    automations,
    inbox,
    inbox_canned,  # noqa: F401 - its views join the inbox blueprint
    inbox_desk,  # noqa: F401 - its views join the inbox blueprint
    inbox_orders,  # noqa: F401 - its views join the inbox blueprint
    privacy,  # noqa: F401 - its views join the inbox and admin blueprints
    reports,
    webhooks,
    widget,
    widget_orders,  # noqa: F401 - its views join the widget blueprint
    ws,
)

#: (blueprint module, URL prefix under the plugin's prefix, audience) — mirrored in plugin.toml.
CHILDREN = (
    (admin, "/admin", "admin"),
    (automations, "/admin/automations", "admin"),
    (webhooks, "/admin/webhooks", "admin"),
    (reports, "/admin/reports", "admin"),
    (inbox, "/inbox", "agent"),
    (account, "/account", "agent"),
    (api, "/api", "api"),
    (widget, "/widget", "storefront"),
    (ws, "/ws", "storefront"),
)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Blueprints whose state-changing requests carry their own credentials (visitor tokens,
#: API tokens) instead of the host's session cookie, so cookie CSRF does not apply.
TOKEN_AUTHENTICATED = frozenset({"api", "widget"})
#: Largest request body, in bytes: of widget and API requests (JSON from anywhere), and of
#: the admin and inbox pages' forms. A smaller ``MAX_CONTENT_LENGTH`` of the host wins.
MAX_TOKEN_BODY = 64 * 1024
MAX_PAGE_BODY = 1024 * 1024
_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]+")


def create_blueprint() -> Blueprint:
    """A new parent blueprint named ``responso_chat`` with every audience's blueprint nested."""
    package = files("responso_chat")  # templates and static files live in the main package
    parent = Blueprint(
        "responso_chat",
        __name__,
        template_folder=str(package / "templates"),
        static_folder=str(package / "static" / "responso_chat"),
        static_url_path="/static",
    )
    for module, prefix, _audience in CHILDREN:
        parent.register_blueprint(module.bp, url_prefix=prefix)
    parent.before_request(_limit_body)
    parent.before_request(_refuse_unstorable_text)
    parent.before_request(_refuse_impossible_ids)
    parent.before_request(_check_csrf)
    parent.after_request(_security_headers)
    parent.context_processor(_template_globals)
    parent.register_error_handler(403, _forbidden)
    parent.register_error_handler(413, _too_large)
    parent.register_error_handler(RecursionError, _json_too_deep)
    parent.register_error_handler(DBAPIError, _database_gone)
    return parent


def _child() -> str | None:
    """The name of the plugin's blueprint handling this request (``inbox``, ``widget``, ...)."""
    parts = (request.blueprint or "").split(".")
    return parts[1] if len(parts) > 1 else None


def _body_limit() -> int:
    limit = MAX_TOKEN_BODY if _child() in TOKEN_AUTHENTICATED else MAX_PAGE_BODY
    if request.endpoint in attachments.UPLOAD_ENDPOINTS:  # files, and the message's text
        state = plugin_state()
        limit = state.setting("FILES_MAX_SIZE") * state.setting("FILES_PER_MESSAGE") + limit
    host_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return limit if host_limit is None else min(limit, host_limit)


def _limit_body():
    """Refuse a body over the limit (413) before anything reads it, announced or streamed."""
    request.max_content_length = _body_limit()
    if request.content_length is not None and request.content_length > _body_limit():
        abort(413)


def _refuse_unstorable_text():
    """Refuse text no database stores (400) instead of failing deep in a view (500).
    Checked in the URL, the query, forms, and the JSON the widget and the pages read (the API
    reads its own body and checks it there)."""
    values = [*(request.view_args or {}).values(), *request.args.lists()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and (
        request.endpoint not in attachments.UPLOAD_ENDPOINTS  # read after their credentials
    ):
        values += request.form.lists()
    if request.is_json and _child() != "api":
        values.append(request.get_json(silent=True))
    if unstorable(values):
        if request.is_json or _child() in TOKEN_AUTHENTICATED or (
            request.accept_mimetypes.best == "application/json"
        ):
            abort(make_response(jsonify(errors={"_request": [UNSTORABLE_MESSAGE]}), 400))
        abort(400, description=UNSTORABLE_MESSAGE)


def _refuse_impossible_ids():
    """An id in the URL past :data:`MAX_ID` cannot exist: 404 before a view looks it up
    (PostgreSQL would refuse the number itself, a 500)."""
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        abort(404)


def _json_too_deep(error):
    """JSON nested deeper than Python's parser goes raises RecursionError, which
    ``get_json(silent=True)`` lets through: a 400 for JSON requests, not a 500."""
    if not request.is_json:
        raise error
    return jsonify(errors={"_request": ["The JSON body is nested too deeply."]}), 400


def _too_large(error):
    """413 in JSON for the widget, the API and JSON clients. The widget's page may read it
    (CORS) although no view ran to allow its site: it says nothing of the chat, and without
    it the customer would see a network failure instead of "too large"."""
    if _child() in TOKEN_AUTHENTICATED or request.accept_mimetypes.best == "application/json":
        message = f"The request is too large (more than {_body_limit() // 1024} KB)."
        response = make_response(jsonify(errors={"_request": [message]}), 413)
        origin = request.headers.get("Origin")
        if _child() == "widget" and origin:
            response.headers["Access-Control-Allow-Origin"] = origin
        return response
    return error


def _database_gone(error):
    """A database connection cut under the request (a restart, a failover): 503 with
    ``Retry-After`` so the widget and pages try again, not a 500. The pool replaces the dead
    connection; any other database error stays a 500."""
    if not error.connection_invalidated:
        raise error
    plugin_state().db.session.rollback()
    response = jsonify(errors={"_request": ["The service is restarting; try again."]})
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response


def page_csp(host: str) -> str:
    """The Content-Security-Policy of the plugin's pages served at ``host``: nothing inline,
    nothing from elsewhere, websockets to the same host only."""
    sockets = f" ws://{host} wss://{host}" if _HOST.fullmatch(host or "") else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{sockets}; frame-ancestors 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'"
    )


def _security_headers(response):
    """No MIME sniffing and same-origin referrers everywhere; the strict CSP on every page
    (admin, inbox, account, API docs). The widget serves no HTML: its script and JSON run
    under the shop's own policy."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", page_csp(request.host))
    return response


def _forbidden(error):
    """The plugin's 403 page (JSON for API and widget requests)."""
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(errors={"_request": ["You do not have access to this."]}), 403
    return render_template("responso_chat/403.html"), 403


def _check_csrf():
    """Refuse a state-changing request of a cookie-authenticated page without a CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return None
    blueprint = (request.blueprint or "").split(".")
    if len(blueprint) > 1 and blueprint[1] in TOKEN_AUTHENTICATED:
        return None
    token = request.headers.get("X-CSRFToken")
    if not token and request.endpoint not in attachments.UPLOAD_ENDPOINTS:
        token = request.form.get("csrf_token")  # an upload's body is not read for it
    try:
        validate_csrf(token)
    except ValidationError as exc:
        if request.is_json or request.accept_mimetypes.best == "application/json":
            abort(make_response(jsonify(errors={"csrf_token": [str(exc)]}), 400))
        abort(400, description=f"CSRF check failed: {exc}")
    return None


def _template_globals():
    return {
        "csrf_token": generate_csrf,
        "responso_chat_version": __version__,
        "rc_is_admin": is_admin,
        "rc_is_agent": is_agent,
    }
