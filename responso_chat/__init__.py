"""Responso Chat: a live-chat channel for Flask shops, as a Flask extension.

::

    chat = ResponsoChat(app, db=db)      # or ResponsoChat().init_app(app, db=db)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from werkzeug.utils import ImportStringError, import_string

from . import config as _config
from .config import ConfigurationError

__version__ = "0.1.0"
__all__ = ["ResponsoChat", "ConfigurationError", "current_chat", "__version__"]

EXTENSION_KEY = "responso_chat"

_CALLABLE_SETTINGS = ("IS_ADMIN", "IS_AGENT", "LIST_AGENTS", "CLASSIFIER", "LOAD_USER")


@dataclass
class ChatState:
    """Everything the plugin keeps for one app; stored in ``app.extensions["responso_chat"]``."""

    extension: ResponsoChat
    app: Flask
    db: Any
    models: Any
    broker: Any
    jobs: Any
    rate_limits: Any
    is_admin: Any
    is_agent: Any
    list_agents: Any
    load_user: Any  # user id -> host user, for API tokens
    classifier: Any
    user_model: Any
    base_rate_limiter: Any  # keeps Base API calls of every token under 100 a minute

    def setting(self, name: str):
        """The value of ``RESPONSO_CHAT_<name>`` for this app."""
        return self.app.config[_config.PREFIX + name]

    def per_transaction(self, key, compute):
        """``compute()``, read once per database transaction of the current session.

        What one page asks for several times (the agents, an agent's chats) costs one query;
        the next transaction (the next request, or a websocket's next loop) reads it afresh.
        """
        session = self.db.session()  # this thread's session, behind the scoped proxy
        transaction = session.get_transaction()
        cached = session.info.get((EXTENSION_KEY, key))
        if transaction is not None and cached is not None and cached[0] is transaction:
            return cached[1]
        value = compute()
        session.info[(EXTENSION_KEY, key)] = (session.get_transaction(), value)
        return value


class ResponsoChat:
    """The Flask extension: ``ResponsoChat(app, db=db)`` or ``init_app(app, db=db)``."""

    def __init__(self, app: Flask | None = None, db=None):
        self.db = db
        if app is not None:
            self.init_app(app, db=db)

    def init_app(self, app: Flask, db=None) -> None:
        """Register the plugin on ``app``: settings, models, blueprints, CLI, broker and jobs."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("Responso Chat is already registered on this app.")
        db = db if db is not None else self.db
        _check_prerequisites(app, db)
        _config.apply_defaults(app.config)
        _config.check(app.config)

        from .blueprints import create_blueprint
        from .conversation.sessions import connect_signals as connect_sessions
        from .infra.jobs import create_job_runner
        from .models import define_models
        from .ratelimit import RateLimits
        from .realtime import create_broker
        from .services.orders import create_rate_limiter

        resolved = {name: _resolve_setting(app, name) for name in _CALLABLE_SETTINGS}
        user_model = _resolve_setting(app, "USER_MODEL") if app.config[
            _config.PREFIX + "USER_MODEL"
        ] else None
        redis_url = app.config[_config.PREFIX + "REDIS_URL"]
        state = ChatState(
            extension=self,
            app=app,
            db=db,
            models=define_models(db),
            broker=create_broker(redis_url),
            jobs=create_job_runner(app, redis_url),
            rate_limits=RateLimits(redis_url),
            is_admin=resolved["IS_ADMIN"],
            is_agent=resolved["IS_AGENT"],
            list_agents=resolved["LIST_AGENTS"],
            load_user=resolved["LOAD_USER"],
            classifier=resolved["CLASSIFIER"](),
            user_model=user_model,
            base_rate_limiter=create_rate_limiter(redis_url),
        )
        app.extensions[EXTENSION_KEY] = state
        connect_sessions(app)
        app.register_blueprint(
            create_blueprint(), url_prefix=app.config[_config.PREFIX + "URL_PREFIX"]
        )
        csrf = app.extensions.get("csrf")
        if csrf is not None:  # the host's own CSRFProtect: our token endpoints need no cookie
            from .blueprints import TOKEN_AUTHENTICATED

            for name in TOKEN_AUTHENTICATED:
                csrf.exempt(app.blueprints[f"responso_chat.{name}"])


def current_chat() -> ChatState:
    """The plugin's state for the current app (raises outside an app that registered it)."""
    try:
        return current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("Responso Chat is not registered on the current app.") from None


def _check_prerequisites(app: Flask, db) -> None:
    if db is None:
        raise ConfigurationError(
            "Responso Chat needs the host's Flask-SQLAlchemy object: ResponsoChat(app, db=db)."
        )
    if app.extensions.get("sqlalchemy") is not db:
        raise ConfigurationError(
            "Responso Chat: the db given is not registered on this app; call db.init_app(app) "
            "before ResponsoChat(app, db=db)."
        )
    if getattr(app, "login_manager", None) is None:
        raise ConfigurationError(
            "Responso Chat reuses the host's Flask-Login: create LoginManager(app) first."
        )


def _resolve_setting(app: Flask, name: str):
    value = app.config[_config.PREFIX + name]
    if not isinstance(value, str):
        return value
    try:
        return import_string(value.replace(":", "."))
    except ImportStringError as exc:
        raise ConfigurationError(
            f"Invalid Responso Chat configuration:\n  {_config.PREFIX}{name}: cannot import "
            f"{value!r} ({exc.exception})"
        ) from None
