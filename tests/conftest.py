"""Shared fixtures: host apps on SQLite and PostgreSQL, real Redis, live servers, Chromium."""

from __future__ import annotations

import re
import shutil
import threading
import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, raiseload
from werkzeug.serving import make_server

from responso_chat import migrations, models
from tests.hostapp import PASSWORD, create_host_app, seed_accounts
from tests.mail_fixtures import imap, imap_server, mail_app, smtp, smtp_server  # noqa: F401
from tests.servers import PostgresServer, RedisServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _raise_on_lazy_loads(execute_state):
    """Every object a query loads raises on a lazy load that needs SQL: code asks for the
    relationships it walks (``selectinload``, ``joinedload``) instead of one query per row."""
    if (
        execute_state.is_select
        and not execute_state.is_column_load
        and not execute_state.is_relationship_load
    ):
        execute_state.statement = execute_state.statement.options(raiseload("*", sql_only=True))


@pytest.fixture(autouse=True, scope="session")
def lazy_loads_raise():
    """Lazy loads raise in every session of the test process (see _raise_on_lazy_loads)."""
    event.listen(Session, "do_orm_execute", _raise_on_lazy_loads)
    yield
    event.remove(Session, "do_orm_execute", _raise_on_lazy_loads)


def _prepare(app, *, migrate: bool):
    with app.app_context():
        state = app.extensions["responso_chat"]
        state.db.create_all()  # the host's own tables: never the plugin's
        if migrate:
            migrations.upgrade()
        else:
            models.metadata.create_all(state.db.engine)
        seed_accounts(app)


def _dispose(app):
    state = app.extensions["responso_chat"]
    state.jobs.join()
    state.jobs.close()
    state.broker.close()
    with app.app_context():
        state.db.session.remove()
        state.db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file with the host's and the plugin's tables and the seeded accounts, made
    once: each test's database starts as a copy of it (the same as preparing a new one, in a
    millisecond instead of a tenth of a second)."""
    path = tmp_path_factory.mktemp("template") / "shop.db"
    app = create_host_app(f"sqlite:///{path}", TESTING=True,
                          RESPONSO_CHAT_FILES_FOLDER=str(path.parent / "files"))
    _prepare(app, migrate=False)
    _dispose(app)
    return path


@pytest.fixture
def make_app(tmp_path, sqlite_template):
    """Factory of host apps on a fresh SQLite file: ``make_app(**config)``."""
    apps = []

    def factory(database_url=None, migrate=False, **config):
        fresh = database_url is None and not migrate
        url = database_url or f"sqlite:///{tmp_path / f'shop-{len(apps)}.db'}"
        if fresh:
            shutil.copyfile(sqlite_template, tmp_path / f"shop-{len(apps)}.db")
        # Attachments go to the test's folder, never to an instance folder of the checkout.
        config.setdefault("RESPONSO_CHAT_FILES_FOLDER", str(tmp_path / f"files-{len(apps)}"))
        app = create_host_app(url, TESTING=True, **config)
        if not fresh:
            _prepare(app, migrate=migrate)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        _dispose(app)


@pytest.fixture
def app(make_app):
    """A host app with the plugin on SQLite, seeded with the accounts of tests.hostapp."""
    return make_app()


@pytest.fixture
def client(app):
    """A test client of ``app`` that, like a browser, says its requests come from the site's
    own pages (``Sec-Fetch-Site``)."""
    client = app.test_client()
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    return client


@pytest.fixture
def runner(app):
    """A CLI runner of ``app``."""
    return app.test_cli_runner()


class AuthActions:
    """Logging in and out as the seeded accounts, and fetching a CSRF token."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str = "alice@shop.test"):
        """Log in as the account with ``email`` (password is shared)."""
        response = self._client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, "login failed"
        return response

    def logout(self):
        """Log out."""
        return self._client.post("/logout")

    def csrf_token(self) -> str:
        """A CSRF token valid for this client's session."""
        return self._client.get("/csrf-token").get_data(as_text=True)


@pytest.fixture
def auth(client):
    """Log in and out as the seeded accounts: ``auth.login("admin@shop.test")``."""
    return AuthActions(client)


