"""Fixtures of the e-mail tests: real SMTP and IMAP servers on loopback, and an app that uses
them."""

from __future__ import annotations

import pytest

from tests.support.mailservers import ImapServer, SmtpServer


@pytest.fixture(scope="module")
def smtp_server():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def imap_server():
    server = ImapServer()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server):
    """The SMTP server, its inbox emptied and accepting mail."""
    smtp_server.messages.clear()
    smtp_server.refuse(False)
    return smtp_server


@pytest.fixture
def imap(imap_server):
    """The IMAP server, its mailbox emptied and reachable."""
    imap_server.mailbox.folders = {"INBOX": []}
    imap_server.mailbox.drop_after_fetches = None
    return imap_server


def mail_config(smtp, imap=None, **more) -> dict:
    """The app settings of an app sending through ``smtp`` and reading ``imap``."""
    config = {
        "RESPONSO_CHAT_SMTP_HOST": "127.0.0.1",
        "RESPONSO_CHAT_SMTP_PORT": smtp.port,
        "RESPONSO_CHAT_SMTP_SECURITY": "none",
        "RESPONSO_CHAT_MAIL_FROM_ADDRESS": "support@shop.test",
        "RESPONSO_CHAT_MAIL_FROM_NAME": "Shop support",
        "RESPONSO_CHAT_MAIL_SHOP_URL": "https://shop.test/",
        "RESPONSO_CHAT_MAIL_UNSEEN_MINUTES": 0,
    }
    if imap is not None:
        config.update({
            "RESPONSO_CHAT_IMAP_HOST": "127.0.0.1",
            "RESPONSO_CHAT_IMAP_PORT": imap.port,
            "RESPONSO_CHAT_IMAP_SECURITY": "none",
            "RESPONSO_CHAT_IMAP_USER": imap.mailbox.user,
            "RESPONSO_CHAT_IMAP_PASSWORD": imap.mailbox.password,
        })
    config.update(more)
    return config


@pytest.fixture
def mail_app(make_app, smtp, imap):
    """A host app whose mail goes to ``smtp`` and comes from ``imap``."""
    return make_app(**mail_config(smtp, imap))


def settle(app) -> None:
    """Wait for the in-process jobs (and the jobs they wrote) to end."""
    app.extensions["responso_chat"].jobs.join(timeout=20)
