"""The agent's own settings: API tokens for the JSON API. Agents and admins.

A new token is shown once, in the answer to the form that created it (never flashed: flashes
travel in the session cookie); only its hash is stored.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from responso_chat.integrations import api_tokens as tokens
from responso_chat.schemas.inbox import ApiTokenNameSchema
from responso_chat.users import agent_required, current_user_id

bp = Blueprint("account", __name__)


@bp.before_request
@agent_required
def _agents_only():
    """Every page needs an agent or admin; anonymous users go to the host's login."""


@bp.route("/api-tokens", methods=["GET", "POST"])
def api_tokens():
    """The agent's API tokens; POST creates one and shows it this once."""
    errors, values, created = {}, {}, None
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            name = ApiTokenNameSchema().load({"name": values.get("name", "")})["name"]
        except ValidationError as exc:
            errors = exc.messages
        else:
            created = tokens.create_token(current_user_id(), name)
            values = {}
    response = render_template(
        "responso_chat/account/api_tokens.html",
        tokens=tokens.list_tokens(current_user_id()),
        created=created,
        errors=errors,
        values=values,
    )
    status = 201 if created else 422 if errors else 200
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/api-tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke one of the agent's tokens: requests carrying it are refused from now on."""
    row = tokens.get_token(current_user_id(), token_id)
    if row is None:
        abort(404)
    if tokens.revoke_token(row):
        flash(f"Token “{row.name}” revoked.", "success")
    return redirect(url_for(".api_tokens"), 303)
