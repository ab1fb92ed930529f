"""Real PostgreSQL and Redis servers for the suite, on free loopback ports, stopped at the end.

PostgreSQL refuses to run as root, so when the suite runs as root the cluster belongs to the
``postgres`` system user (created by Debian's package) and commands run through ``runuser``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import closing
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _pg_bindir() -> Path:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL's initdb is not installed (make test installs it).")
    return candidates[-1].parent


class PostgresServer:
    """A throw-away PostgreSQL cluster (fsync off) on a free loopback port."""

    def __init__(self):
        self.port = free_port()
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="responso-chat-pg-"))
        self.datadir = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        self._as_user = ["runuser", "-u", self.user, "--"] if self.user else []

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_user, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def start(self) -> PostgresServer:
        """Create and start the cluster; wait until it accepts connections."""
        if self.user:
            shutil.chown(self.root, self.user)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C",
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "-l",
            str(self.root / "log"), "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self) -> None:
        """Stop and start the server (fault tests)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "-m", "fast",
                  "restart")

    def stop(self) -> None:
        """Stop the server and delete its files."""
        try:
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "-m", "immediate",
                "stop",
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A ``redis-server`` without persistence on a free loopback port."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it accepts connections."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make test installs it).")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
