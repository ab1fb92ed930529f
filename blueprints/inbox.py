"""The agents' inbox: chat tickets in views, and the ticket page. Agents and admins."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from responso_chat.services import inbox
from responso_chat.users import agent_required

bp = Blueprint("inbox", __name__)


@bp.before_request
@agent_required
def _agents_only():
    """Every inbox page needs an agent or admin; anonymous users go to the host's login."""


@bp.get("/")
def ticket_list():
    """Tickets the agent may see, newest activity first."""
    return render_template(
        "responso_chat/inbox/ticket_list.html", tickets=inbox.list_tickets(current_user)
    )
