"""The test host shop served by gunicorn in its own process, as in production.

Used by the scale-out tests and the benchmarks: several of these share one PostgreSQL database
and one Redis (see :mod:`tests.scaleapp`).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.hostapp import PASSWORD
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


class AppServer:
    """``gunicorn 'tests.scaleapp:create_app()'`` on a free loopback port.

    ``worker_class`` is ``gthread`` (``threads`` per worker, one per open websocket) or
    ``gevent`` (``connections`` greenlets per worker).
    """

    def __init__(
        self,
        database_url: str,
        redis_url: str = "",
        *,
        worker_class: str = "gthread",
        workers: int = 1,
        threads: int = 50,
        connections: int = 1000,
        config: dict | None = None,
        log_path: Path | None = None,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            SCALEAPP_DATABASE_URL=database_url,
            SCALEAPP_REDIS_URL=redis_url,
            SCALEAPP_CONFIG=json.dumps(config or {}),
        )
        self.command = [
            sys.executable, "-m", "gunicorn", "tests.scaleapp:create_app()",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
            "--worker-class", worker_class,
            "--log-level", "warning",
        ]
        if worker_class == "gthread":
            self.command += ["--threads", str(threads)]
        else:
            self.command += ["--worker-connections", str(connections)]
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> AppServer:
        """Start the server and wait until it answers HTTP."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> AppServer:
        """Start the server process without waiting (start several, then wait for each)."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                start_new_session=True,
            )
        finally:
            if self.log_path:
                log.close()
        return self

    def wait_ready(self, timeout: float = 30.0) -> AppServer:
        """Wait until the launched server answers HTTP (stopping it if it never does)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        self.stop()
        raise TimeoutError(f"gunicorn did not answer on port {self.port} in {timeout} s")

    def login(self, email: str) -> requests.Session:
        """An HTTP session logged in to the host as ``email``, with its CSRF token in
        ``session.headers`` (so its POSTs pass) and the ``Cookie`` header a websocket needs in
        ``session.cookie_header``."""
        session = requests.Session()
        response = session.post(
            self.url + "/login", data={"email": email, "password": PASSWORD},
            allow_redirects=False, timeout=10,
        )
        assert response.status_code == 302, f"login of {email} failed"
        session.headers["X-CSRFToken"] = session.get(self.url + "/csrf-token", timeout=10).text
        session.cookie_header = f"session={session.cookies['session']}"
        return session

    def start_chat(self, public_key: str, origin: str, **fields) -> dict:
        """Press "Start chat" as a customer on ``origin``: the JSON answer (token, messages)."""
        values = {"name": "Zoe Customer", "email": "zoe@example.com",
                  "subject": "Where is my order?", "message": "Hello, my parcel has not arrived."}
        values.update(fields)
        response = requests.post(
            f"{self.url}/chat/widget/{public_key}/tickets", json=values,
            headers={"Origin": origin}, timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def pids(self) -> list[int]:
        """The gunicorn master's process id and its workers' ids."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            workers = [int(pid) for pid in children.read_text().split()]
        except OSError:
            workers = []
        return [self.process.pid, *workers]

    def stop(self) -> None:
        """Stop the server at once: gunicorn's quick shutdown, then a kill if a worker still
        waits for a socket's thread."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=1.5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
