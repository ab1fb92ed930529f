"""The extension object: registration, settings, start-up checks, several apps per process."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy

from responso_chat import ConfigurationError, ResponsoChat
from responso_chat.config import PREFIX, SETTINGS
from responso_chat.models import Chat
from tests.hostapp import create_host_app


def bare_app(tmp_path, **config):
    app = Flask("bare")
    app.config.update(SECRET_KEY="x", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/b.db")
    app.config.update(config)
    return app


def test_registers_under_prefix_and_stores_state(app):
    state = app.extensions["responso_chat"]
    assert state.extension.db is state.db
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/chat/admin/" in rules and "/chat/inbox/" in rules and "/chat/api/health" in rules


def test_every_default_is_set_and_host_values_win(tmp_path):
    app = create_host_app(f"sqlite:///{tmp_path}/a.db", RESPONSO_CHAT_URL_PREFIX="/support")
    for name, (default, _doc) in SETTINGS.items():
        if name not in ("URL_PREFIX", "IS_ADMIN", "IS_AGENT", "LIST_AGENTS"):
            assert app.config[PREFIX + name] == default
    assert any(r.rule == "/support/inbox/" for r in app.url_map.iter_rules())
    assert not any(r.rule.startswith("/chat/") for r in app.url_map.iter_rules())


def test_two_apps_in_one_process_keep_their_own_state(make_app):
    first = make_app()
    second = make_app(RESPONSO_CHAT_URL_PREFIX="/help")
    a, b = first.extensions["responso_chat"], second.extensions["responso_chat"]
    assert a.db is not b.db and a.broker is not b.broker
    from tests.factories import make_chat

    with first.app_context():
        make_chat("Only in the first app")
    with second.app_context():
        assert b.db.session.query(Chat).count() == 0
    assert first.test_client().get("/chat/api/health").status_code == 200
    assert second.test_client().get("/help/api/health").status_code == 200
    assert second.test_client().get("/chat/api/health").status_code == 404


def test_factory_style_init_app(tmp_path):
    db = SQLAlchemy()
    chat = ResponsoChat(db=db)
    app = bare_app(tmp_path)
    db.init_app(app)
    LoginManager(app)
    chat.init_app(app)
    assert app.extensions["responso_chat"].extension is chat


def test_refuses_to_register_twice(app):
    with pytest.raises(RuntimeError, match="already registered"):
        ResponsoChat(app, db=app.extensions["responso_chat"].db)


def test_missing_db_is_named(tmp_path):
    app = bare_app(tmp_path)
    LoginManager(app)
    with pytest.raises(ConfigurationError, match="db=db"):
        ResponsoChat(app)


def test_db_not_registered_on_app(tmp_path):
    app = bare_app(tmp_path)
    LoginManager(app)
    with pytest.raises(ConfigurationError, match="db.init_app"):
        ResponsoChat(app, db=SQLAlchemy())


def test_missing_login_manager(tmp_path):
    app = bare_app(tmp_path)
    db = SQLAlchemy(app)
    with pytest.raises(ConfigurationError, match="LoginManager"):
        ResponsoChat(app, db=db)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("DEFAULT_LANGUAGE", "de", "RESPONSO_CHAT_DEFAULT_LANGUAGE: Must be one of"),
        ("REDIS_URL", "http://localhost:6379", "RESPONSO_CHAT_REDIS_URL: must be empty or"),
        ("REDIS_URL", "redis://localhost:notaport/0", "RESPONSO_CHAT_REDIS_URL: malformed port"),
        ("URL_PREFIX", "chat", "RESPONSO_CHAT_URL_PREFIX: must look like /chat"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "RESPONSO_CHAT_DEFAULT_TIMEZONE: is not an IANA"),
        ("ORDER_SYNC_INTERVAL", 5, "RESPONSO_CHAT_ORDER_SYNC_INTERVAL"),
        ("BASE_API_URL", "not a url", "RESPONSO_CHAT_BASE_API_URL"),
        ("SEND_RATE_LIMIT", "lots", "RESPONSO_CHAT_SEND_RATE_LIMIT"),
        ("IS_ADMIN", "nowhere.module:func", "RESPONSO_CHAT_IS_ADMIN: cannot import"),
    ],
)
def test_bad_configuration_fails_at_start_naming_the_setting(tmp_path, setting, value, message):
    with pytest.raises(ConfigurationError) as caught:
        create_host_app(f"sqlite:///{tmp_path}/c.db", **{PREFIX + setting: value})
    assert message in str(caught.value)


def test_host_csrfprotect_does_not_block_token_endpoints(tmp_path):
    from flask_wtf.csrf import CSRFProtect

    app = bare_app(tmp_path)
    db = SQLAlchemy(app)
    LoginManager(app)
    csrf = CSRFProtect(app)
    ResponsoChat(app, db=db)
    assert app.blueprints["responso_chat.api"] in csrf._exempt_blueprints
