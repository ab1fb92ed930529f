"""The privacy log: one row per export, erasure or retention run (see
:class:`responso_chat.models.PrivacyRecord`). Rows are added in the transaction of what they
record, so the log and the change commit together."""

from __future__ import annotations

import sqlalchemy as sa

from responso_chat.models import PrivacyRecord, utcnow
from responso_chat.state import plugin_state

#: Rows shown on a contact's page and on the admins' privacy page.
SHOWN = 50


def add(action: str, contact_id: int | None, actor, counts: dict) -> PrivacyRecord:
    """Add (without committing) a record of ``action`` by ``actor`` (an Agent, or None for
    the retention job) with the rows it concerned, by kind."""
    record = PrivacyRecord(
        action=action,
        contact_id=contact_id,
        actor_id=None if actor is None else str(actor.id),
        actor_name="" if actor is None else (actor.name or "")[:100],
        counts={key: int(value) for key, value in counts.items()},
        created_at=utcnow(),
    )
    plugin_state().db.session.add(record)
    return record


def contact_records(contact_id: int, limit: int = SHOWN) -> list[PrivacyRecord]:
    """The exports and erasures of a contact's data, newest first."""
    return list(
        plugin_state().db.session.scalars(
            sa.select(PrivacyRecord)
            .where(PrivacyRecord.contact_id == contact_id)
            .order_by(PrivacyRecord.created_at.desc(), PrivacyRecord.id.desc())
            .limit(limit)
        )
    )


def last_erasure(contact_id: int) -> PrivacyRecord | None:
    """The latest erasure of a contact's data, if any."""
    return plugin_state().db.session.scalars(
        sa.select(PrivacyRecord)
        .where(PrivacyRecord.contact_id == contact_id, PrivacyRecord.action == "erase")
        .order_by(PrivacyRecord.created_at.desc(), PrivacyRecord.id.desc())
        .limit(1)
    ).first()


def recent_records(actions=None, limit: int = SHOWN) -> list[PrivacyRecord]:
    """The latest records (of ``actions`` when given), newest first: the admins' page."""
    query = sa.select(PrivacyRecord)
    if actions is not None:
        query = query.where(PrivacyRecord.action.in_(list(actions)))
    return list(
        plugin_state().db.session.scalars(
            query.order_by(PrivacyRecord.created_at.desc(), PrivacyRecord.id.desc()).limit(limit)
        )
    )


def describe_counts(counts: dict) -> str:
    """``{"tickets": 2, "messages": 14}`` as "2 tickets, 14 messages" (kinds with rows only)."""
    parts = []
    for kind, number in (counts or {}).items():
        if number:
            label = kind.replace("_", " ")
            if number == 1:
                label = label[:-3] + "y" if label.endswith("ies") else label.removesuffix("s")
            parts.append(f"{number} {label}")
    return ", ".join(parts) or "nothing"
