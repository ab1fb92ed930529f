"""Base orders in the product: settings, the API client, the order cache and status changes.

- Settings: the API token and URL an admin stores on the "Integrations → Base" page (the
  ``RESPONSO_CHAT_BASE_API_TOKEN`` / ``_URL`` settings until then). The token is write-only:
  it is never shown back, only its last 4 characters.
- Sync: a customer's orders of the last 3 months are fetched by e-mail and upserted into the
  ``Order`` cache (one row per Base order id); status names and colours are cached in
  ``OrderStatus``; ``OrderSync`` records per e-mail the last successful sync and the failure
  since then, so the panel (:mod:`.panel`) can show cached data and say since when Base is
  unreachable.
- Jobs (ids only): :func:`sync_ticket_orders` when a ticket is created, and
  :func:`sync_open_tickets` every ``RESPONSO_CHAT_ORDER_SYNC_INTERVAL`` seconds.
- :func:`change_order_status` is the one function that changes an order's status.

Failures of Base come out as :class:`OrdersError`, whose text says what happened in words.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from responso_chat.conversation import messages
from responso_chat.models import Order, OrderStatus, OrderSync, Setting, Ticket, utcnow
from responso_chat.orders.base_client import (
    ORDER_TEXT_FIELDS,
    BaseApiError,
    BaseClient,
    BaseClientError,
    InProcessRateLimiter,
    RedisRateLimiter,
)
from responso_chat.orders.phones import normalize_phone
from responso_chat.state import plugin_state
from responso_chat.vocab import UNFINISHED_STATUSES

TOKEN_KEY = "base_api_token"
URL_KEY = "base_api_url"
#: Base allows 100 requests a minute per token; one second of slack as Base counts on arrival.
RATE_LIMIT, RATE_PERIOD = 100, 61.0
ORDER_MONTHS = 3
#: Retries of calls a person waits for (test connection, refresh); jobs use the client's 3.
INTERACTIVE_RETRIES = 1
NOT_CONNECTED = "No order source is connected: an admin adds the Base API token under Integrations."

_COLOR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


class OrdersError(Exception):
    """Orders could not be fetched or changed; ``str()`` says why, in words for people."""


def create_rate_limiter(redis_url: str):
    """The Base API limiter of one app: shared through Redis when configured, else in-process."""
    if redis_url:
        from redis import Redis

        return RedisRateLimiter(Redis.from_url(redis_url), limit=RATE_LIMIT, period=RATE_PERIOD)
    return InProcessRateLimiter(limit=RATE_LIMIT, period=RATE_PERIOD)


# --- Settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseSettings:
    """The Base connection as the admin page shows it (never the token itself)."""

    url: str
    token_hint: str  # "…abcd", or "" without a token
    token_source: str  # "saved" (admin page), "configuration" or "" (none)

    @property
    def connected(self) -> bool:
        """Whether a token is available, so orders can be fetched."""
        return bool(self.token_source)


def token_hint(token: str) -> str:
    """What may be shown of a token: ``…`` and its last 4 characters (none of a short one)."""
    return "…" + (token[-4:] if len(token) >= 8 else "")


def _stored(key: str) -> str | None:
    state = plugin_state()
    row = state.db.session.get(Setting, key)
    return row.value if row is not None and row.value else None


def is_connected() -> bool:
    """Whether an API token is stored or configured (an order source is connected)."""
    return bool(_token_and_source()[0])


def _token_and_source() -> tuple[str, str]:
    stored = _stored(TOKEN_KEY)
    if stored:
        return stored, "saved"
    configured = plugin_state().setting("BASE_API_TOKEN")
    return (configured, "configuration") if configured else ("", "")


def base_settings() -> BaseSettings:
    """The Base URL in use and where the token comes from, with the token's last 4 characters."""
    token, source = _token_and_source()
    url = _stored(URL_KEY) or plugin_state().setting("BASE_API_URL")
    return BaseSettings(url=url, token_hint=token_hint(token) if token else "", token_source=source)


