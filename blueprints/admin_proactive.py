"""Admin pages of a chat's proactive messages: the greetings its widget shows by itself,
their triggers, and how often each was shown, opened and led to a chat. Admins only (the
admin blueprint's own check)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from responso_chat.conversation import chats, proactive
from responso_chat.schemas.proactive import MAX_DELAY_SECONDS, ProactiveMessageSchema
from responso_chat.users import agents_by_id

from .admin import bp


def _chat_or_404(chat_id: int):
    return chats.get_chat(chat_id) or abort(404)


def _greeting_or_404(chat, proactive_id: int):
    return proactive.get(chat.id, proactive_id) or abort(404)


def _senders(chat) -> list:
    """The agents of the chat, who may greet (by name, never by e-mail)."""
    known = agents_by_id()
    return [known[agent_id] for agent_id in chat.agent_ids if agent_id in known]


def _form(chat, values: dict, errors: dict, greeting=None, status: int = 200):
    return (
        render_template(
            "responso_chat/admin/proactive_form.html",
            chat=chat,
            greeting=greeting,
            values=values,
            errors=errors,
            senders=_senders(chat),
            max_delay=MAX_DELAY_SECONDS,
        ),
        status,
    )


def _load(chat):
    return ProactiveMessageSchema(sender_ids=[a.id for a in _senders(chat)]).load(
        request.form.to_dict()
    )


@bp.get("/chats/<int:chat_id>/proactive")
def proactive_list(chat_id: int):
    """The chat's proactive messages with their triggers and counts."""
    chat = _chat_or_404(chat_id)
    return render_template(
        "responso_chat/admin/proactive_list.html",
        chat=chat,
        greetings=proactive.list_for_chat(chat.id),
        sender_name=proactive.sender_name,
        limit=proactive.MAX_PER_CHAT,
    )


@bp.route("/chats/<int:chat_id>/proactive/new", methods=["GET", "POST"])
def proactive_create(chat_id: int):
    """Add a proactive message: triggers, text and sender."""
    chat = _chat_or_404(chat_id)
    if len(proactive.list_for_chat(chat.id)) >= proactive.MAX_PER_CHAT:
        flash(f"A chat has at most {proactive.MAX_PER_CHAT} proactive messages.", "error")
        return redirect(url_for(".proactive_list", chat_id=chat.id), 303)
    if request.method == "GET":
        return _form(chat, {"enabled": True, "delay_seconds": 0}, {})
    try:
        values = _load(chat)
    except ValidationError as exc:
        return _form(chat, request.form.to_dict(), exc.messages, status=422)
    proactive.save(chat.id, values)
    flash("Proactive message added.", "success")
    return redirect(url_for(".proactive_list", chat_id=chat.id), 303)


@bp.route("/chats/<int:chat_id>/proactive/<int:proactive_id>", methods=["GET", "POST"])
def proactive_edit(chat_id: int, proactive_id: int):
    """Change a proactive message."""
    chat = _chat_or_404(chat_id)
    greeting = _greeting_or_404(chat, proactive_id)
    if request.method == "GET":
        values = {name: getattr(greeting, name) for name in (
            "path", "delay_seconds", "min_cart_value", "event", "text", "sender_id", "enabled"
        )}
        return _form(chat, values, {}, greeting)
    try:
        values = _load(chat)
    except ValidationError as exc:
        return _form(chat, request.form.to_dict(), exc.messages, greeting, 422)
    proactive.save(chat.id, values, greeting)
    flash("Proactive message saved.", "success")
    return redirect(url_for(".proactive_list", chat_id=chat.id), 303)


@bp.post("/chats/<int:chat_id>/proactive/<int:proactive_id>/enabled")
def proactive_enable(chat_id: int, proactive_id: int):
    """Turn a proactive message on (``enabled=1``) or off."""
    chat = _chat_or_404(chat_id)
    greeting = _greeting_or_404(chat, proactive_id)
    proactive.set_enabled(greeting, request.form.get("enabled") == "1")
    flash("Proactive message turned " + ("on." if greeting.enabled else "off."), "success")
    return redirect(url_for(".proactive_list", chat_id=chat.id), 303)


@bp.post("/chats/<int:chat_id>/proactive/<int:proactive_id>/delete")
def proactive_delete(chat_id: int, proactive_id: int):
    """Delete a proactive message and its counts."""
    chat = _chat_or_404(chat_id)
    proactive.delete(_greeting_or_404(chat, proactive_id))
    flash("Proactive message deleted.", "success")
    return redirect(url_for(".proactive_list", chat_id=chat.id), 303)
