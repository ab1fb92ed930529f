"""Attachments: files customers and agents send with their messages.

Stored through one interface (:mod:`.storage`: a local folder by default, S3-compatible
object storage as an option), typed by their content (:mod:`.images`, :mod:`.types`), served
through signed expiring URLs, deleted with their ticket (:mod:`.attachments`). What other
features use::

    from responso_chat.files import attachments_of_tickets, delete_ticket_files, read_attachment
"""

from responso_chat.files.attachments import (
    attachments_of_tickets,
    delete_ticket_files,
    read_attachment,
)

__all__ = ["attachments_of_tickets", "delete_ticket_files", "read_attachment"]
