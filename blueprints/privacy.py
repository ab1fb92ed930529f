"""Privacy pages: a contact's "Export data" and "Erase contact" (admins), and the admins'
privacy page (retention and the log). The contact views join the inbox blueprint
(:data:`.inbox.bp`), the privacy page the admin one (:data:`.admin.bp`)."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from responso_chat.inbox import contacts
from responso_chat.privacy import erase, export, records, scope
from responso_chat.schemas.privacy import EraseConfirmSchema
from responso_chat.state import plugin_state
from responso_chat.users import admin_required, as_agent

from .admin import bp as admin_bp
from .inbox import _load_and_change, _payload
from .inbox import bp as inbox_bp


@inbox_bp.context_processor
def _privacy_context():
    """``contact_privacy(contact)`` for the contact page: erased or not, and its log."""

    def contact_privacy(contact) -> dict:
        return {
            "erased": scope.is_erased(contact),
            "records": records.contact_records(contact.id),
            "describe": records.describe_counts,
        }

    return {"contact_privacy": contact_privacy}


def _contact_or_404(contact_id: int):
    contact = contacts.get_contact(contact_id)
    if contact is None:
        abort(404)
    return contact


def _contact_page(contact):
    return redirect(url_for("responso_chat.inbox.contact_page", contact_id=contact.id), 303)


def zip_download(archive: export.Archive):
    """The export as a ZIP download, never kept by a cache (the API answers it too)."""
    response = send_file(
        io.BytesIO(archive.data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=archive.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@inbox_bp.post("/contacts/<int:contact_id>/export")
@admin_required
def contact_export(contact_id: int):
    """Download the contact's data as a ZIP (``contact.json`` and their tickets' files); the
    export is recorded on the contact's page."""
    contact = _contact_or_404(contact_id)
    return zip_download(export.export_contact(contact, as_agent(current_user)))


def _erase_page(contact, errors=None, values=None, status=200):
    return render_template(
        "responso_chat/inbox/contact_erase.html",
        contact=contact,
        preview=erase.erasure_preview(contact),
        errors=errors or {},
        values=values or {},
    ), status


@inbox_bp.route("/contacts/<int:contact_id>/erase", methods=["GET", "POST"])
@admin_required
def contact_erase(contact_id: int):
    """"Erase contact": what it does and the typed confirmation (GET), then the erasure."""
    contact = _contact_or_404(contact_id)
    if scope.is_erased(contact):
        flash(str(erase.AlreadyErased(records.last_erasure(contact.id))), "success")
        return _contact_page(contact)
    if request.method == "GET":
        return _erase_page(contact)
    data = _payload()
    erasure, errors = _load_and_change(
        EraseConfirmSchema, data,
        lambda values: erase.erase_contact(contact, as_agent(current_user), values["confirm"]),
    )
    if errors:
        return _erase_page(contact, errors, data, 422)
    flash(f"The contact's data was erased ({records.describe_counts(erasure.counts)}).",
          "success")
    return _contact_page(contact)


@admin_bp.get("/privacy")
def privacy_log():
    """Retention (its setting and what it deleted) and the latest exports and erasures."""
    return render_template(
        "responso_chat/admin/privacy.html",
        retention_days=plugin_state().setting("RETENTION_DAYS"),
        retention_batch=plugin_state().setting("RETENTION_BATCH"),
        retention_interval=plugin_state().setting("RETENTION_INTERVAL"),
        retention_runs=records.recent_records(("retention",)),
        contact_records=records.recent_records(("export", "erase")),
        describe=records.describe_counts,
    )
