"""Size budgets of the storefront widget: what every shop page loads, and what the click loads."""

from __future__ import annotations

import gzip
from importlib.resources import files

WIDGET = files("responso_chat") / "static" / "responso_chat" / "widget"


def gzipped_size(*names: str) -> int:
    """Bytes of the files' contents gzipped together, as a server would send them."""
    return len(gzip.compress(b"".join((WIDGET / name).read_bytes() for name in names), 9))


def test_loader_stays_under_4_kb_gzipped():
    assert gzipped_size("loader.js") <= 4 * 1024


def test_widget_loaded_on_click_stays_under_25_kb_gzipped():
    assert gzipped_size("widget.js") + gzipped_size("widget.css") <= 25 * 1024
