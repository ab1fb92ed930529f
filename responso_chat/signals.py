"""Signals the plugin sends when tickets change, for the plugin's automations and for hosts.

They are `blinker <https://blinker.readthedocs.io/>`_ signals, like Flask's own. The sender is
the Flask app; every signal is sent *after* the database commit, so a receiver always finds
what the signal names. A host listens to them as it listens to Flask's signals::

    from responso_chat import signals

    @signals.ticket_created.connect_via(app)
    def on_ticket_created(app, ticket_id, message_id):
        ...

Receivers run in the request (or job) that made the change: keep them short and hand slow
work to a background job. ``by`` is who made a change: an agent (``responso_chat.users.Agent``)
or an automation (``responso_chat.automations.actions.AutomationActor``), both with ``id`` and
``name``; ``None`` when the change was made by the customer's own action.
"""

from __future__ import annotations

from blinker import Namespace
from flask import current_app

_signals = Namespace()

#: A chat ticket was created: ``(app, ticket_id, message_id)``; ``message_id`` is its first
#: message (the customer's, or the agent's for a ticket an agent opened).
ticket_created = _signals.signal("responso-chat-ticket-created")

#: A message was added to a conversation: ``(app, ticket_id, message_id, author_kind)``;
#: ``author_kind`` is ``customer``, ``agent`` or ``automation``.
message_created = _signals.signal("responso-chat-message-created")

#: A ticket's status changed: ``(app, ticket_id, old, new, by)``.
ticket_status_changed = _signals.signal("responso-chat-ticket-status-changed")

#: A ticket was assigned to an agent, or unassigned: ``(app, ticket_id, assignee_id, by)``.
ticket_assigned = _signals.signal("responso-chat-ticket-assigned")

#: An automation asked to notify a ticket's watchers: ``(app, ticket_id, user_ids, text)``.
#: The plugin records the notice in the conversation; a host may also e-mail it.
watchers_notified = _signals.signal("responso-chat-watchers-notified")


def send(signal, **kwargs) -> None:
    """Send ``signal`` from the current app (call it after the commit): ``send(ticket_created,
    ticket_id=..., message_id=...)``."""
    signal.send(current_app._get_current_object(), **kwargs)
