"""Who is who: the host's users seen as admins and agents, and the view guards built on it.

The host keeps its own Flask-Login; these defaults read ``is_admin`` / ``is_agent`` attributes
and list agents from the model named by ``RESPONSO_CHAT_USER_MODEL``. A host replaces any of
them with its own callables through the ``RESPONSO_CHAT_IS_ADMIN`` / ``IS_AGENT`` /
``LIST_AGENTS`` settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import abort, current_app
from flask_login import current_user

from responso_chat.state import plugin_state


@dataclass(frozen=True)
class Agent:
    """An agent or admin as the plugin shows them: the host's user id, name and e-mail."""

    id: str
    name: str
    email: str


def attribute_is_admin(user) -> bool:
    """Default admin check: the user's ``is_admin`` attribute."""
    return bool(getattr(user, "is_admin", False))


def attribute_is_agent(user) -> bool:
    """Default agent check: the user's ``is_agent`` attribute (admins count as agents)."""
    return bool(getattr(user, "is_agent", False)) or attribute_is_admin(user)


def agents_from_user_model() -> list[Agent]:
    """Default agent list: users of ``RESPONSO_CHAT_USER_MODEL`` who are agents or admins."""
    state = plugin_state()
    model = state.user_model
    if model is None:
        raise RuntimeError(
            "Set RESPONSO_CHAT_USER_MODEL (or RESPONSO_CHAT_LIST_AGENTS) so the plugin can list "
            "agents."
        )
    users = state.db.session.execute(state.db.select(model)).scalars()
    return [
        as_agent(user) for user in users if state.is_agent(user) or state.is_admin(user)
    ]


def as_agent(user) -> Agent:
    """Turn a host user into an :class:`Agent` (name from display_name, name or e-mail)."""
    email = getattr(user, "email", "") or ""
    name = getattr(user, "display_name", None) or getattr(user, "name", None) or email
    return Agent(id=str(user.get_id()), name=str(name), email=str(email))


def list_agents() -> list[Agent]:
    """Every agent and admin of the host, sorted by name."""
    def read() -> tuple[Agent, ...]:
        agents = [
            a if isinstance(a, Agent) else Agent(*map(str, a))
            for a in plugin_state().list_agents()
        ]
        return tuple(sorted(agents, key=lambda a: a.name.lower()))

    return list(plugin_state().per_transaction("agents", read))


def agents_by_id() -> dict[str, Agent]:
    """Every agent and admin of the host, by id."""
    return {agent.id: agent for agent in list_agents()}


def is_admin(user=None) -> bool:
    """Whether ``user`` (default: the logged-in user) may administer chats."""
    user = current_user if user is None else user
    return bool(user.is_authenticated) and bool(plugin_state().is_admin(user))


def is_agent(user=None) -> bool:
    """Whether ``user`` (default: the logged-in user) may answer chats; admins may."""
    user = current_user if user is None else user
    return bool(user.is_authenticated) and (
        bool(plugin_state().is_agent(user)) or is_admin(user)
    )


def user_from_login_manager(user_id: str):
    """Default ``RESPONSO_CHAT_LOAD_USER``: the host's Flask-Login ``user_loader`` given the id.

    Flask-Login has no public "load this id" call, so this calls the function the host
    registered with ``@login_manager.user_loader``; a host loading users some other way names
    its own callable in the setting.
    """
    loader = getattr(current_app.login_manager, "_user_callback", None)
    if loader is None:
        raise RuntimeError(
            "The host's LoginManager has no user_loader: register one, or set "
            "RESPONSO_CHAT_LOAD_USER to a callable(user_id) returning the user."
        )
    return loader(str(user_id))


def load_user(user_id: str):
    """The host user with ``user_id`` (through ``RESPONSO_CHAT_LOAD_USER``), or None."""
    return plugin_state().load_user(str(user_id))


def current_user_id() -> str:
    """The logged-in user's id as the plugin stores it."""
    return str(current_user.get_id())


def _guard(check):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not check():
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = _guard(is_admin)
admin_required.__doc__ = "View guard: anonymous users go to the host's login, non-admins get 403."
agent_required = _guard(is_agent)
agent_required.__doc__ = "View guard: anonymous users go to the host's login, non-agents get 403."
