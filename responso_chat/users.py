"""Who is who: the host's users seen as admins and agents, and the view guards built on it.

The host keeps its own Flask-Login; these defaults read ``is_admin`` / ``is_agent`` attributes
and list agents from the host's user model (``RESPONSO_CHAT_USER_MODEL``, or found in the
host's ``db``), filtered in SQL where the roles are columns. A host replaces any of
them with its own callables through the ``RESPONSO_CHAT_IS_ADMIN`` / ``IS_AGENT`` /
``LIST_AGENTS`` settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

import sqlalchemy as sa
from flask import abort, current_app
from flask_login import UserMixin, current_user

from responso_chat.config import ConfigurationError
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


def user_model():
    """The host's user model: ``RESPONSO_CHAT_USER_MODEL``, else the one mapped class of the
    host's ``db`` with ``get_id`` and ``is_agent`` or ``is_admin`` (found on first use, when
    the host's models are defined). Raises :class:`ConfigurationError` naming the setting when
    there is no such class or more than one."""
    state = plugin_state()
    if state.user_model is None:
        state.user_model = _find_user_model(state.db)
    return state.user_model


def _find_user_model(db):
    mappers = getattr(getattr(db, "Model", None), "registry", None)
    classes = [m.class_ for m in mappers.mappers] if mappers is not None else []
    users = [c for c in classes if callable(getattr(c, "get_id", None))]
    with_roles = [c for c in users if hasattr(c, "is_agent") or hasattr(c, "is_admin")]
    found = with_roles if len(with_roles) == 1 else users
    if len(found) == 1:
        return found[0]
    names = ", ".join(sorted(c.__name__ for c in with_roles or users)) or "none"
    raise ConfigurationError(
        f"Responso Chat cannot tell which model holds the host's users (candidates: {names}): "
        "set RESPONSO_CHAT_USER_MODEL to its import string, or RESPONSO_CHAT_LIST_AGENTS to "
        "a callable listing the agents."
    )


_ROLE_COLUMNS = ("is_agent", "is_admin")
_NAME_COLUMNS = ("display_name", "name", "email")


def _column_keys(model) -> set[str]:
    return {attr.key for attr in sa.inspect(model).column_attrs}


def _reads_columns(model) -> bool:
    """Whether an :class:`Agent` of ``model`` is made of plain columns: ``id`` (what
    Flask-Login's ``get_id`` returns) and each name attribute the model has."""
    columns = _column_keys(model)
    plain_id = getattr(model, "get_id", None) is UserMixin.get_id and "id" in columns
    return plain_id and all(
        name in columns for name in _NAME_COLUMNS if hasattr(model, name)
    )


def _role_filter(model):
    """The SQL condition "agent or admin" when the default role checks read columns, else None
    (the host's own checks, or properties, are applied in Python)."""
    state = plugin_state()
    if (state.is_admin, state.is_agent) != (attribute_is_admin, attribute_is_agent):
        return None
    columns = _column_keys(model)
    roles = [name for name in _ROLE_COLUMNS if hasattr(model, name)]
    if any(name not in columns for name in roles):
        return None
    return sa.or_(sa.false(), *(getattr(model, name).is_(True) for name in roles))


def _read_agents(where=None) -> list[Agent]:
    """Agents and admins of the user model (those matching ``where`` too): only the id, name
    and e-mail columns, filtered in SQL when the roles are columns."""
    state, model = plugin_state(), user_model()
    roles = _role_filter(model)
    if _reads_columns(model) and roles is not None:
        names = [name for name in _NAME_COLUMNS if hasattr(model, name)]
        query = sa.select(model.id, *(getattr(model, n) for n in names)).where(roles)
        rows = state.db.session.execute(query if where is None else query.where(where))
        return [_agent_from_row(row, names) for row in rows]
    query = sa.select(model) if roles is None else sa.select(model).where(roles)
    users = state.db.session.execute(query if where is None else query.where(where)).scalars()
    return [as_agent(u) for u in users if state.is_agent(u) or state.is_admin(u)]


def _agent_from_row(row, names) -> Agent:
    values = dict(zip(names, row[1:], strict=True))
    return _agent(row[0], values.get("display_name"), values.get("name"), values.get("email"))


def _agent(user_id, display_name, name, email) -> Agent:
    email = email or ""
    return Agent(id=str(user_id), name=str(display_name or name or email), email=str(email))


def agents_from_user_model() -> list[Agent]:
    """Default agent list: users of the host's user model (see :func:`user_model`) who are
    agents or admins."""
    return _read_agents()


def agent_from_user_model(user_id: str) -> Agent | None:
    """The agent or admin with ``user_id`` in the host's user model, or None: one row when
    its ``id`` column is what ``get_id`` returns, else from the list."""
    model = user_model()
    if not _reads_columns(model):
        return agents_by_id().get(user_id)
    try:
        value = model.id.type.python_type(user_id)
    except (TypeError, ValueError, NotImplementedError):
        return None
    agents = _read_agents(where=model.id == value)
    return agents[0] if agents else None


def as_agent(user) -> Agent:
    """Turn a host user into an :class:`Agent` (name from display_name, name or e-mail)."""
    return _agent(
        user.get_id(),
        getattr(user, "display_name", None),
        getattr(user, "name", None),
        getattr(user, "email", None),
    )


def list_agents() -> list[Agent]:
    """Every agent and admin of the host, sorted by name; kept per app for
    ``RESPONSO_CHAT_AGENTS_CACHE_SECONDS`` (see :func:`forget_agents`)."""
    def read() -> tuple[Agent, ...]:
        agents = [
            a if isinstance(a, Agent) else Agent(*map(str, a))
            for a in plugin_state().list_agents()
        ]
        return tuple(sorted(agents, key=lambda a: a.name.lower()))

    return list(plugin_state().agents.get(read))


def forget_agents() -> None:
    """Drop the cached list of agents of the current app: a host calls it after changing who
    is an agent, so the plugin sees it before ``RESPONSO_CHAT_AGENTS_CACHE_SECONDS`` pass."""
    plugin_state().agents.forget()


def agents_by_id() -> dict[str, Agent]:
    """Every agent and admin of the host, by id."""
    return {agent.id: agent for agent in list_agents()}


def agent_by_id(user_id) -> Agent | None:
    """One agent or admin by id, or None: from the cached list while it is fresh, else one row
    of the user model (the default list), else from the list."""
    state, user_id = plugin_state(), str(user_id)
    if state.agents.fresh() is None and state.list_agents is agents_from_user_model:
        return agent_from_user_model(user_id)
    return agents_by_id().get(user_id)


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
