"""Admin pages: chat channels and the plugin's settings. Admins only."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from responso_chat.conversation import chats, origins
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.mail import mailbox, outgoing
from responso_chat.mail import settings as mail_settings
from responso_chat.orders import sync as orders
from responso_chat.schemas.admin import BaseSettingsSchema
from responso_chat.schemas.chat_form import (
    DAY_NAMES,
    chat_form_input,
    chat_form_values,
    timezone_names,
)
from responso_chat.schemas.mail import FORM_FIELDS, MailSettingsSchema
from responso_chat.users import admin_required, list_agents
from responso_chat.vocab import CHAT_LANGUAGE_LABELS, MAIL_SECURITY_LABELS

bp = Blueprint("admin", __name__)


@bp.before_request
@admin_required
def _admins_only():
    """Every admin page needs an admin; anonymous users go to the host's login."""


@bp.get("/")
def chat_list():
    """The list of chat channels, each with its "Show code" dialog."""
    return render_template(
        "responso_chat/admin/chat_list.html",
        rows=chats.chat_list_rows(),
        snippet=lambda chat: chats.embed_snippet(chat, request.url_root),
    )


@bp.get("/channels/new")
def channel_new():
    """"Add channel": the kinds of channel an admin can create."""
    return render_template("responso_chat/admin/channel_new.html")


def _chat_or_404(chat_id: int):
    return chats.get_chat(chat_id) or abort(404)


def _chat_form(values: dict, errors: dict, chat=None, status: int = 200):
    """The create/edit page for ``values`` (the form's shape) with ``errors`` by field, and
    the websites the chat refused recently."""
    return (
        render_template(
            "responso_chat/admin/chat_form.html",
            chat=chat,
            refused=origins.recent_refused(chat) if chat is not None else [],
            values=values,
            errors=errors,
            agents=list_agents(),
            timezones=timezone_names(),
            day_names=DAY_NAMES,
            languages=CHAT_LANGUAGE_LABELS,
        ),
        status,
    )


@bp.route("/chats/new", methods=["GET", "POST"])
def chat_create():
    """Create a chat: the form with defaults, then validate and save it."""
    if request.method == "GET":
        return _chat_form(chats.new_chat_values(), {})
    values = chat_form_input(request.form)
    try:
        chat = chats.create_chat(values)
    except ValidationError as exc:
        return _chat_form(values, exc.messages, status=422)
    flash(f"Chat “{chat.name}” created. Press “Show code” to put it on your shop.", "success")
    return redirect(url_for(".chat_list"))


@bp.route("/chats/<int:chat_id>/edit", methods=["GET", "POST"])
def chat_edit(chat_id: int):
    """Change a chat's settings."""
    chat = _chat_or_404(chat_id)
    if request.method == "GET":
        return _chat_form(chat_form_values(chat), {}, chat)
    values = chat_form_input(request.form)
    try:
        chats.update_chat(chat, values)
    except ValidationError as exc:
        return _chat_form(values, exc.messages, chat, status=422)
    flash(f"Chat “{chat.name}” saved.", "success")
    return redirect(url_for(".chat_list"))


@bp.post("/chats/<int:chat_id>/allowed-origins")
def allow_origin(chat_id: int):
    """"Allow this website": a refused website joins the chat's allowed websites."""
    chat = _chat_or_404(chat_id)
    try:
        origin = origins.allow_origin(chat, request.form.get("origin", ""))
    except ChangeRefused as exc:
        flash("Not allowed: " + " ".join(exc.errors["origin"]), "error")
    else:
        flash(f"{origin} may now use the chat “{chat.name}”.", "success")
    return redirect(url_for(".chat_edit", chat_id=chat_id), 303)


@bp.route("/chats/<int:chat_id>/delete", methods=["GET", "POST"])
def chat_delete(chat_id: int):
    """Confirm, then delete a chat; its tickets stay, marked with the chat's name."""
    chat = _chat_or_404(chat_id)
    if request.method == "GET":
        return render_template(
            "responso_chat/admin/chat_delete.html", chat=chat, tickets=chats.ticket_count(chat)
        )
    name = chat.name
    chats.delete_chat(chat)
    flash(f"Chat “{name}” deleted. Its tickets stay in the inbox.", "success")
    return redirect(url_for(".chat_list"))


