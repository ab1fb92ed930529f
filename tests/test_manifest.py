"""plugin.toml, the README and what init_app really registers agree."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from pathlib import Path

from responso_chat.blueprints import CHILDREN

import responso_chat
from responso_chat.config import PREFIX, SETTINGS

README = Path(__file__).resolve().parent.parent / "README.md"


def manifest() -> dict:
    return tomllib.loads(files("responso_chat").joinpath("plugin.toml").read_text())


def test_version_and_entry_point():
    data = manifest()["plugin"]
    assert data["version"] == responso_chat.__version__
    module, _, name = data["entry_point"].partition(":")
    assert getattr(__import__(module), name) is responso_chat.ResponsoChat


def test_blueprints_match_what_init_app_registers(app):
    declared = {(b["name"], b["url_prefix"], b["audience"]) for b in manifest()["blueprints"]}
    in_code = {(f"responso_chat.{m.bp.name}", p, a) for m, p, a in CHILDREN}
    assert declared == in_code
    registered = set(app.blueprints)
    for name, prefix, _audience in declared:
        assert name in registered
        rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith(name + ".")]
        assert rules and all(rule.startswith("/chat" + prefix) for rule in rules), name


def test_settings_match_config_defaults():
    declared = manifest()["settings"]
    assert set(declared) == set(SETTINGS)
    for name, (default, description) in SETTINGS.items():
        assert declared[name]["key"] == PREFIX + name
        assert declared[name]["default"] == default
        assert declared[name]["description"] == description


def test_queue_and_menu_entries_exist(app):
    data = manifest()
    assert data["queues"]["default"] == SETTINGS["QUEUE_NAME"][0]
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for entry in data["menu"]:
        assert entry["endpoint"] in endpoints
        assert entry["audience"] in {"admin", "agent"}


def test_readme_documents_every_setting_with_its_default():
    text = README.read_text()
    for name, (default, _description) in SETTINGS.items():
        row = re.search(rf"^\| `{PREFIX}{name}` \| (.*?) \|", text, re.MULTILINE)
        assert row, f"{PREFIX}{name} missing from the README's settings table"
        assert str(default) in row.group(1) or (default == "" and "empty" in row.group(1))
