"""A shop that is not the plugin's host, on its own loopback port, for the widget's tests."""

from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape


def storefront_app(embed: dict) -> Flask:
    """A shop that is not the plugin's host: every page carries the copied embed code."""
    shop = Flask("storefront")

    @shop.get("/", defaults={"path": ""})
    @shop.get("/<path:path>")
    def page(path):
        title = escape(path.replace("/", " ").strip().title() or "Home")
        return Markup(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title></head><body style='font-family:sans-serif'>"
            f"<h1>{title}</h1><p>Linen shirts and more.</p>"
            "<button id='go-shirt' onclick=\"history.pushState({}, '', '/products/shirt')\">"
            "Shirt</button> <button id='go-about' onclick=\"history.pushState({}, '', "
            "'/about')\">About</button>"
            f"{embed['code']}</body></html>"
        )

    return shop
