"""``make demo`` serves a working shop: the same entry point, run as a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.servers import free_port


def wait_until_serving(url: str, process, log_path, timeout: float = 60.0) -> None:
    """Block until the demo answers HTTP (not merely a port that accepts), or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"demo exited: {log_path.read_text()}")
        try:
            if requests.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"demo not serving after {timeout} s: {log_path.read_text()}")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """``python -m responso_chat.demo`` on free ports with its own database file."""
    workdir = tmp_path_factory.mktemp("demo")
    port, base_port = free_port(), free_port()
    log_path = workdir / "demo.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "responso_chat.demo", "--port", str(port),
             "--base-port", str(base_port), "--database", str(workdir / "demo.db")],
            cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log_path)
        yield url, base_port, log_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_demo_prints_urls_and_logins(demo_server):
    url, _base_port, log_path = demo_server
    banner = log_path.read_text()
    assert "Press Ctrl+C to stop." in banner
    assert f"{url}/login" in banner and "/chat/inbox/" in banner and "/chat/admin/" in banner
    assert "admin@example.com / admin-demo" in banner
    assert "agent@example.com / agent-demo" in banner


def test_demo_logins_reach_the_plugin(demo_server):
    url, _base_port, _log = demo_server
    for email, password, page, expected in (
        ("admin@example.com", "admin-demo", "/chat/admin/", "Shop chat"),
        ("agent@example.com", "agent-demo", "/chat/inbox/", "Where is my order?"),
    ):
        with requests.Session() as session:
            login_page = session.get(f"{url}/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
            response = session.post(
                f"{url}/login", data={"email": email, "password": password, "csrf_token": token}
            )
            assert response.status_code == 200 and "Log out" in response.text
            page_response = session.get(url + page)
            assert page_response.status_code == 200 and expected in page_response.text


def test_demo_shop_pages_and_base_standin(demo_server):
    url, base_port, _log = demo_server
    for path in ("/", "/products/linen-shirt", "/cart", "/checkout"):
        assert requests.get(url + path, timeout=5).status_code == 200
    answer = requests.post(
        f"http://127.0.0.1:{base_port}/connector.php",
        headers={"X-BLToken": "demo-base-token-0000"},
        data={"method": "getOrders", "parameters": '{"filter_email": "anna.kowalska@example.com"}'},
        timeout=5,
    ).json()
    assert answer["status"] == "SUCCESS" and answer["orders"]
