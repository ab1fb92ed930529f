"""A host process that opens a chat ticket and is killed (SIGKILL) right after the commit,
before its outbox relay runs: ``python -m tests.outbox_crash_child <database> <redis> <chat>``."""

from __future__ import annotations

import os
import signal
import sys

from responso_chat.infra import outbox
from responso_chat.models import Chat
from tests.factories import make_ticket
from tests.hostapp import create_host_app


def main(database_url: str, redis_url: str, chat_id: int) -> None:
    """Commit a customer's first message, then die where the relay would start."""
    app = create_host_app(database_url, RESPONSO_CHAT_REDIS_URL=redis_url)
    outbox.relay_committed = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
    with app.app_context():
        state = app.extensions["responso_chat"]
        make_ticket(state.db.session.get(Chat, chat_id))
    sys.exit("still alive after the commit")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
