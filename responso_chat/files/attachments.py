"""Attachments of messages: checked, stored, described with signed URLs, served, deleted.

Uploads are one step: a request carries the files with the message (its text may be empty),
so no attachment ever exists without its message and nothing is left to clean up later. The
files are examined and their bytes stored first (under new random keys), then the message and
its attachment rows commit together; when that fails, or the message was a resend already
stored, the new bytes are removed again (:func:`discard`).

File URLs are signed (itsdangerous, with the host's ``SECRET_KEY``) and expire: a URL names
one attachment, so it reaches nothing else, and nobody can make one for another file.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm.attributes import set_committed_value

from responso_chat.files import types
from responso_chat.files.images import Examined, FileRefused, examine
from responso_chat.files.storage import storage
from responso_chat.infra import outbox
from responso_chat.models import Attachment, Message, utcnow
from responso_chat.state import plugin_state

log = logging.getLogger(__name__)

#: The job that removes stored bytes once the rows that named them are gone.
DELETE_BLOBS = "responso_chat.files.attachments.delete_blobs"
_SALT = "responso-chat-file"


@dataclass(frozen=True)
class Stored:
    """An examined file whose bytes (and thumbnail) are in the storage under these keys."""

    file: Examined
    key: str
    thumbnail_key: str | None


@dataclass(frozen=True)
class NewFiles:
    """Stored files to attach to the message being written, and who sent them."""

    stored: list
    uploader_kind: str
    uploader_id: str | None = None


# --- checking and storing ----------------------------------------------------------------------


def _read_limited(upload, limit: int) -> bytes:
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(
            f"“{(upload.filename or 'This file')[:100]}” is larger than "
            f"{limit / 1024 / 1024:.0f} MB.", 413
        )
    return data


def examine_uploads(uploads) -> list[Examined]:
    """The request's uploaded files (werkzeug ``FileStorage``), examined; raises
    :class:`FileRefused` for none, too many, too large or refused ones (nothing stored)."""
    state = plugin_state()
    uploads = [u for u in uploads if u is not None and (u.filename or u.content_length)]
    most = state.setting("FILES_PER_MESSAGE")
    if not uploads:
        raise FileRefused("Attach a file.")
    if len(uploads) > most:
        raise FileRefused(f"Attach at most {most} files to one message.")
    allowed = types.parse_types(state.setting("FILES_ALLOWED_TYPES"))
    limit, pixels = state.setting("FILES_MAX_SIZE"), state.setting("FILES_MAX_PIXELS")
    return [
        examine(_read_limited(upload, limit), upload.filename or "", allowed, pixels)
        for upload in uploads
    ]


def _new_key(ticket_id: int, extension: str, thumbnail: bool = False) -> str:
    suffix = ".thumb" if thumbnail else ""
    return f"t{ticket_id}/{secrets.token_urlsafe(24)}{suffix}.{extension}"


def store(ticket_id: int, files: list[Examined]) -> list[Stored]:
    """Put the files' bytes (and thumbnails) into the storage under new keys; on a failure
    the ones already put are removed and the error goes on."""
    backend, done = storage(), []
    try:
        for file in files:
            key = _new_key(ticket_id, types.extension_of(file.content_type))
            backend.put(key, file.data, file.content_type)
            done.append(Stored(file, key, None))
            if file.thumbnail is not None:
                thumb_png = file.thumbnail.startswith(b"\x89PNG")
                thumb_key = _new_key(ticket_id, "png" if thumb_png else "jpg", thumbnail=True)
                backend.put(thumb_key, file.thumbnail, "image/png" if thumb_png else "image/jpeg")
                done[-1] = Stored(file, key, thumb_key)
    except BaseException:
        discard(done)
        raise
    return done


def discard(stored: list[Stored]) -> None:
    """Remove the bytes stored for a message that was not written after all: those no row
    names (a failure after its commit keeps the files of the message it wrote). Call it
    with the session rolled back."""
    keys = [key for item in stored for key in (item.key, item.thumbnail_key) if key]
    try:
        unused = _unnamed(keys)
    except Exception:  # the database is unreachable: keeping a file beats losing one
        log.exception("could not tell which stored files are unused; they are kept")
        return
    backend = storage()
    for key in unused:
        try:
            backend.delete(key)
        except Exception:
            log.exception("could not remove an unused stored file")


def _unnamed(keys: list[str]) -> list[str]:
    """Those of ``keys`` that no attachment row names."""
    session = plugin_state().db.session
    still = set(session.scalars(
        sa.select(Attachment.storage_key).where(Attachment.storage_key.in_(keys))
    )) | set(session.scalars(
        sa.select(Attachment.thumbnail_key).where(Attachment.thumbnail_key.in_(keys))
    ))
    return [key for key in keys if key not in still]


def record(message, new: NewFiles | None) -> list[dict]:
    """Write the attachment rows of ``message`` in the current transaction, and put their
    descriptions on it (``message.attachment_views``, read by its wire event)."""
    if not new or not new.stored:
        return []
    session = plugin_state().db.session
    table, rows, now = Attachment.__table__, [], utcnow()
    for item in new.stored:
        row = {
            "ticket_id": message.ticket_id,
            "message_id": message.id,
            "uploader_kind": new.uploader_kind,
            "uploader_id": new.uploader_id,
            "name": item.file.name,
            "content_type": item.file.content_type,
            "size": len(item.file.data),
            "width": item.file.width,
            "height": item.file.height,
            "storage_key": item.key,
            "thumbnail_key": item.thumbnail_key,
            "created_at": now,
        }
        row["id"] = session.execute(sa.insert(table).values(row).returning(table.c.id)).scalar_one()
        rows.append(Attachment(**row))
    session.execute(
        sa.update(Message.__table__)
        .where(Message.__table__.c.id == message.id)
        .values(attachment_count=len(rows))
    )
    set_committed_value(message, "attachment_count", len(rows))
    message.attachment_views = [describe(row) for row in rows]
    return message.attachment_views


# --- describing and signing --------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def _fingerprint(attachment, thumbnail: bool) -> str:
    """A digest of the stored file's random key: a token names the file, not only its row,
    so an id the database gives again after a deletion (SQLite reuses the highest) never
    leads an old link to somebody else's file."""
    key = attachment.thumbnail_key if thumbnail else attachment.storage_key
    return hashlib.blake2s(key.encode(), digest_size=9).hexdigest()


