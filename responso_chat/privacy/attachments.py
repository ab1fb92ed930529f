"""Where privacy meets attachments: a contact's files in the export, and files deleted with
an erasure or the retention job, through :mod:`responso_chat.files`."""

from __future__ import annotations

import re

from responso_chat import files

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _zip_name(attachment) -> str:
    """The attachment's path inside the export: ``files/<ticket id>/<id>-<file name>``."""
    name = _UNSAFE_NAME.sub("_", attachment.name).strip("._") or "file"
    return f"files/{attachment.ticket_id}/{attachment.id}-{name[:100]}"


def ticket_files_for_export(session, ticket_ids) -> tuple[list[tuple[str, bytes]], list[str]]:
    """``(path in the ZIP, content)`` of every attachment of the tickets, for a contact's
    export, and the paths of those whose stored bytes are gone (the export lists them
    instead of failing)."""
    found, gone = [], []
    for attachment in files.attachments_of_tickets(session, list(ticket_ids or ())):
        name = _zip_name(attachment)
        try:
            found.append((name, files.read_attachment(attachment)))
        except FileNotFoundError:
            gone.append(name)
    return found, gone


def delete_ticket_files(session, ticket_ids) -> int:
    """Delete the attachments of these tickets in the caller's transaction (their stored
    bytes by a job that commits with it); returns how many. Called by an erasure and by the
    retention job before the tickets' rows change or go."""
    return files.delete_ticket_files(session, list(ticket_ids)) if ticket_ids else 0
