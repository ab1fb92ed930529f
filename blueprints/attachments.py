"""Messages sent with files, and the files themselves: routes that join the widget's, the
inbox's and the API's blueprints (each with its own credentials and access rules).

- ``POST /widget/tickets/attachments``: the customer (visitor token, rate limited).
- ``POST /inbox/tickets/<id>/attachments``: an agent with access to the ticket (session and
  CSRF token, as every inbox change).
- ``POST /api/tickets/<id>/attachments``: an API token's agent.
- ``GET /widget/files/<file_token>``: a file by its signed, expiring URL (no other
  credential: the URL is given only to those who may see its message).

Uploads are ``multipart/form-data``: the files in ``files`` (one or more), the message's text
in ``body`` (may be empty) and ``client_msg_id``. Refusals are JSON
``{"errors": {"files": [...]}}``: 413 for a file over ``FILES_MAX_SIZE``, 422 otherwise.
"""

from __future__ import annotations

import io

from flask import abort, jsonify, make_response, request, send_file
from flask_login import current_user
from marshmallow import ValidationError

from responso_chat.conversation import messages, wire
from responso_chat.files import attachments, types, upload
from responso_chat.files.images import FileRefused
from responso_chat.openapi import operation
from responso_chat.schemas.api_output import ApiMessageSchema
from responso_chat.schemas.common import UNSTORABLE_MESSAGE, unstorable
from responso_chat.schemas.files import (
    AgentFilesMessageSchema,
    ApiFilesMessageSchema,
    FilesMessageSchema,
)
from responso_chat.users import as_agent

from . import api, inbox, widget

#: Endpoints whose requests carry files: the parent blueprint allows them larger bodies.
UPLOAD_ENDPOINTS = frozenset({
    "responso_chat.widget.upload_files",
    "responso_chat.inbox.upload_files",
    "responso_chat.api.upload_files",
})
#: The policy of a served file: nothing in it runs, even opened on its own.
FILE_CSP = "default-src 'none'; sandbox"


def _form(schema):
    """The upload's text fields through ``schema``, or a 400/422 in JSON. The body is read
    here, once the view has checked the credentials (the parent blueprint does not read an
    upload's body: a stranger's 50 MB is refused unread)."""
    if unstorable([*request.form.lists()]):
        abort(make_response(jsonify(errors={"_request": [UNSTORABLE_MESSAGE]}), 400))
    try:
        return schema.load(request.form.to_dict())
    except ValidationError as exc:
        abort(make_response(jsonify(errors=exc.messages), 422))


def _refused(exc: FileRefused):
    return jsonify(errors={"files": [exc.message]}), exc.status


def _files():
    return request.files.getlist("files")


@widget.bp.post("/tickets/attachments")
def upload_files():
    """The customer sends files (and optionally text) into their conversation."""
    ticket = widget._visitor_ticket()
    widget._allow_origin(ticket.chat)
    widget._limit("FILES_UPLOAD_RATE_LIMIT", "upload")
    values = _form(FilesMessageSchema())
    try:
        message, created = upload.post_customer_files(
            ticket, _files(), values["body"], values["client_msg_id"]
        )
    except FileRefused as exc:
        return _refused(exc)
    except messages.ConversationEnded:
        widget._fail(409, "_request", "This conversation has ended; start a new chat.")
    return jsonify(message=message.committed_event), 201 if created else 200


@inbox.bp.post("/tickets/<int:ticket_id>/attachments", endpoint="upload_files")
def inbox_upload_files(ticket_id: int):
    """The agent replies (or writes a note) with files; JSON answers only (the composer's
    upload is an XMLHttpRequest, for its progress bar)."""
    ticket = inbox._ticket_or_404(ticket_id)
    values = _form(AgentFilesMessageSchema())
    try:
        message, _created = upload.post_agent_files(
            ticket, as_agent(current_user), _files(), values["body"],
            client_msg_id=values["client_msg_id"], internal=values["internal"],
            reopen=values["reopen"],
        )
    except FileRefused as exc:
        return _refused(exc)
    except messages.ReopenRequired:
        errors = {"body": [inbox.REOPEN_FIRST.format(status=ticket.status)]}
        return jsonify(errors=errors, reopen_required=True, status=ticket.status), 409
    return jsonify(message=wire.message(message)), 201


@api.bp.post("/tickets/<ticket_id>/attachments", endpoint="upload_files")
@operation(
    "Reply with files",
    "Messages",
    body=ApiFilesMessageSchema,
    body_type="multipart/form-data",
    response=ApiMessageSchema,
    status=201,
)
def api_upload_files(ticket_id):
    """The token's agent replies (or writes a note, ``internal``) with files, sent as
    ``multipart/form-data`` (``files``, ``body``, ``client_msg_id``). Each file's type is
    read from its content; the types, size and count allowed are the plugin's settings."""
    ticket = api._ticket(ticket_id)
    values = _form(AgentFilesMessageSchema())
    try:
        message, _created = upload.post_agent_files(
            ticket, as_agent(api._user()), _files(), values["body"],
            client_msg_id=values["client_msg_id"], internal=values["internal"], reopen=True,
        )
    except FileRefused as exc:
        return _refused(exc)
    attachments.describe_messages([message], absolute=True)  # the API's URLs are absolute
    return jsonify(ApiMessageSchema().dump(message)), 201


@widget.bp.get("/files/<file_token>")
def serve_file(file_token):
    """A file by its signed URL: raster images inline (``?download=1``: as a download),
    everything else as a download; never sniffed, never run."""
    found = attachments.open_file(file_token)
    if found is None:
        abort(make_response(jsonify(errors={"_request": [
            "This link is not valid or has expired: open the conversation again."]}), 404))
    attachment, data, thumbnail = found
    inline = attachment.content_type in types.IMAGES and not request.args.get("download")
    mimetype = attachment.content_type
    name = attachment.name
    if thumbnail:
        mimetype = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        name = "thumbnail-" + name.rsplit(".", 1)[0] + (".png" if mimetype == "image/png"
                                                         else ".jpg")
    response = send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=name,
        max_age=3600, etag=False, conditional=False,
    )
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