def save_base_settings(api_url: str, api_token: str = "", clear_token: bool = False) -> None:
    """Store the API URL and, when given, a new token; ``clear_token`` forgets the stored one.

    A blank token keeps the stored one. The URL of the app's configuration is not stored, so a
    later change of the setting applies.
    """
    state = plugin_state()
    session = state.db.session
    if api_url == state.setting("BASE_API_URL"):
        session.execute(sa.delete(Setting).where(Setting.key == URL_KEY))
    else:
        session.merge(Setting(key=URL_KEY, value=api_url))
    if api_token:
        session.merge(Setting(key=TOKEN_KEY, value=api_token))
    elif clear_token:
        session.execute(sa.delete(Setting).where(Setting.key == TOKEN_KEY))
    session.commit()


def token_needed_for(api_url: str, api_token: str) -> bool:
    """Whether the token must be typed again to use ``api_url``: a token in use is never sent
    to an address other than the current one or the app's configured one."""
    settings = base_settings()
    return (
        settings.connected
        and not api_token
        and api_url not in (settings.url, plugin_state().setting("BASE_API_URL"))
    )


def base_client(*, url: str | None = None, token: str | None = None, retries: int = 3):
    """A :class:`BaseClient` for the stored (or given) URL and token, or None without a token.

    Every client of an app shares its rate limiter, so a token stays under Base's limit.
    """
    state = plugin_state()
    token = token or _token_and_source()[0]
    if not token:
        return None
    return BaseClient(
        token,
        url=url or base_settings().url,
        timeout=state.setting("BASE_TIMEOUT"),
        rate_limiter=state.base_rate_limiter,
        max_blocked_wait=state.setting("BASE_MAX_BLOCKED_WAIT"),
        retries=retries,
    )


def _connected_client(retries: int = 3) -> BaseClient:
    client = base_client(retries=retries)
    if client is None:
        raise OrdersError(NOT_CONNECTED)
    return client


def describe_error(error: BaseClientError) -> str:
    """A Base failure in words for the person waiting on it."""
    if isinstance(error, BaseApiError):
        reason = error.message.rstrip(".") or "no reason given"
        return f"Base refused the request: {reason} ({error.error_code})."
    return f"Base could not be reached: {str(error).removeprefix('Base API ')}."


@dataclass(frozen=True)
class ConnectionTest:
    """The outcome of "Test connection": the statuses found, or the error in words."""

    ok: bool
    statuses: list[dict] = field(default_factory=list)
    error: str = ""


def test_connection(api_url: str | None = None, api_token: str | None = None) -> ConnectionTest:
    """Call ``getOrderStatusList`` with the given (default: stored) URL and token.

    Nothing is stored: an admin may test values before saving them.
    """
    client = base_client(url=api_url, token=api_token, retries=INTERACTIVE_RETRIES)
    if client is None:
        return ConnectionTest(ok=False, error="Enter the API token to test the connection.")
    try:
        with client:
            statuses = client.get_order_status_list()
    except BaseClientError as exc:
        return ConnectionTest(ok=False, error=describe_error(exc))
    return ConnectionTest(ok=True, statuses=[_status_values(s) for s in statuses])


test_connection.__test__ = False  # a service, not a pytest test


# --- Order statuses -------------------------------------------------------------------------


def _status_values(status: dict) -> dict:
    color = status["color"] if _COLOR_RE.fullmatch(status["color"]) else ""
    return {
        "id": status["id"],
        "name": status["name"][:100] or f"Status {status['id']}",
        "name_for_customer": status["name_for_customer"][:100],
        "color": color,
    }


def _store_statuses(statuses: list[dict]) -> None:
    state = plugin_state()
    rows = [_status_values(s) for s in statuses if s["id"] > 0]
    if rows:
        _upsert(OrderStatus, rows, "id", lambda new: {c: new[c] for c in rows[0] if c != "id"})
    state.db.session.execute(
        sa.delete(OrderStatus).where(OrderStatus.id.not_in([row["id"] for row in rows]))
    )
    state.db.session.commit()


def sync_status_list(client: BaseClient | None = None) -> None:
    """Cache the names and colours of Base's order statuses (``getOrderStatusList``)."""
    try:
        with client or _connected_client() as base:
            _store_statuses(base.get_order_status_list())
    except BaseClientError as exc:
        raise OrdersError(describe_error(exc)) from exc