# --- Base orders ---

TOKEN_AGAIN = "Enter the API token again to use it with another API URL."


@bp.route("/integrations/base", methods=["GET", "POST"])
def base_integration():
    """Integrations → Base: the API token (write-only) and URL, "Save" and "Test connection"."""
    settings = orders.base_settings()
    form, errors, test, status = {"api_url": settings.url}, {}, None, 200
    if request.method == "POST":
        form = {"api_url": request.form.get("api_url", "")}  # the token is never echoed back
        try:
            data = BaseSettingsSchema().load(request.form)
        except ValidationError as exc:
            errors, status = exc.messages, 422
        else:
            if orders.token_needed_for(data["api_url"], data["api_token"]):
                errors, status = {"api_token": [TOKEN_AGAIN]}, 422
            elif request.form.get("action") == "test":
                test = orders.test_connection(data["api_url"], data["api_token"] or None)
                status = 200 if test.ok else 422
            else:
                orders.save_base_settings(**data)
                flash("Base settings saved.", "success")
                return redirect(url_for(".base_integration"))
    return render_template(
        "responso_chat/admin/base_integration.html",
        settings=settings,
        form=form,
        errors=errors,
        test=test,
    ), status


# --- E-mail ---


@dataclass(frozen=True)
class MailTest:
    """The outcome of "Send a test e-mail" or "Test connection", in words."""

    ok: bool
    text: str


def _mail_page(form: dict, errors: dict, result=None, status: int = 200):
    return render_template(
        "responso_chat/admin/mail_integration.html",
        form=form,
        errors=errors,
        result=result,
        mail=mail_settings.mail_config(),
        status=mail_settings.mail_status(),
        passwords={name: mail_settings.password_source(name) for name in mail_settings.PASSWORDS},
        mails=outgoing.recent_mails(),
        securities=MAIL_SECURITY_LABELS,
    ), status


@bp.route("/integrations/email", methods=["GET", "POST"])
def mail_integration():
    """Integrations → E-mail: SMTP and IMAP settings (write-only passwords), "Save", "Send a
    test e-mail" and "Test connection"; the mailbox's last poll and the latest mails."""
    if request.method == "GET":
        values = mail_settings.mail_config().__dict__
        form = {name: values.get(name, "") for name in FORM_FIELDS}
        form["shop_url"] = form["shop_url"] or request.url_root
        form["test_to"] = getattr(current_user, "email", "") or ""
        return _mail_page(form, {})
    form = {name: request.form.get(name, "") for name in FORM_FIELDS}
    action = request.form.get("action", "save")
    try:
        data = MailSettingsSchema().load(request.form)
    except ValidationError as exc:
        return _mail_page(form, exc.messages, status=422)
    config = mail_settings.mail_config().with_values(data)
    if action == "test_smtp":
        if not data["test_to"]:
            return _mail_page(form, {"test_to": ["Enter the address to send the test to."]},
                              status=422)
        if not config.sending:
            return _mail_page(form, {"smtp_host": ["Enter the SMTP server."]}, status=422)
        try:
            outgoing.send_test(config, data["test_to"])
        except outgoing.MailNotSent as exc:
            return _mail_page(form, {}, MailTest(False, f"Not sent: {exc}."), status=422)
        return _mail_page(form, {}, MailTest(True, f"Test e-mail sent to {data['test_to']}. "
                                                   "Nothing was saved."))
    if action == "test_imap":
        if not config.receiving:
            return _mail_page(form, {"imap_host": ["Enter the IMAP server and user."]},
                              status=422)
        try:
            count = mailbox.test_connection(config)
        except mailbox.MailboxError as exc:
            return _mail_page(form, {}, MailTest(False, f"Connection failed: {exc}."),
                              status=422)
        return _mail_page(form, {}, MailTest(
            True, f"Connected: the folder {config.imap_folder} holds {count} e-mail"
                  f"{'' if count == 1 else 's'}. Nothing was saved."))
    clear = [name for name in mail_settings.PASSWORDS if data.get(f"clear_{name}")]
    mail_settings.save_mail_settings(data, clear_passwords=clear)
    flash("E-mail settings saved.", "success")
    return redirect(url_for(".mail_integration"))
