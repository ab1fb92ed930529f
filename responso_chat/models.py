"""SQLAlchemy models of the plugin, built on the host's Flask-SQLAlchemy ``db``.

Models are declared by :func:`define_models` for a given ``db`` (Flask-SQLAlchemy gives every
``db`` its own ``Model`` base), once per ``db``: two apps sharing one ``db`` share the classes.
Every table name starts with ``responso_chat_``. Times are stored in UTC and come back as
timezone-aware UTC datetimes. Host users are referenced by ``user.get_id()`` strings, since the
host's user table is not ours to point foreign keys at.
"""

from __future__ import annotations

import secrets
import weakref
from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

TABLE_PREFIX = "responso_chat_"
VERSION_TABLE = "responso_chat_alembic_version"

CHAT_ALIGNMENTS = ("left", "right")
PATH_RULE_TYPES = ("whitelist", "blacklist")
OUT_OF_HOURS_BEHAVIOURS = ("show_message", "hide_widget")
WIDGET_LANGUAGES = ("auto", "en", "fr", "pl")
TICKET_STATUSES = ("open", "pending", "solved", "closed", "spam")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
AUTHOR_KINDS = ("customer", "agent", "system", "automation")
SENTIMENTS = ("positive", "neutral", "negative")
CONTEXTS = (
    "order_status",
    "shipping",
    "return",
    "complaint",
    "payment",
    "product_question",
    "other",
)
AUTOMATION_TRIGGERS = ("new_ticket", "customer_message", "status_changed", "no_agent_reply")
AUTOMATION_MATCH = ("all", "any")
WEBHOOK_EVENTS = ("ticket.created", "message.created", "ticket.status_changed", "ticket.assigned")

_models_by_db: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (what every column stores)."""
    return datetime.now(UTC)


def new_public_key() -> str:
    """A random, URL-safe public key for a chat's embed code."""
    return secrets.token_urlsafe(16)


def new_secret() -> str:
    """A random secret a shop uses to sign a logged-in customer's e-mail for the widget."""
    return secrets.token_hex(32)


