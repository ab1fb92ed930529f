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
    port, base_port, mail_port = free_port(), free_port(), free_port()
    log_path = workdir / "demo.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "responso_chat.demo", "--port", str(port),
             "--base-port", str(base_port), "--mail-port", str(mail_port),
             "--database", str(workdir / "demo.db")],
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
    assert f"Sent e-mails: {url}/mail" in banner
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


def _signed_in(url: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(f"{url}/login").text)
    session.post(f"{url}/login", data={"email": email, "password": password,
                                       "csrf_token": token.group(1)})
    return session


def _form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_demo_mail_catcher_shows_the_whole_email_loop(demo_server):
    """An agent's "New ticket to this customer" reaches the demo's mail catcher over SMTP, is
    listed on the "Sent e-mails" page, and the customer's answer written there lands on the
    ticket without its quoted history; the mail's link reopens the chat on the shop."""
    url, _base_port, _log = demo_server
    agent = _signed_in(url, "agent@example.com", "agent-demo")
    inbox = agent.get(f"{url}/chat/inbox/").text
    pages = {  # the demo's chat with Anna (the demo has other customers' tickets too)
        ticket_id: agent.get(f"{url}/chat/inbox/tickets/{ticket_id}").text
        for ticket_id in dict.fromkeys(re.findall(r"/chat/inbox/tickets/([1-9]\d*)", inbox))
    }
    ticket_id, page = next(
        (ticket_id, page) for ticket_id, page in pages.items()
        if "anna.kowalska@example.com" in page
    )
    opened = agent.post(f"{url}/chat/inbox/tickets/{ticket_id}/new-ticket", data={
        "subject": "Your linen shirt", "body": "It left our warehouse today.",
        "csrf_token": _form_token(page)})
    assert opened.status_code == 200
    new_id = re.search(r"/chat/inbox/tickets/(\d+)", opened.url).group(1)

    customer = requests.Session()
    deadline = time.monotonic() + 20
    while "Your linen shirt" not in (mails := customer.get(f"{url}/mail").text):
        assert time.monotonic() < deadline, "the e-mail never reached the mail catcher"
        time.sleep(0.3)
    assert "anna.kowalska@example.com" in mails and "It left our warehouse today." in mails
    link = re.search(r'href="(http://[^"]+/chat/widget/continue/[^"]+)"', mails).group(1)
    landing = customer.get(link, allow_redirects=False)
    assert landing.status_code == 303 and "#rc-continue-" in landing.headers["Location"]

    action = re.search(r'action="(/mail/\d+/reply)"', mails).group(1)
    empty = customer.post(url + action, data={"body": "  ", "csrf_token": _form_token(mails)})
    assert empty.status_code == 422 and "Write a reply." in empty.text
    answered = customer.post(url + action, data={
        "body": "Great, thank you!", "csrf_token": _form_token(mails)})
    assert f"The reply was put on ticket #{new_id}" in answered.text
    ticket_page = agent.get(f"{url}/chat/inbox/tickets/{new_id}").text
    assert "Great, thank you!" in ticket_page
    assert "It left our warehouse today." in ticket_page  # the agent's own message, once:
    assert ticket_page.count("It left our warehouse today.") == 1  # no quoted history


def test_the_mail_catcher_keeps_what_smtplib_sends():
    """The catcher speaks enough SMTP for ``smtplib``: dots unstuffed, 8-bit text kept."""
    import smtplib
    from email.message import EmailMessage

    from responso_chat.demo.mailcatcher import MailCatcher

    catcher = MailCatcher().start()
    try:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "a@shop.test", "b@x.test", "Zażółć"
        mail.set_content("First line\n.starts with a dot\n")
        with smtplib.SMTP(catcher.host, catcher.port, timeout=5) as client:
            client.send_message(mail)
            client.noop()
        [caught] = catcher.mails()
        assert caught.recipients == ("b@x.test",) and caught.sender == "a@shop.test"
        assert caught.message["Subject"] == "Zażółć"
        assert caught.message.get_content() == "First line\n.starts with a dot\n"
        assert catcher.get(caught.id) is caught and catcher.get(caught.id + 1) is None
    finally:
        catcher.stop()
