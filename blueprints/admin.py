"""Admin pages: chat channels and the plugin's settings. Admins only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from responso_chat.conversation import chats, origins
from responso_chat.conversation.errors import ChangeRefused
from responso_chat.orders import sync as orders
from responso_chat.schemas.admin import BaseSettingsSchema
from responso_chat.schemas.chat_form import (
    DAY_NAMES,
    chat_form_input,
    chat_form_values,
    timezone_names,
)
from responso_chat.users import admin_required, list_agents
from responso_chat.vocab import CHAT_LANGUAGE_LABELS

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
