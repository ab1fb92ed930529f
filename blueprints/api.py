"""JSON API of the plugin."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from responso_chat import __version__, current_chat

bp = Blueprint("api", __name__)


@bp.get("/health")
def health():
    """Liveness for load balancers: the plugin's version and whether its database answers."""
    try:
        current_chat().db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(name="responso-chat", version=__version__, database=database), status
