"""The text fields of a message sent with files (the files themselves are examined by
:mod:`responso_chat.files`): from the widget, the inbox and the API."""

from __future__ import annotations

from marshmallow import fields, validate, validates

from responso_chat.schemas.common import RepliesFilled, TrimmedForm, check_message_length


class FilesMessageSchema(TrimmedForm):
    """A message carrying files: its text may be empty. Form fields of a multipart request
    (the files go in ``files``)."""

    body = fields.String(load_default="")
    client_msg_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))

    @validates("body")
    def _body_length(self, value, **_kwargs):
        check_message_length(value)


class AgentFilesMessageSchema(RepliesFilled, FilesMessageSchema):
    """An agent's reply or internal note carrying files."""

    internal = fields.Boolean(load_default=False)
    reopen = fields.Boolean(
        load_default=False,
        metadata={"description": "Reopen a solved, closed or spam ticket with this reply."},
    )


class ApiFilesMessageSchema(AgentFilesMessageSchema):
    """An agent's reply or note with files, as the API's document describes it: the text
    fields and ``files``, one or more files (``multipart/form-data``)."""

    files = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        required=True,
        metadata={"description": "The files: their type is read from their content."},
    )
