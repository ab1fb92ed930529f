"""The JSON API's privacy routes: export and erase a contact's data (admins' tokens only).
They join the API blueprint (:data:`.api.bp`): the same token check, errors and OpenAPI
document."""

from __future__ import annotations

from flask import jsonify

from responso_chat.inbox import contacts
from responso_chat.openapi import operation
from responso_chat.privacy import erase, export, records
from responso_chat.schemas.privacy import ApiErasureSchema, EraseConfirmSchema
from responso_chat.users import as_agent

from .api import _admins_only, _body, _found, _id, _user, bp
from .privacy import zip_download


@bp.get("/contacts/<contact_id>/export")
@operation(
    "Export a contact's data", "Contacts", response=None, media_type="application/zip",
    admin=True,
)
def contact_export(contact_id):
    """A ZIP of everything held about the contact: ``contact.json`` (the contact, the tickets
    of their e-mail address with every message, the mails, the cached Base orders and other
    records of those tickets) and the files of those tickets under ``files/``. Recorded in the
    privacy log."""
    _admins_only()
    contact = _found(contacts.get_contact(_id(contact_id)))
    return zip_download(export.export_contact(contact, as_agent(_user())))


@bp.post("/contacts/<contact_id>/erase")
@operation(
    "Erase a contact's data", "Contacts", body=EraseConfirmSchema, response=ApiErasureSchema,
    admin=True,
)
def contact_erase(contact_id):
    """Anonymise everything held about the contact, in one transaction: the messages of the
    tickets of their e-mail address read ``[erased]``, the tickets lose the customer's name,
    address and subject (and their visitor tokens stop working), cached orders, mail bodies
    and addresses, webhook deliveries and files go, the contact keeps no name, phone or notes.
    Each ticket gets a system line saying who erased it and when. ``confirm`` must be the
    contact's e-mail address. Erasing again changes nothing and says when it was done
    (``erased`` false)."""
    _admins_only()
    contact = _found(contacts.get_contact(_id(contact_id)))
    try:
        values = _body(EraseConfirmSchema())
        erasure = erase.erase_contact(contact, as_agent(_user()), values["confirm"])
    except erase.AlreadyErased as done:
        body = {
            "contact_id": contact.id,
            "erased": False,
            "message": str(done),
            "erased_at": done.record.created_at if done.record is not None else None,
            "counts": {},
        }
        return jsonify(ApiErasureSchema().dump(body))
    body = {
        "contact_id": contact.id,
        "erased": True,
        "message": f"The contact's data was erased ({records.describe_counts(erasure.counts)}).",
        "erased_at": erasure.record.created_at,
        "counts": erasure.counts,
    }
    return jsonify(ApiErasureSchema().dump(body))