class UTCDateTime(TypeDecorator):
    """A datetime stored as UTC and always returned timezone-aware, on SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum_check(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)


def define_models(db) -> SimpleNamespace:
    """Declare the plugin's models on ``db`` (once per ``db``) and return them by name."""
    existing = _models_by_db.get(db)
    if existing is not None:
        return existing

    Model = db.Model
    UserId = sa.String(64)

    chat_agent = db.Table(
        "responso_chat_chat_agent",
        sa.Column(
            "chat_id",
            sa.Integer,
            sa.ForeignKey("responso_chat_chat.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", UserId, primary_key=True),
    )
    ticket_tag = db.Table(
        "responso_chat_ticket_tag",
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "tag_id",
            sa.Integer,
            sa.ForeignKey("responso_chat_tag.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    ticket_watcher = db.Table(
        "responso_chat_ticket_watcher",
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", UserId, primary_key=True, index=True),
    )
    team_member = db.Table(
        "responso_chat_team_member",
        sa.Column(
            "team_id",
            sa.Integer,
            sa.ForeignKey("responso_chat_team.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", UserId, primary_key=True, index=True),
    )

    class Chat(Model):
        """A chat channel: one widget a shop embeds, with its look, rules and opening hours."""

        __tablename__ = "responso_chat_chat"
        __table_args__ = (
            _enum_check("alignment", CHAT_ALIGNMENTS, "ck_responso_chat_chat_alignment"),
            _enum_check("path_rule_type", PATH_RULE_TYPES, "ck_responso_chat_chat_path_rule"),
            _enum_check(
                "out_of_hours_behaviour",
                OUT_OF_HOURS_BEHAVIOURS,
                "ck_responso_chat_chat_out_of_hours",
            ),
            _enum_check("language", WIDGET_LANGUAGES, "ck_responso_chat_chat_language"),
            sa.CheckConstraint(
                "vertical_spacing BETWEEN 0 AND 1000", name="ck_responso_chat_chat_spacing"
            ),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(100), nullable=False, unique=True)
        welcome_message = sa.Column(sa.String(500), nullable=False, default="")
        alignment = sa.Column(sa.String(10), nullable=False, default="right")
        vertical_spacing = sa.Column(sa.Integer, nullable=False, default=25)
        path_rule_type = sa.Column(sa.String(10), nullable=False, default="blacklist")
        paths = sa.Column(sa.JSON, nullable=False, default=list)
        # {"mon": [["09:00", "17:00"], ...], ...}: [] closed, [["00:00", "24:00"]] all day;
        # an interval whose end is before its start runs past midnight (22:00-02:00).
        opening_hours = sa.Column(sa.JSON, nullable=False, default=dict)
        timezone = sa.Column(sa.String(64), nullable=False, default="Europe/Warsaw")
        out_of_hours_behaviour = sa.Column(sa.String(20), nullable=False, default="show_message")
        out_of_hours_message = sa.Column(sa.String(500), nullable=False, default="")
        public_key = sa.Column(sa.String(32), nullable=False, unique=True, default=new_public_key)
        secret = sa.Column(sa.String(64), nullable=False, default=new_secret)
        enabled = sa.Column(sa.Boolean, nullable=False, default=True)
        language = sa.Column(sa.String(4), nullable=False, default="auto")
        color = sa.Column(sa.String(7), nullable=False, default="#2563eb")
        allowed_origins = sa.Column(sa.JSON, nullable=False, default=list)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

        agent_rows = db.relationship(
            "ChatAgent", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
        )

        @property
        def agent_ids(self) -> list[str]:
            """Ids of the host users given access to this chat's tickets."""
            return sorted(row.user_id for row in self.agent_rows)

        def __repr__(self):
            return f"<Chat {self.id} {self.name!r}>"

    class ChatAgent(Model):
        """An agent given access to a chat's tickets."""

        __table__ = chat_agent

    class Team(Model):
        """A group of agents a ticket can be assigned to."""

        __tablename__ = "responso_chat_team"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(100), nullable=False, unique=True)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        member_rows = db.relationship(
            "TeamMember", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
        )

    class TeamMember(Model):
        """An agent's membership of a team."""

        __table__ = team_member

    class Tag(Model):
        """A label put on tickets."""

        __tablename__ = "responso_chat_tag"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(50), nullable=False, unique=True)

    class Ticket(Model):
        """A chat conversation: a standard helpdesk ticket of the ``chat`` channel."""

        __tablename__ = "responso_chat_ticket"
        __table_args__ = (
            _enum_check("status", TICKET_STATUSES, "ck_responso_chat_ticket_status"),
            _enum_check("priority", TICKET_PRIORITIES, "ck_responso_chat_ticket_priority"),
            sa.CheckConstraint("channel = 'chat'", name="ck_responso_chat_ticket_channel"),
            sa.CheckConstraint(
                "last_sender IS NULL OR last_sender IN "
                "('customer', 'agent', 'system', 'automation')",
                name="ck_responso_chat_ticket_last_sender",
            ),
            sa.CheckConstraint(
                "sentiment IS NULL OR sentiment IN ('positive', 'neutral', 'negative')",
                name="ck_responso_chat_ticket_sentiment",
            ),
            # Inbox views: newest activity first, keyset on (last_message_at, id).
            sa.Index("ix_responso_chat_ticket_activity", "last_message_at", "id"),
            sa.Index("ix_responso_chat_ticket_status_activity", "status", "last_message_at", "id"),
            sa.Index(
                "ix_responso_chat_ticket_assignee_activity",
                "assignee_id",
                "status",
                "last_message_at",
                "id",
            ),
            sa.Index("ix_responso_chat_ticket_chat_activity", "chat_id", "last_message_at", "id"),
            sa.Index("ix_responso_chat_ticket_email", "customer_email"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        channel = sa.Column(sa.String(20), nullable=False, default="chat")
        chat_id = sa.Column(
            sa.Integer, sa.ForeignKey("responso_chat_chat.id", ondelete="SET NULL"), nullable=True
        )
        # Kept when the chat is deleted, so the ticket still says where it came from.
        chat_name = sa.Column(sa.String(100), nullable=False)
        subject = sa.Column(sa.String(200), nullable=False)
        customer_name = sa.Column(sa.String(100), nullable=False)
        customer_email = sa.Column(sa.String(254), nullable=False)
        customer_email_verified = sa.Column(sa.Boolean, nullable=False, default=False)
        status = sa.Column(sa.String(10), nullable=False, default="open")
        priority = sa.Column(sa.String(10), nullable=False, default="normal")
        assignee_id = sa.Column(UserId, nullable=True)
        team_id = sa.Column(
            sa.Integer, sa.ForeignKey("responso_chat_team.id", ondelete="SET NULL"), nullable=True
        )
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
        last_message_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        last_sender = sa.Column(sa.String(12), nullable=True)
        last_seq = sa.Column(sa.Integer, nullable=False, default=0)
        sentiment = sa.Column(sa.String(10), nullable=True)
        context = sa.Column(sa.String(20), nullable=True)
        disable_next_autoresponder = sa.Column(sa.Boolean, nullable=False, default=False)
        out_of_hours = sa.Column(sa.Boolean, nullable=False, default=False)
        page_url = sa.Column(sa.String(2000), nullable=True)
        page_title = sa.Column(sa.String(300), nullable=True)
        language = sa.Column(sa.String(4), nullable=True)

        chat = db.relationship("Chat", lazy="joined")
        team = db.relationship("Team", lazy="joined")
        tags = db.relationship("Tag", secondary=ticket_tag, lazy="selectin", order_by="Tag.name")
        watcher_rows = db.relationship(
            "TicketWatcher", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
        )

        @property
        def watcher_ids(self) -> list[str]:
            """Ids of the users notified of this ticket's new messages."""
            return sorted(row.user_id for row in self.watcher_rows)

        def __repr__(self):
            return f"<Ticket {self.id} {self.status}>"

    class TicketWatcher(Model):
        """A user who follows a ticket."""

        __table__ = ticket_watcher

    class Message(Model):
        """One line of a conversation, numbered per ticket so clients resume by sequence."""

        __tablename__ = "responso_chat_message"
        __table_args__ = (
            _enum_check("author_kind", AUTHOR_KINDS, "ck_responso_chat_message_author_kind"),
            sa.UniqueConstraint("ticket_id", "seq", name="uq_responso_chat_message_seq"),
            sa.UniqueConstraint(
                "ticket_id", "client_key", name="uq_responso_chat_message_client_key"
            ),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        ticket_id = sa.Column(
            sa.Integer,
            sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
            nullable=False,
        )
        seq = sa.Column(sa.Integer, nullable=False)
        author_kind = sa.Column(sa.String(12), nullable=False)
        author_id = sa.Column(UserId, nullable=True)
        author_name = sa.Column(sa.String(100), nullable=False, default="")
        body = sa.Column(sa.Text, nullable=False)
        internal = sa.Column(sa.Boolean, nullable=False, default=False)
        client_msg_id = sa.Column(sa.String(64), nullable=True)
        #: The idempotency key: the client message id scoped to its author, so one author's
        #: id can never reach another author's message (see messages.client_key).
        client_key = sa.Column(sa.String(200), nullable=True)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        seen_at = sa.Column(UTCDateTime, nullable=True)
        sentiment = sa.Column(sa.String(10), nullable=True)
        context = sa.Column(sa.String(20), nullable=True)

        ticket = db.relationship("Ticket")

    class Project(Model):
        """A group of tasks."""

        __tablename__ = "responso_chat_project"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(100), nullable=False, unique=True)
        description = sa.Column(sa.Text, nullable=False, default="")
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    class Task(Model):
        """A to-do item, usually linked to a ticket, optionally in a project."""

        __tablename__ = "responso_chat_task"
        __table_args__ = (sa.Index("ix_responso_chat_task_assignee", "assignee_id", "done"),)
        id = sa.Column(sa.Integer, primary_key=True)
        title = sa.Column(sa.String(200), nullable=False)
        description = sa.Column(sa.Text, nullable=False, default="")
        assignee_id = sa.Column(UserId, nullable=True)
        due_date = sa.Column(sa.Date, nullable=True)
        done = sa.Column(sa.Boolean, nullable=False, default=False)
        project_id = sa.Column(
            sa.Integer,
            sa.ForeignKey("responso_chat_project.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        )
        ticket_id = sa.Column(
            sa.Integer,
            sa.ForeignKey("responso_chat_ticket.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        )
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        project = db.relationship("Project", backref=db.backref("tasks", lazy="select"))
        ticket = db.relationship("Ticket", backref=db.backref("tasks", lazy="select"))

    class Contact(Model):
        """A person the shop talks to; "add sender to contacts" creates one from a ticket."""

        __tablename__ = "responso_chat_contact"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(100), nullable=False)
        email = sa.Column(sa.String(254), nullable=False, unique=True)
        phone = sa.Column(sa.String(40), nullable=False, default="")
        notes = sa.Column(sa.Text, nullable=False, default="")
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    class AutomationRule(Model):
        """When (trigger + conditions) and what (actions) an automation does to chat tickets."""

        __tablename__ = "responso_chat_automation_rule"
        __table_args__ = (
            _enum_check("trigger", AUTOMATION_TRIGGERS, "ck_responso_chat_rule_trigger"),
            _enum_check("match", AUTOMATION_MATCH, "ck_responso_chat_rule_match"),
        )
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(100), nullable=False)
        enabled = sa.Column(sa.Boolean, nullable=False, default=True)
        trigger = sa.Column(sa.String(20), nullable=False, default="new_ticket")
        trigger_minutes = sa.Column(sa.Integer, nullable=True)
        match = sa.Column(sa.String(3), nullable=False, default="all")
        conditions = sa.Column(sa.JSON, nullable=False, default=list)
        actions = sa.Column(sa.JSON, nullable=False, default=list)
        position = sa.Column(sa.Integer, nullable=False, default=0, index=True)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        last_run_at = sa.Column(UTCDateTime, nullable=True)

    class AutomationRun(Model):
        """One rule acting on one message: unique, so a retried job never acts twice."""

        __tablename__ = "responso_chat_automation_run"
        __table_args__ = (
            sa.UniqueConstraint("rule_id", "message_id", name="uq_responso_chat_run_rule_message"),
            sa.Index("ix_responso_chat_run_ticket", "ticket_id", "created_at"),
        )
        id = sa.Column(sa.Integer, primary_key=True)
        rule_id = sa.Column(
            sa.Integer,
            sa.ForeignKey("responso_chat_automation_rule.id", ondelete="CASCADE"),
            nullable=False,
        )
        ticket_id = sa.Column(
            sa.Integer,
            sa.ForeignKey("responso_chat_ticket.id", ondelete="CASCADE"),
            nullable=False,
        )
        message_id = sa.Column(
            sa.Integer,
            sa.ForeignKey("responso_chat_message.id", ondelete="CASCADE"),
            nullable=False,
        )
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        outcome = sa.Column(sa.JSON, nullable=False, default=list)
        rule = db.relationship("AutomationRule")

    class OrderStatus(Model):
        """An order status of Base, cached from ``getOrderStatusList``."""

        __tablename__ = "responso_chat_order_status"
        id = sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
        name = sa.Column(sa.String(100), nullable=False)
        name_for_customer = sa.Column(sa.String(100), nullable=False, default="")
        color = sa.Column(sa.String(16), nullable=False, default="")

    class Order(Model):
        """An order of Base, cached locally and matched to tickets by the customer's e-mail."""

        __tablename__ = "responso_chat_order"
        __table_args__ = (sa.Index("ix_responso_chat_order_email_date", "email", "date_add"),)
        id = sa.Column(sa.Integer, primary_key=True)
        base_order_id = sa.Column(sa.BigInteger, nullable=False, unique=True)
        shop_order_id = sa.Column(sa.String(50), nullable=False, default="")
        status_id = sa.Column(sa.BigInteger, nullable=True)
        date_add = sa.Column(UTCDateTime, nullable=True)
        date_confirmed = sa.Column(UTCDateTime, nullable=True)
        date_in_status = sa.Column(UTCDateTime, nullable=True)
        email = sa.Column(sa.String(254), nullable=False, default="")
        phone = sa.Column(sa.String(40), nullable=False, default="")
        currency = sa.Column(sa.String(3), nullable=False, default="")
        total = sa.Column(sa.Numeric(12, 2), nullable=False, default=0)
        products = sa.Column(sa.JSON, nullable=False, default=list)
        payment_method = sa.Column(sa.String(100), nullable=False, default="")
        payment_done = sa.Column(sa.Numeric(12, 2), nullable=False, default=0)
        delivery_method = sa.Column(sa.String(100), nullable=False, default="")
        delivery_price = sa.Column(sa.Numeric(12, 2), nullable=False, default=0)
        delivery_fullname = sa.Column(sa.String(200), nullable=False, default="")
        delivery_address = sa.Column(sa.String(300), nullable=False, default="")
        delivery_city = sa.Column(sa.String(100), nullable=False, default="")
        delivery_postcode = sa.Column(sa.String(20), nullable=False, default="")
        delivery_country_code = sa.Column(sa.String(2), nullable=False, default="")
        delivery_package_nr = sa.Column(sa.String(100), nullable=False, default="")
        order_page = sa.Column(sa.String(500), nullable=False, default="")
        synced_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    class OrderSync(Model):
        """When a customer's orders were last fetched from Base, and the failure since then."""

        __tablename__ = "responso_chat_order_sync"
        email = sa.Column(sa.String(254), primary_key=True)  # lower-cased
        synced_at = sa.Column(UTCDateTime, nullable=True)
        # The last failure's reason in words, and when failures started (cleared on success).
        error = sa.Column(sa.Text, nullable=False, default="")
        error_at = sa.Column(UTCDateTime, nullable=True)

    class Setting(Model):
        """A plugin setting an admin changes at run time (e.g. the Base API token)."""

        __tablename__ = "responso_chat_setting"
        key = sa.Column(sa.String(64), primary_key=True)
        value = sa.Column(sa.Text, nullable=False, default="")
        updated_at = sa.Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    # --- Public API and webhooks ---

    class ApiToken(Model):
        """An agent's token for the JSON API; only its SHA-256 is stored (shown once)."""

        __tablename__ = "responso_chat_api_token"
        id = sa.Column(sa.Integer, primary_key=True)
        user_id = sa.Column(UserId, nullable=False, index=True)
        name = sa.Column(sa.String(100), nullable=False)
        token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
        last_four = sa.Column(sa.String(4), nullable=False)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        last_used_at = sa.Column(UTCDateTime, nullable=True)
        revoked_at = sa.Column(UTCDateTime, nullable=True)

    class Webhook(Model):
        """A URL an admin registered to receive signed JSON events."""

        __tablename__ = "responso_chat_webhook"
        id = sa.Column(sa.Integer, primary_key=True)
        url = sa.Column(sa.String(2000), nullable=False)
        events = sa.Column(sa.JSON, nullable=False, default=list)
        secret = sa.Column(sa.String(64), nullable=False, default=new_secret)
        enabled = sa.Column(sa.Boolean, nullable=False, default=True)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)

    class WebhookDelivery(Model):
        """One event sent (or being retried) to a webhook: the delivery log's row."""

        __tablename__ = "responso_chat_webhook_delivery"
        __table_args__ = (
            sa.Index("ix_responso_chat_webhook_delivery_log", "webhook_id", "created_at"),
            sa.Index(
                "ix_responso_chat_webhook_delivery_event", "webhook_id", "event_id", unique=True
            ),
        )
        id = sa.Column(sa.Integer, primary_key=True)
        webhook_id = sa.Column(
            sa.Integer,
            sa.ForeignKey("responso_chat_webhook.id", ondelete="CASCADE"),
            nullable=False,
        )
        event = sa.Column(sa.String(40), nullable=False)
        #: The event's id (its payload's ``event_id``): one delivery per webhook and event,
        #: however many times the event's job runs.
        event_id = sa.Column(sa.String(32), nullable=True)
        payload = sa.Column(sa.JSON, nullable=False)
        status_code = sa.Column(sa.Integer, nullable=True)
        error = sa.Column(sa.Text, nullable=False, default="")
        attempt = sa.Column(sa.Integer, nullable=False, default=0)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        delivered_at = sa.Column(UTCDateTime, nullable=True)

    class OutboxEntry(Model):
        """A background job written in the transaction of the change that needs it; the relay
        hands it to RQ (or the in-process runner) once committed (see
        :mod:`responso_chat.infra.outbox`)."""

        __tablename__ = "responso_chat_outbox"
        __table_args__ = (
            sa.Index("ix_responso_chat_outbox_due", "dispatched_at", "available_at"),
        )
        id = sa.Column(sa.Integer, primary_key=True)
        job = sa.Column(sa.String(200), nullable=False)  # the job's dotted path
        args = sa.Column(sa.JSON, nullable=False)
        created_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)
        available_at = sa.Column(UTCDateTime, nullable=False, default=utcnow)  # due from
        attempts = sa.Column(sa.Integer, nullable=False, default=0)  # claims so far
        claimed_by = sa.Column(sa.String(32), nullable=True)  # the relay run holding it
        claimed_until = sa.Column(UTCDateTime, nullable=True)  # ... until then
        dispatched_at = sa.Column(UTCDateTime, nullable=True)  # RQ accepted it (or it ran)

    models = SimpleNamespace(
        Chat=Chat,
        ChatAgent=ChatAgent,
        Team=Team,
        TeamMember=TeamMember,
        Tag=Tag,
        Ticket=Ticket,
        TicketWatcher=TicketWatcher,
        Message=Message,
        Project=Project,
        Task=Task,
        Contact=Contact,
        AutomationRule=AutomationRule,
        AutomationRun=AutomationRun,
        OrderStatus=OrderStatus,
        Order=Order,
        OrderSync=OrderSync,
        Setting=Setting,
        ApiToken=ApiToken,
        Webhook=Webhook,
        WebhookDelivery=WebhookDelivery,
        OutboxEntry=OutboxEntry,
    )
    _models_by_db[db] = models
    return models


def is_plugin_table(name: str | None) -> bool:
    """True for the plugin's own tables, its Alembic version table included."""
    return bool(name) and name.startswith(TABLE_PREFIX)


def _table_of(obj, name, type_) -> str | None:
    return name if type_ == "table" else getattr(getattr(obj, "table", None), "name", name)


#: Trigram (``pg_trgm``) indexes that serve the inbox search on PostgreSQL: name -> (table,
#: columns). A migration creates them when the extension can be installed; they are not in the
#: models (no other database has them), so autogenerate leaves them alone.
SEARCH_INDEXES = {
    "ix_responso_chat_message_body_trgm": ("responso_chat_message", ("body",)),
    "ix_responso_chat_ticket_search_trgm": (
        "responso_chat_ticket", ("subject", "customer_name", "customer_email")
    ),
}


def include_object(obj, name, type_, reflected, compare_to):
    """Alembic ``include_object`` filter of the plugin's migrations: only the plugin's tables
    (and not the PostgreSQL-only :data:`SEARCH_INDEXES`)."""
    if type_ == "index" and name in SEARCH_INDEXES:
        return False
    table = _table_of(obj, name, type_)
    return is_plugin_table(table) and table != VERSION_TABLE


def exclude_object(obj, name, type_, reflected, compare_to):
    """Alembic ``include_object`` filter for a host's own ``Migrate``: all but the plugin's."""
    return not is_plugin_table(_table_of(obj, name, type_))
