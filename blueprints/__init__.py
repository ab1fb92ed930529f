"""The plugin's blueprints, one per audience, nested under one parent blueprint.

Each module only declares routes and calls services; :func:`create_blueprint` builds a fresh
parent for every app, so the same plugin registers cleanly on several apps in one process.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, abort, jsonify, make_response, render_template, request
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from . import admin, api, automations, inbox, widget, ws

#: (blueprint module, URL prefix under the plugin's prefix, audience) — mirrored in plugin.toml.
CHILDREN = (
    (admin, "/admin", "admin"),
    (automations, "/admin/automations", "admin"),
    (inbox, "/inbox", "agent"),
    (api, "/api", "api"),
    (widget, "/widget", "storefront"),
    (ws, "/ws", "storefront"),
)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Blueprints whose state-changing requests carry their own credentials (visitor tokens,
#: API tokens) instead of the host's session cookie, so cookie CSRF does not apply.
TOKEN_AUTHENTICATED = frozenset({"api", "widget"})


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
    parent.before_request(_check_csrf)
    parent.context_processor(_template_globals)
    parent.register_error_handler(403, _forbidden)
    return parent


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
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError as exc:
        if request.is_json or request.accept_mimetypes.best == "application/json":
            abort(make_response(jsonify(errors={"csrf_token": [str(exc)]}), 400))
        abort(400, description=f"CSRF check failed: {exc}")
    return None


def _template_globals():
    from responso_chat import __version__
    from responso_chat.users import is_admin, is_agent

    return {
        "csrf_token": generate_csrf,
        "responso_chat_version": __version__,
        "rc_is_admin": is_admin,
        "rc_is_agent": is_agent,
    }