def status_choices() -> list:
    """The cached order statuses, for the status dropdown."""
    state = plugin_state()
    return list(state.db.session.execute(sa.select(OrderStatus).order_by(OrderStatus.id)).scalars())


# --- Order sync -----------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """An e-mail as orders are matched and stored: trimmed, lower case."""
    return (email or "").strip().lower()


def window_start(now: datetime) -> datetime:
    """The start of the order window: the same day and time ``ORDER_MONTHS`` months earlier."""
    months = now.year * 12 + now.month - 1 - ORDER_MONTHS
    year, month = divmod(months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def _upsert(model, rows: list[dict], key: str, updates: Callable) -> None:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` on PostgreSQL and SQLite.

    ``updates(excluded)`` gives the columns to update from the proposed row ``excluded``.
    """
    session = plugin_state().db.session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise RuntimeError(f"Responso Chat's order cache needs PostgreSQL or SQLite, not {dialect}")
    statement = insert(model.__table__).values(rows)
    session.execute(
        statement.on_conflict_do_update(index_elements=[key], set_=updates(statement.excluded))
    )


def _when(unix_time: int) -> datetime | None:
    return datetime.fromtimestamp(unix_time, UTC) if unix_time > 0 else None


def _order_row(order: dict, now: datetime) -> dict:
    """A normalized Base order as an ``Order`` row, text cut to the column sizes."""
    columns = Order.__table__.c
    row = {
        "base_order_id": order["order_id"],
        "shop_order_id": str(order["shop_order_id"] or ""),
        "status_id": order["order_status_id"] or None,
        "date_add": _when(order["date_add"]),
        "date_confirmed": _when(order["date_confirmed"]),
        "date_in_status": _when(order["date_in_status"]),
        "email": normalize_email(order["email"]),
        "phone_digits": normalize_phone(order["phone"]),
        "total": order["total"],
        "payment_done": order["payment_done"],
        "delivery_price": order["delivery_price"],
        "products": [
            {**product, "price_brutto": str(product["price_brutto"])}
            for product in order["products"]
        ],
        "synced_at": now,
    }
    for name in ORDER_TEXT_FIELDS:  # the text fields the cache keeps as they come
        if name in columns and name not in row:
            row[name] = order[name]
    for name, value in row.items():
        if isinstance(value, str):
            row[name] = value[: columns[name].type.length]
    return row


def _store_orders(email: str, orders: list[dict], now: datetime) -> None:
    state = plugin_state()
    rows = [_order_row(order, now) for order in orders]
    if rows:
        _upsert(
            Order,
            rows,
            "base_order_id",
            lambda new: {c: new[c] for c in rows[0] if c != "base_order_id"},
        )
    _upsert(
        OrderSync,
        [{"email": email, "synced_at": now, "error": "", "error_at": None}],
        "email",
        lambda new: {"synced_at": new.synced_at, "error": "", "error_at": None},
    )
    state.db.session.commit()


def _record_failure(emails: Iterable[str], text: str, now: datetime) -> None:
    """Note the failure on each e-mail; ``error_at`` keeps when failures started."""
    state = plugin_state()
    state.db.session.rollback()
    rows = [{"email": email, "synced_at": None, "error": text, "error_at": now} for email in emails]
    if rows:
        _upsert(
            OrderSync,
            rows,
            "email",
            lambda new: {
                "error": new.error,
                "error_at": sa.func.coalesce(OrderSync.__table__.c.error_at, new.error_at),
            },
        )
        state.db.session.commit()


def _sync_emails(client: BaseClient, emails: list[str], *, statuses: bool) -> None:
    """Refresh the statuses (when asked) and each e-mail's orders of the last months.

    On a failure the error is recorded for every e-mail not synced yet, and raised as
    :class:`OrdersError`: Base faults (down, bad token) hit every e-mail alike.
    """
    pending = list(emails)
    try:
        with client:
            if statuses:
                _store_statuses(client.get_order_status_list())
            while pending:
                now = utcnow()
                found = client.get_orders(email=pending[0], date_confirmed_from=window_start(now))
                _store_orders(pending[0], found, now)
                pending.pop(0)
    except BaseClientError as exc:
        text = describe_error(exc)
        _record_failure(pending, text, utcnow())
        raise OrdersError(text) from exc


def sync_customer_orders(email: str, client: BaseClient | None = None) -> None:
    """Fetch the orders of the last 3 months of ``email`` and upsert them into the cache.

    Records the time of the sync, or the failure (raised as :class:`OrdersError`).
    """
    email = normalize_email(email)
    if email:
        _sync_emails(client or _connected_client(), [email], statuses=False)


def fetch_order(base_order_id: int) -> None:
    """Fetch the order with Base id ``base_order_id`` into the cache, whoever's it is (the
    side panel's lookup by number); raises :class:`OrdersError` when Base fails."""
    client = _connected_client(INTERACTIVE_RETRIES)
    try:
        with client:
            found = client.get_orders(order_id=base_order_id)
    except BaseClientError as exc:
        raise OrdersError(describe_error(exc)) from exc
    now = utcnow()
    rows = [_order_row(order, now) for order in found]
    if rows:
        _upsert(Order, rows, "base_order_id",
                lambda new: {c: new[c] for c in rows[0] if c != "base_order_id"})
        plugin_state().db.session.commit()


def refresh_ticket_orders(ticket) -> None:
    """Sync the ticket customer's orders and the statuses now (the panel's Refresh button)."""
    email = normalize_email(ticket.customer_email)
    _sync_emails(_connected_client(INTERACTIVE_RETRIES), [email], statuses=True)


def sync_ticket_orders(ticket_id: int) -> None:
    """Job: fetch the orders of a new ticket's customer (nothing to do without a token)."""
    client = base_client()
    if client is None:
        return
    state = plugin_state()
    ticket = state.db.session.get(Ticket, ticket_id)
    if ticket is None or not normalize_email(ticket.customer_email):
        client.close()
        return
    has_statuses = state.db.session.execute(
        sa.select(sa.exists().select_from(OrderStatus))
    ).scalar()
    _sync_emails(client, [normalize_email(ticket.customer_email)], statuses=not has_statuses)


def sync_open_tickets() -> None:
    """Job: refresh the statuses and the orders of every open or pending ticket's customer."""
    state = plugin_state()
    client = base_client()
    if client is None:
        return
    emails = state.db.session.execute(
        sa.select(sa.func.lower(sa.func.trim(Ticket.customer_email)))
        .where(Ticket.status.in_(UNFINISHED_STATUSES))
        .distinct()
    ).scalars()
    _sync_emails(client, sorted(email for email in emails if email), statuses=True)


# --- Changing an order's status -------------------------------------------------------------


def status_label(status_id: int | None) -> str:
    """A status as a change record names it: its cached name in quotes, or its id."""
    state = plugin_state()
    status = state.db.session.get(OrderStatus, status_id) if status_id else None
    return f"“{status.name}”" if status is not None else f"status {status_id or 'unknown'}"


def change_order_status(ticket, order, status_id: int, by_agent_id, by_name: str):
    """Move ``order`` to ``status_id`` in Base, then in the cache, with a line on the ticket.

    The one service that changes an order's status (the panel and automations call it).
    Calls ``setOrderStatus`` first: when Base refuses or cannot be reached, raises
    :class:`OrdersError` with the reason in words and nothing is written. On success it
    updates the cached order, adds an internal system line naming ``by_name``, commits, then
    publishes the line. Returns the line, or None when the order already had that status.
    """
    status_id = int(status_id)
    if order.status_id == status_id:
        return None
    client = _connected_client()
    state = plugin_state()
    with client:
        try:
            client.set_order_status(order.base_order_id, status_id)
        except BaseClientError as exc:
            raise OrdersError(describe_error(exc)) from exc
        if state.db.session.get(OrderStatus, status_id) is None:
            try:  # a status added in Base since the last sync: learn its name
                _store_statuses(client.get_order_status_list())
            except BaseClientError:
                pass  # the line names the status by its id
    previous = status_label(order.status_id)
    order.status_id = status_id
    order.date_in_status = utcnow()
    text = (
        f"{by_name} changed the status of Base order {order.base_order_id} "
        f"from {previous} to {status_label(status_id)}"
    )
    return messages.post_system_line(ticket, text, author_id=by_agent_id)
