"""A websocket test client that reads the plugin's JSON events (simple_websocket underneath)."""

from __future__ import annotations

import json
import time

from simple_websocket import Client

TIMEOUT = 5


class BrowserLikeClient(Client):
    """simple_websocket's client, sending ``Host`` with the port as browsers do."""

    def handshake(self):
        self.host = f"{self.host}:{self.port}"
        super().handshake()


class Socket:
    """A websocket client reading JSON events, skipping pings."""

    def __init__(self, url, headers=None, subprotocols=None):
        self.ws = BrowserLikeClient.connect(url, headers=headers or {}, subprotocols=subprotocols)

    def send(self, **event):
        """Send one JSON frame."""
        self.ws.send(json.dumps(event))

    def next(self, kind=None, timeout=TIMEOUT):
        """The next event (of ``kind`` if given, skipping others)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {kind or 'event'} within {timeout} s"
            raw = self.ws.receive(timeout=left)
            if raw is None:
                continue
            event = json.loads(raw)
            if event["type"] != "ping" and (kind is None or event["type"] == kind):
                return event

    def collect(self, count, *kinds):
        """The next ``count`` events of the given kinds, in arrival order."""
        events = []
        while len(events) < count:
            event = self.next()
            if event["type"] in kinds:
                events.append(event)
        return events

    def nothing(self, kind, wait=0.4):
        """Assert no event of ``kind`` arrives within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            raw = self.ws.receive(timeout=left)
            if raw is not None:
                assert json.loads(raw)["type"] != kind, raw

    def close(self):
        """Close the socket (quietly if the server closed it already)."""
        if self.ws.connected:
            self.ws.close()
        self.ws.sock.close()
