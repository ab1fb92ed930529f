"""Widget weight: gzipped sizes, and how soon the launcher shows on a shop page.

A storefront on its own loopback port serves the same page with and without the embed code;
the plugin runs under gunicorn on another port. The page itself records, with
``performance.now()``, when its ``load`` event fired and when the launcher became visible
(polled every animation frame), so both figures are measured the same way.

Each round opens a fresh browser context and makes three visits of each page in it:

* first visit: nothing cached, nothing stored;
* repeat visit, HTTP cache emptied: the loader must come over the network again, the site's
  storage is kept (the loader draws from the config it kept). A real browser keeps its HTTP
  cache: this is a visit after the cache was dropped, or after the loader's cache lifetime
  (5 minutes fresh, then a week of stale-while-revalidate);
* next page, the same as a repeat visit within that week (the HTTP cache kept): the loader
  from the HTTP cache, the config from storage, the launcher drawn with no network at all
  (the stale loader and the config are revalidated afterwards). Timing does not tell a
  fresh cached loader from a stale one: both run without waiting for the network.

Each ratio divides the launcher's time by the plain page's load time of the same kind of visit.
For scale, the plain page's first paint (the browser's ``first-paint`` entry) is given against
its own load, and how often the launcher was already there in the first frame the page with the
widget painted (found by the animation-frame poll before that paint).
"""

from __future__ import annotations

import gzip
import statistics
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files

from bench.env import SERVER_CONFIG, Environment
from tests.appserver import AppServer
from tests.conftest import CHROMIUM, CHROMIUM_ARGS

WIDGET = files("responso_chat") / "static" / "responso_chat" / "widget"

#: Records when the page loaded and when the launcher (if any) became visible.
TIMING_SCRIPT = """<script>
window.__bench = {};
addEventListener("load", () => { __bench.load = performance.now(); });
(function watch() {
  const host = document.querySelector("responso-chat");
  const button = host && host.shadowRoot && host.shadowRoot.querySelector("button");
  if (button && button.getBoundingClientRect().width > 0) {
    __bench.launcher = performance.now();
  } else {
    requestAnimationFrame(watch);
  }
})();
</script>"""


def gzipped(*names: str) -> int:
    """Bytes of the widget files gzipped (level 9, as the size budget test counts them)."""
    return sum(len(gzip.compress((WIDGET / name).read_bytes(), 9)) for name in names)


def storefront_page(embed: str) -> bytes:
    """A small product page, with ``embed`` (the embed code, or nothing) before ``</body>``."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Linen shirt</title>"
        f"{TIMING_SCRIPT}</head><body style='font-family:sans-serif'><h1>Linen shirt</h1>"
        "<p>Light, breathable, made to last.</p><button>Add to cart</button>"
        f"{embed}</body></html>"
    ).encode()


class Storefront:
    """The shop's own server: ``/with`` carries the embed code, ``/without`` does not."""

    def __init__(self):
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                body = pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


VISITS = ("first", "repeat", "next_page")


def _load(context, url: str, launcher: bool, empty_cache: bool = False) -> dict:
    page = context.new_page()
    try:
        if empty_cache:
            context.new_cdp_session(page).send("Network.clearBrowserCache")
        page.goto(url, wait_until="load")
        if launcher:
            page.wait_for_function("window.__bench.launcher !== undefined")
        page.wait_for_function("performance.getEntriesByName('first-paint').length > 0")
        return page.evaluate(
            "({...window.__bench, paint: performance.getEntriesByName('first-paint')[0].startTime})"
        )
    finally:
        page.close()


def _visits(browser, url: str, launcher: bool) -> dict:
    """A first visit, a repeat visit (HTTP cache emptied, storage kept), then a next page."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        first = _load(context, url, launcher)
        repeat = _load(context, url, launcher, empty_cache=True)
        return {"first": first, "repeat": repeat, "next_page": _load(context, url, launcher)}
    finally:
        context.close()


def run(env: Environment, *, visits: int, logs) -> dict:
    """Sizes, then ``visits`` first visits of each page (alternating) in headless Chromium."""
    from playwright.sync_api import sync_playwright

    sizes = {
        "loader_gzip_bytes": gzipped("loader.js"),
        "lazy_gzip_bytes": gzipped("widget.js", "widget.css"),
    }
    store = Storefront()
    shop = env.shop(origins=(store.url,))
    server = AppServer(shop.database_url, worker_class="gthread", threads=16,
                       config=SERVER_CONFIG, log_path=logs / "widget.log").start()
    loader = f"{server.url}/chat/widget/{shop.public_key}/loader.js"
    store.pages["/with"] = storefront_page(f'<script src="{loader}" async></script>')
    store.pages["/without"] = storefront_page("")
    plain, with_widget = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                _visits(browser, store.url + "/with", True)  # warm up the servers
                for _ in range(visits):
                    plain.append(_visits(browser, store.url + "/without", False))
                    with_widget.append(_visits(browser, store.url + "/with", True))
            finally:
                browser.close()
    finally:
        server.stop()
        store.close()
    result = {**sizes, "visits": visits}
    for kind in VISITS:
        load_plain = statistics.median(v[kind]["load"] for v in plain)
        load_with = statistics.median(v[kind]["load"] for v in with_widget)
        shown = statistics.median(v[kind]["launcher"] for v in with_widget)
        paint_plain = statistics.median(v[kind]["paint"] for v in plain)
        figures = {
            "load_without_widget_ms": round(load_plain, 1),
            "load_with_widget_ms": round(load_with, 1),
            "launcher_visible_ms": round(shown, 1),
            "load_ratio": round(load_with / load_plain, 2),
            "launcher_ratio": round(shown / load_plain, 2),
            "first_paint_without_widget_ms": round(paint_plain, 1),
            "first_paint_ratio": round(paint_plain / load_plain, 2),
            "launcher_in_first_paint": sum(
                v[kind]["launcher"] <= v[kind]["paint"] for v in with_widget
            ) / len(with_widget),
        }
        if kind == "first":  # the figures of earlier runs, under their names
            result.update(figures)
        result[kind] = figures
    return result