def csrf_from_page(html: str) -> str:
    """The CSRF token a plugin page carries in its ``<meta name="csrf-token">``."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the whole run."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a new, empty PostgreSQL database for one test."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def pg_app(make_app, postgres_url):
    """A host app on a fresh PostgreSQL database, its plugin tables made by the migrations."""
    return make_app(database_url=postgres_url, migrate=True)


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server (moto's, over real HTTP on loopback) for the whole run."""
    from tests.support.s3server import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """A Redis server for the whole run."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The Redis server's URL, emptied for this test."""
    import redis

    with redis.Redis.from_url(redis_server.url) as connection:
        connection.flushall()
    return redis_server.url


class LiveServer:
    """A WSGI app served on 127.0.0.1 by werkzeug in a thread (serves websockets too)."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server():
    """Factory serving a WSGI app on a free loopback port: ``live_server(app).url``."""
    servers = []

    def serve(wsgi_app):
        server = LiveServer(wsgi_app)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright, for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


#: How Chromium reports a response with an error status on the console; the test checks what
#: the page shows about it instead.
HTTP_STATUS_REPORT = "Failed to load resource: the server responded with a status of "


#: What Chromium logs when a websocket served by the test's werkzeug server ends after the
#: browser closed it: werkzeug answers the finished upgrade request with an HTTP status line
#: (flask-sock with werkzeug's development server does so for any websocket route). A test
#: that closes a socket on purpose allows it.
DEV_SERVER_SOCKET_CLOSE = (
    r"^WebSocket connection to 'ws://127\.0\.0\.1:\d+/[^']*' failed: Invalid frame header$"
)


class BrowserPages:
    """Opens pages, each in its own browser context, and records what goes wrong in them.

    Every page of every context it opened (tabs a test opens itself included) is watched:
    an uncaught error (``pageerror``) or a console error (other than the report of a
    response's error status, which the test checks on the page) is recorded, and the test
    fails on it. A test that provokes a console error on purpose allows exactly that one with
    :meth:`allow_console`; an uncaught error is never allowed.
    """

    def __init__(self, browser):
        self._browser = browser
        self._allowed: list[re.Pattern] = []
        self.contexts = []
        self.errors: list[str] = []
        self.reported = 0
        self.recording = True  # until the test's body ended: then servers stop, sockets drop

    def __call__(self, **context_options):
        context = self._browser.new_context(**context_options)
        context.set_default_timeout(10_000)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context.new_page()

    def allow_console(self, pattern: str):
        """Let console errors matching the regular expression ``pattern`` pass."""
        self._allowed.append(re.compile(pattern))

    def _watch(self, page):
        page.on("pageerror", lambda error: self._record(
            f"uncaught error on {page.url}: {error.stack or error.message}"))
        page.on("console", lambda message: self._console(page, message))

    def _record(self, error: str):
        if self.recording:
            self.errors.append(error)

    def _console(self, page, message):
        if message.type != "error" or any(p.search(message.text) for p in self._allowed):
            return
        if message.text.startswith(HTTP_STATUS_REPORT):
            return  # a response with an error status the page handles (a form's 422 answer)
        self._record(f"console error on {page.url}: {message.text}")

    def check(self, final: bool = False):
        """Fail with the errors recorded since the last check (events already sent included).

        ``final`` (the end of the test's body) stops the recording: what pages report while
        the test's servers shut down (a socket reset mid-handshake) is not the test's concern.
        """
        for context in self.contexts:
            try:
                context.cookies()  # a round trip: the browser's pending events arrive first
            except Exception:  # noqa: BLE001 - a closed context has nothing left to send
                pass
        fresh, self.reported = self.errors[self.reported:], len(self.errors)
        self.recording = self.recording and not final
        if fresh:
            pytest.fail("the browser reported errors:\n" + "\n".join(fresh), pytrace=False)

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def new_page(browser):
    """Factory of pages, each in its own browser context (its own cookies and storage).

    The test fails on any uncaught error or console error in those pages (see
    :class:`BrowserPages`); ``new_page.allow_console(pattern)`` lets an expected one pass.
    """
    pages = BrowserPages(browser)
    yield pages
    try:
        pages.check()
    finally:
        pages.close()
