"""Admin pages: chat channels and the plugin's settings. Admins only."""

from __future__ import annotations

from flask import Blueprint, render_template

from responso_chat.services import chats
from responso_chat.users import admin_required

bp = Blueprint("admin", __name__)


@bp.before_request
@admin_required
def _admins_only():
    """Every admin page needs an admin; anonymous users go to the host's login."""


@bp.get("/")
def chat_list():
    """The list of chat channels."""
    return render_template("responso_chat/admin/chat_list.html", rows=chats.chat_list_rows())
