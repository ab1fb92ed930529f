"""The Flask extension object: the only code of the plugin that touches the host app.

::

    chat = ResponsoChat(app, db=db)      # or ResponsoChat().init_app(app, db=db)
"""

from __future__ import annotations

from flask import Flask
from werkzeug.utils import ImportStringError, import_string

from responso_chat import config
from responso_chat.blueprints import TOKEN_AUTHENTICATED, create_blueprint
from responso_chat.config import ConfigurationError
from responso_chat.conversation.sessions import connect_signals as connect_sessions
from responso_chat.infra.broker import create_broker
from responso_chat.infra.jobs import create_job_runner
from responso_chat.infra.ratelimit import RateLimits
from responso_chat.orders.sync import create_rate_limiter
from responso_chat.state import EXTENSION_KEY, ExpiringValue, PluginState

_CALLABLE_SETTINGS = ("IS_ADMIN", "IS_AGENT", "LIST_AGENTS", "CLASSIFIER", "LOAD_USER")


class ResponsoChat:
    """The Flask extension: ``ResponsoChat(app, db=db)`` or ``init_app(app, db=db)``."""

    def __init__(self, app: Flask | None = None, db=None):
        self.db = db
        if app is not None:
            self.init_app(app, db=db)

    def init_app(self, app: Flask, db=None) -> None:
        """Register the plugin on ``app``: settings, blueprints, CLI, broker and jobs."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("Responso Chat is already registered on this app.")
        db = db if db is not None else self.db
        _check_prerequisites(app, db)
        config.apply_defaults(app.config)
        config.check(app.config)

        resolved = {name: _resolve_setting(app, name) for name in _CALLABLE_SETTINGS}
        user_model = (
            _resolve_setting(app, "USER_MODEL")
            if app.config[config.PREFIX + "USER_MODEL"]
            else None
        )
        redis_url = app.config[config.PREFIX + "REDIS_URL"]
        app.extensions[EXTENSION_KEY] = PluginState(
            extension=self,
            app=app,
            db=db,
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
            agents=ExpiringValue(app.config[config.PREFIX + "AGENTS_CACHE_SECONDS"]),
        )
        connect_sessions(app)
        app.register_blueprint(
            create_blueprint(), url_prefix=app.config[config.PREFIX + "URL_PREFIX"]
        )
        csrf = app.extensions.get("csrf")
        if csrf is not None:  # the host's own CSRFProtect: our token endpoints need no cookie
            for name in TOKEN_AUTHENTICATED:
                csrf.exempt(app.blueprints[f"responso_chat.{name}"])


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
    value = app.config[config.PREFIX + name]
    if not isinstance(value, str):
        return value
    try:
        return import_string(value.replace(":", "."))
    except ImportStringError as exc:
        raise ConfigurationError(
            f"Invalid Responso Chat configuration:\n  {config.PREFIX}{name}: cannot import "
            f"{value!r} ({exc.exception})"
        ) from None