def file_token(attachment, thumbnail: bool = False, max_age: int | None = None) -> str:
    """A signed token naming one attachment's file (or its thumbnail), valid ``max_age``
    seconds (``FILES_URL_MAX_AGE`` when None)."""
    max_age = plugin_state().setting("FILES_URL_MAX_AGE") if max_age is None else max_age
    return _serializer().dumps([attachment.id, int(thumbnail), int(time.time()) + max_age,
                                _fingerprint(attachment, thumbnail)])


def read_file_token(token: str, now: float | None = None) -> tuple[int, bool, str] | None:
    """``(attachment id, thumbnail, fingerprint)`` of a valid, unexpired token; None
    otherwise."""
    try:
        value = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(value, list) and len(value) == 4 and isinstance(value[3], str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value[:3])):
        return None
    attachment_id, thumbnail, expires, fingerprint = value
    if expires < (time.time() if now is None else now):
        return None
    return attachment_id, bool(thumbnail), fingerprint


def public_base() -> str:
    """Where the plugin is reached from outside: the request's host, else the shop's public
    address (``MAIL_SHOP_URL``, for jobs: webhooks and e-mails), else "" (paths only)."""
    if has_request_context():
        return request.host_url.rstrip("/")
    parts = urlsplit(plugin_state().setting("MAIL_SHOP_URL") or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def file_url(attachment, thumbnail: bool = False, max_age: int | None = None,
             base: str | None = None) -> str:
    """The signed URL of an attachment's file (or thumbnail)."""
    prefix = plugin_state().setting("URL_PREFIX")
    token = file_token(attachment, thumbnail, max_age)
    return f"{public_base() if base is None else base}{prefix}/widget/files/{token}"


def describe(attachment, max_age: int | None = None, absolute: bool = False) -> dict:
    """What clients see of an attachment: its name, type, size, whether it is an image
    (shown inline) and the signed URLs of its file and thumbnail.

    The pages' URLs are paths (``/chat/widget/files/...``): the widget resolves them against
    the plugin's address it was loaded from, the inbox against its own, so a proxy in front
    (https outside, http inside) changes nothing. ``absolute`` ones, for the API, webhooks and
    e-mails, start with :func:`public_base`."""
    base = public_base() if absolute else ""
    image = attachment.content_type in types.IMAGES
    return {
        "id": attachment.id,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "image": image,
        "width": attachment.width,
        "height": attachment.height,
        "url": file_url(attachment, False, max_age, base),
        "thumbnail_url": (
            file_url(attachment, True, max_age, base) if attachment.thumbnail_key else None
        ),
    }


def describe_messages(messages, max_age: int | None = None, absolute: bool = False) -> None:
    """Put the descriptions of their attachments on ``messages`` (``attachment_views``), read
    in one query."""
    messages = list(messages)
    for message in messages:
        message.attachment_views = []
    # only messages that carry files (or whose count was not read) are looked up
    messages = [m for m in messages if m.__dict__.get("attachment_count", 1)]
    if not messages:
        return
    found: dict[int, list] = {m.id: [] for m in messages}
    rows = plugin_state().db.session.scalars(
        sa.select(Attachment).where(Attachment.message_id.in_(found)).order_by(Attachment.id)
    )
    for row in rows:
        found[row.message_id].append(describe(row, max_age, absolute))
    for message in messages:
        message.attachment_views = found[message.id]


# --- serving, reading, deleting ----------------------------------------------------------------


def open_file(token: str):
    """``(attachment, bytes, thumbnail)`` a signed token names, or None (bad or expired
    token, attachment deleted, bytes gone)."""
    found = read_file_token(token)
    if found is None:
        return None
    attachment_id, thumbnail, fingerprint = found
    attachment = plugin_state().db.session.get(Attachment, attachment_id)
    if attachment is None or (thumbnail and not attachment.thumbnail_key):
        return None
    if not hmac.compare_digest(fingerprint, _fingerprint(attachment, thumbnail)):
        return None  # the id of a deleted attachment, given again to another one
    key = attachment.thumbnail_key if thumbnail else attachment.storage_key
    try:
        data = storage().get(key)
    except FileNotFoundError:
        return None
    return attachment, data, thumbnail


def attachments_of_tickets(session, ticket_ids) -> list:
    """Every attachment of these tickets, in order (for exports and erasure)."""
    ids = list(ticket_ids)
    if not ids:
        return []
    return list(session.scalars(
        sa.select(Attachment).where(Attachment.ticket_id.in_(ids)).order_by(Attachment.id)
    ))


def read_attachment(attachment) -> bytes:
    """The stored bytes of an attachment (the re-encoded image for images)."""
    return storage().get(attachment.storage_key)


def delete_ticket_files(session, ticket_ids) -> int:
    """Delete the attachments of these tickets: their rows now, in the caller's transaction,
    and their bytes by a job that commits with it (a rollback keeps rows and files). Call it
    before deleting the tickets; returns how many attachments went."""
    rows = attachments_of_tickets(session, ticket_ids)
    keys = [key for row in rows for key in (row.storage_key, row.thumbnail_key) if key]
    if not rows:
        return 0
    session.execute(
        sa.delete(Attachment)
        .where(Attachment.id.in_([row.id for row in rows]))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(Message.__table__)
        .where(Message.__table__.c.ticket_id.in_(list(ticket_ids)))
        .values(attachment_count=0)
    )
    for start in range(0, len(keys), 200):
        outbox.add(DELETE_BLOBS, keys[start:start + 200])
    return len(rows)


def delete_blobs(keys: list[str]) -> None:
    """The job: remove stored bytes whose rows are gone (idempotent: a key already gone is
    no error; a key some row still names is kept)."""
    backend = storage()
    for key in _unnamed(keys):
        backend.delete(key)

