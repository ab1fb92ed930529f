"""The README's "Python API" section: its example runs as written, and the signature check
its webhook section gives accepts what the plugin signs."""

from __future__ import annotations

import re
from pathlib import Path

from responso_chat.integrations import webhooks
from responso_chat.models import Ticket
from responso_chat.state import plugin_state
from tests.factories import make_chat

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_code(section: str) -> list[str]:
    """The ```python blocks of the README's ``### <section>``."""
    text = README.read_text()
    start = text.index(f"### {section}\n")
    end = text.find("\n#", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.DOTALL)


def test_the_python_api_example_runs(app):
    with app.app_context():
        make_chat("Store chat")  # the example's chat 1
    (example,) = readme_code("Python API")
    namespace = {"app": app}
    exec(compile(example, "README.md (Python API)", "exec"), namespace)  # noqa: S102
    with app.app_context():
        state = plugin_state()
        ticket = state.db.session.get(Ticket, namespace["opened"][0])
        assert ticket.subject == "Return of order 1042"
        assert ticket.last_sender == "agent" and ticket.last_seq == 2


def test_the_signature_check_of_the_webhook_section():
    (check,) = readme_code("Webhooks")
    namespace = {}
    exec(compile(check, "README.md (Webhooks)", "exec"), namespace)  # noqa: S102
    body = b'{"event":"ticket.created"}'
    signature = webhooks.sign("s3cret", body)
    assert namespace["is_from_responso"]("s3cret", body, signature)
    assert not namespace["is_from_responso"]("other", body, signature)
    assert not namespace["is_from_responso"]("s3cret", body + b" ", signature)
