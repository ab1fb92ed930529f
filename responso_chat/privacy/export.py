"""Export a contact's data: a ZIP holding ``contact.json`` and the files of their tickets.

``contact.json`` holds the contact, their tickets (with tags), every message of those tickets
(time, author kind and name, text, internal or not), the mails sent or received about them,
the Base orders cached for the address, and the rows of any other table that points at those
tickets (ratings, attachments' descriptions: ``other_records`` by table). Internal notes are
included: they are data about the person too; the admin reads the export before handing it
over. The export is recorded in the privacy log (counts only).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from responso_chat.models import (
    MailRecord,
    Message,
    Order,
    Ticket,
    metadata,
    utcnow,
)
from responso_chat.privacy import attachments, records, scope
from responso_chat.state import plugin_state
from responso_chat.version import __version__

#: Tables the export already shows in their own section (the others pointing at tickets go
#: to ``other_records``).
_SHOWN = {
    "responso_chat_message",
    "responso_chat_mail",
    "responso_chat_task",
    "responso_chat_ticket_tag",
    "responso_chat_ticket_watcher",
    "responso_chat_automation_run",
}


@dataclass(frozen=True)
class Archive:
    """An export: the ZIP's bytes and the file name to download it as."""

    data: bytes
    filename: str
    counts: dict


def _plain(value):
    """A column's value as JSON has it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj, names) -> dict:
    return {name: _plain(getattr(obj, name)) for name in names}


TICKET_FIELDS = (
    "id", "channel", "chat_name", "subject", "customer_name", "customer_email", "status",
    "priority", "created_at", "last_message_at", "ended_at", "page_url", "page_title",
    "language",
)
MESSAGE_FIELDS = ("ticket_id", "seq", "created_at", "author_kind", "author_name", "body",
                  "internal", "seen_at")
MAIL_FIELDS = ("ticket_id", "kind", "state", "address", "subject", "created_at", "done_at")
ORDER_FIELDS = (
    "base_order_id", "shop_order_id", "status_id", "date_add", "date_confirmed", "email",
    "phone", "currency", "total", "products", "payment_method", "payment_done",
    "delivery_method", "delivery_price", "delivery_fullname", "delivery_address",
    "delivery_city", "delivery_postcode", "delivery_country_code", "delivery_package_nr",
    "synced_at",
)


def contact_data(session, contact) -> dict:
    """Everything :func:`export_contact` writes to ``contact.json``."""
    email = scope.normal_email(contact.email)
    ticket_ids = scope.ticket_ids_of_email(session, email)
    tickets = session.scalars(
        sa.select(Ticket).where(Ticket.id.in_(ticket_ids)).options(selectinload(Ticket.tags))
        .order_by(Ticket.id)
    ).all()
    message_rows = session.scalars(
        sa.select(Message).where(Message.ticket_id.in_(ticket_ids))
        .order_by(Message.ticket_id, Message.seq)
    ).all()
    mails = session.scalars(
        sa.select(MailRecord).where(
            sa.or_(MailRecord.ticket_id.in_(ticket_ids), sa.func.lower(MailRecord.address) == email)
        ).order_by(MailRecord.id)
    ).all()
    orders = session.scalars(
        sa.select(Order).where(sa.func.lower(Order.email) == email).order_by(Order.date_add)
    ).all() if email else []
    return {
        "format": "responso-chat-contact-export/1",
        "exported_at": utcnow().isoformat(),
        "plugin_version": __version__,
        "contact": _row(contact, ("id", "name", "email", "phone", "notes", "created_at")),
        "tickets": [
            {**_row(ticket, TICKET_FIELDS), "tags": [tag.name for tag in ticket.tags]}
            for ticket in tickets
        ],
        "messages": [_row(message, MESSAGE_FIELDS) for message in message_rows],
        "mails": [_row(mail, MAIL_FIELDS) for mail in mails],
        "orders": [_row(order, ORDER_FIELDS) for order in orders],
        "other_records": _other_records(session, ticket_ids),
    }


def _other_records(session, ticket_ids) -> dict:
    """Rows of the other tables pointing at the tickets (ratings, ...), by table."""
    found = {}
    if not ticket_ids:
        return found
    ticket_table = Ticket.__table__
    for table in metadata.sorted_tables:
        if table.name in _SHOWN:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is ticket_table:
                rows = session.execute(
                    sa.select(table).where(fk.parent.in_(ticket_ids))
                ).mappings()
                values = [{key: _plain(value) for key, value in row.items()} for row in rows]
                if values:
                    found[table.name.removeprefix("responso_chat_")] = values
    return found


def export_contact(contact, actor) -> Archive:
    """The ZIP of ``contact``'s data, recorded in the privacy log as exported by ``actor``."""
    session = plugin_state().db.session
    data = contact_data(session, contact)
    ticket_ids = [ticket["id"] for ticket in data["tickets"]]
    files, gone = attachments.ticket_files_for_export(session, ticket_ids)
    if gone:
        data["files_missing"] = gone
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "contact.json", json.dumps(data, ensure_ascii=False, indent=2, default=str)
        )
        for name, content in files:
            archive.writestr(name, content)
    counts = {
        "tickets": len(data["tickets"]),
        "messages": len(data["messages"]),
        "mails": len(data["mails"]),
        "orders": len(data["orders"]),
        "files": len(files),
    }
    try:
        records.add("export", contact.id, actor, counts)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return Archive(buffer.getvalue(), f"contact-{contact.id}-export.zip", counts)
