"""Where a ``next`` argument may send the browser: only to a path of this site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: Browsers drop tabs and newlines from a URL and read ``\\`` as ``/``, so ``/\t/evil.example``
#: and ``/\\evil.example`` lead off-site; none of them belongs in a local path.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def local_path(target: str | None, fallback: str) -> str:
    """``target`` when it is a path of this site (``/inbox?x=1``), else ``fallback``."""
    target = target or ""
    parts = urlsplit(target) if not _UNSAFE.search(target) else None
    if (
        parts is None
        or not target.startswith("/")
        or target.startswith("//")
        or parts.scheme
        or parts.netloc
    ):
        return fallback
    return target
