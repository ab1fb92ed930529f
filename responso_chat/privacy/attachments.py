"""Where privacy meets attachments: the three places that export or delete a ticket's files.

Attachments live in :mod:`responso_chat.files` (storage backends and the attachment rows).
When that package is installed beside this one, these functions go through its interface:
``attachments_of_tickets(session, ticket_ids)``, ``read_attachment(attachment) -> bytes`` and
``delete_ticket_files(session, ticket_ids)``. Without it no ticket can have a file, so there
is nothing to export or delete.
"""

from __future__ import annotations

import re

try:
    import responso_chat.files as files
except ModuleNotFoundError as missing:  # a version of the plugin without attachments
    if missing.name != "responso_chat.files":
        raise
    files = None

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _zip_name(attachment) -> str:
    """The attachment's path inside the export: ``files/<ticket id>/<id>-<file name>``."""
    name = getattr(attachment, "filename", None) or getattr(attachment, "name", None) or "file"
    name = _UNSAFE_NAME.sub("_", str(name)).strip("._") or "file"
    return f"files/{attachment.ticket_id}/{attachment.id}-{name[:100]}"


def ticket_files_for_export(session, ticket_ids) -> list[tuple[str, bytes]]:
    """``(path in the ZIP, content)`` of every attachment of the tickets, for a contact's
    export."""
    if files is None or not ticket_ids:
        return []
    return [
        (_zip_name(attachment), files.read_attachment(attachment))
        for attachment in files.attachments_of_tickets(session, list(ticket_ids))
    ]


def delete_contact_files(session, ticket_ids) -> int:
    """Delete the attachments of an erased contact's tickets (their files in storage and
    their rows); returns how many. Called last in the erasure's transaction."""
    return _delete(session, ticket_ids)


def delete_expired_ticket_files(session, ticket_ids) -> int:
    """Delete the attachments of tickets the retention job deletes; returns how many. Called
    before the tickets' rows are deleted, in the same transaction."""
    return _delete(session, ticket_ids)


def _delete(session, ticket_ids) -> int:
    if files is None or not ticket_ids:
        return 0
    ticket_ids = list(ticket_ids)
    number = len(list(files.attachments_of_tickets(session, ticket_ids)))
    files.delete_ticket_files(session, ticket_ids)
    return number
