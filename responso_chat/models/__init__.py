"""The plugin's models: importable classes on a declarative base and metadata of its own.

::

    from responso_chat.models import Message, Ticket
    from responso_chat.state import plugin_state

    session = plugin_state().db.session      # the host's Flask-SQLAlchemy session
    ticket = session.get(Ticket, ticket_id)

Relationships load lazily (``lazy="select"``); code that walks one asks for it in its query
(``selectinload``, ``joinedload``). See :mod:`responso_chat.models.base` for the base, the
column types and the Alembic filters (:func:`include_object` for the plugin's migrations,
:func:`exclude_object` for a host's own).
"""

from responso_chat.models.automations import AutomationRule, AutomationRun
from responso_chat.models.base import (
    SEARCH_INDEXES,
    TABLE_PREFIX,
    VERSION_TABLE,
    Base,
    UTCDateTime,
    exclude_object,
    include_object,
    is_plugin_table,
    metadata,
    new_public_key,
    new_secret,
    utcnow,
)
from responso_chat.models.canned import CannedResponse
from responso_chat.models.chats import AgentAvailability, Chat, ChatAgent, RefusedOrigin
from responso_chat.models.context import ProactiveMessage, TicketContext
from responso_chat.models.files import Attachment
from responso_chat.models.integrations import ApiToken, Setting, Webhook, WebhookDelivery
from responso_chat.models.mail import MailRecord
from responso_chat.models.order_links import OrderCode, TicketOrder
from responso_chat.models.orders import Order, OrderStatus, OrderSync
from responso_chat.models.outbox import OutboxEntry
from responso_chat.models.privacy import PRIVACY_ACTIONS, PrivacyRecord
from responso_chat.models.ratings import TicketRating
from responso_chat.models.reports import ReportCount
from responso_chat.models.tasks import Contact, Project, Task
from responso_chat.models.tickets import (
    Message,
    Tag,
    Team,
    TeamMember,
    Ticket,
    TicketWatcher,
    ticket_details,
    ticket_tag,
)

__all__ = [
    "PRIVACY_ACTIONS",
    "SEARCH_INDEXES",
    "TABLE_PREFIX",
    "VERSION_TABLE",
    "AgentAvailability",
    "ApiToken",
    "Attachment",
    "AutomationRule",
    "AutomationRun",
    "Base",
    "CannedResponse",
    "Chat",
    "ChatAgent",
    "Contact",
    "MailRecord",
    "Message",
    "Order",
    "OrderCode",
    "OrderStatus",
    "OrderSync",
    "OutboxEntry",
    "PrivacyRecord",
    "ProactiveMessage",
    "Project",
    "RefusedOrigin",
    "ReportCount",
    "Setting",
    "Tag",
    "Task",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketContext",
    "TicketOrder",
    "TicketRating",
    "TicketWatcher",
    "UTCDateTime",
    "Webhook",
    "WebhookDelivery",
    "exclude_object",
    "include_object",
    "is_plugin_table",
    "metadata",
    "new_public_key",
    "new_secret",
    "ticket_details",
    "ticket_tag",
    "utcnow",
]
