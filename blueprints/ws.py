"""Websockets (flask-sock): the routes and their handshake; the protocol lives in
:mod:`responso_chat.conversation.websocket` (the loop), ``visitor_socket`` and
``agent_socket``.

The handshake is checked before the upgrade (``before_request``): a refused socket gets a
plain HTTP 403 and never opens. The visitor token comes only in the subprotocol, never in the
URL (URLs end up in access logs).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, g, jsonify, make_response, request
from flask_login import current_user
from flask_sock import Sock
from marshmallow import ValidationError

from responso_chat.conversation import sessions
from responso_chat.conversation.agent_socket import AgentConnection
from responso_chat.conversation.visitor import origin_allowed, ticket_for_token
from responso_chat.conversation.visitor_socket import VisitorConnection
from responso_chat.conversation.websocket import VISITOR_PROTOCOL
from responso_chat.infra.ratelimit import client_address
from responso_chat.schemas.common import AfterQuerySchema
from responso_chat.state import plugin_state
from responso_chat.users import is_agent

__all__ = ["VISITOR_PROTOCOL", "bp"]

bp = Blueprint("ws", __name__)
sock = Sock()


def _answer_visitor_protocol(setup_state) -> None:
    """Let flask-sock answer the widget's subprotocol (a browser drops a socket whose asked-for
    protocol is not echoed); the host's own subprotocols stay."""
    options = setup_state.app.config.setdefault("SOCK_SERVER_OPTIONS", {})
    protocols = list(options.get("subprotocols") or [])
    if VISITOR_PROTOCOL not in protocols:
        options["subprotocols"] = [*protocols, VISITOR_PROTOCOL]


bp.record_once(_answer_visitor_protocol)


def _visitor_token() -> str | None:
    """The visitor token: ``Sec-WebSocket-Protocol: responso-chat, <token>`` (the widget)."""
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if len(offered) == 2 and offered[0] == VISITOR_PROTOCOL:
        return offered[1]
    return None


@bp.before_request
def _check_handshake():
    """Refuse before the upgrade: bad visitor token or Origin, or not an agent of this host."""
    origin = request.headers.get("Origin")
    if request.endpoint == "responso_chat.ws.visitor":
        state = plugin_state()  # a public endpoint: limited like the widget's others
        state.rate_limits.enforce(state.setting("PUBLIC_RATE_LIMIT"), "public")
        ticket = ticket_for_token(_visitor_token())
        if ticket is None or not origin_allowed(ticket.chat, origin, request.host_url):
            abort(403)
        try:
            after = AfterQuerySchema().load(request.args.to_dict())["after"]
        except ValidationError as exc:
            abort(make_response(jsonify(errors=exc.messages), 400))
        g.rc_visitor = (ticket.id, after, _visitor_token())
    elif request.endpoint == "responso_chat.ws.agent":
        if not is_agent():
            abort(403)
        if not origin or urlsplit(origin).netloc != request.host:
            abort(403)
        if sessions.signed_out(str(current_user.get_id()), sessions.current_signin()):
            abort(403)  # a copy of a cookie whose sign-in is over


@sock.route("/visitor", bp=bp)
def visitor(ws):
    """The customer's conversation: ``?after=<seq>``, the token as a subprotocol."""
    ticket_id, after, token = g.rc_visitor
    VisitorConnection(ws, ticket_id, after, token, client_address()).run()


@sock.route("/agent", bp=bp)
def agent(ws):
    """An agent's live view of the tickets they subscribe to and of the inbox."""
    AgentConnection(ws, current_user._get_current_object(), sessions.current_signin()).run()
