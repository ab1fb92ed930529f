"""Waiting for something another thread or process does, without fixed sleeps."""

from __future__ import annotations

import time


def wait_until(check, timeout=15.0, what="the condition", interval=0.02):
    """Poll ``check()`` until it is truthy and return its value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(interval)
