"""The package's layout: schemas never import services (services import them); no module
imports, even inside a function, a module that imports it back (no circles); no module is over
500 lines; blueprints hold routes and responses only (no SQL, no wire events); every wire
event is built in :mod:`responso_chat.conversation.wire`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import responso_chat
from responso_chat import blueprints
from responso_chat.conversation import wire

#: What schemas may build on: leaf modules of the plugin, never services, models or views.
SCHEMA_LEAVES = (
    "responso_chat.schemas",
    "responso_chat.automations.catalogue",
    "responso_chat.automations.templating",
    "responso_chat.state",
    "responso_chat.conversation.visibility",
    "responso_chat.orders.phones",
    "responso_chat.vocab",
)


def _module_files() -> dict[str, Path]:
    """Every module of the installed package by name (blueprints/ is installed inside it)."""
    found = {}
    for root, prefix in (
        (Path(responso_chat.__file__).parent, "responso_chat"),
        (Path(blueprints.__file__).parent, "responso_chat.blueprints"),
    ):
        for path in root.rglob("*.py"):
            parts = [prefix, *path.relative_to(root).with_suffix("").parts]
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


FILES = _module_files()


def _imports(name: str) -> set[str]:
    """The plugin's modules that module ``name`` imports, at the top or inside functions."""
    path = FILES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            found.update(module for module in submodules if module in FILES)
            if not all(module in FILES for module in submodules):
                found.add(base)
    return {module for module in found if module in FILES and module != name}


@pytest.mark.parametrize("name", sorted(n for n in FILES if n.startswith("responso_chat.schemas")))
def test_schemas_import_only_leaf_modules(name):
    assert all(module.startswith(SCHEMA_LEAVES) for module in _imports(name)), _imports(name)


def test_no_import_circles():
    graph = {name: _imports(name) for name in FILES}
    state: dict[str, str] = {}  # "open" while its imports are walked, then "done"

    def circle_from(name, path):
        state[name] = "open"
        for module in sorted(graph[name]):
            if state.get(module) == "open":
                return [*path, name, module]
            if module not in state and (found := circle_from(module, [*path, name])):
                return found
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state:
            assert circle_from(name, []) is None


MAX_LINES = 500
WIRE = "responso_chat.conversation.wire"
BLUEPRINTS = sorted(name for name in FILES if name.startswith("responso_chat.blueprints"))


@pytest.mark.parametrize("name", sorted(FILES))
def test_no_module_over_500_lines(name):
    lines = len(FILES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by concern"


def _type_dicts(name: str) -> list[tuple[int, object]]:
    """``(line, value)`` of every dict display with a ``"type"`` key in module ``name``
    (``value`` is the constant given, or None when it is computed)."""
    found = []
    for node in ast.walk(ast.parse(FILES[name].read_text())):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "type":
                    constant = value.value if isinstance(value, ast.Constant) else None
                    found.append((node.lineno, constant))
    return found


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprints_import_no_sqlalchemy(name):
    """Queries live in the package's services. The exception classes of ``sqlalchemy.exc``
    are allowed: turning a lost connection into a 503 is a response's business."""
    imported = set()
    for node in ast.walk(ast.parse(FILES[name].read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            imported.add(node.module or "")
    sql = {m for m in imported if m.split(".")[0] == "sqlalchemy" and m != "sqlalchemy.exc"}
    assert not sql, f"{name} imports {sorted(sql)}"


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprints_build_no_event_dicts(name):
    assert _type_dicts(name) == [], f"{name} builds {{'type': ...}} dicts"


def test_wire_events_are_built_only_in_the_wire_module():
    events = set(wire.EVENT_TYPES)
    elsewhere = {
        name: found
        for name in FILES
        if name != WIRE
        and (found := [(line, kind) for line, kind in _type_dicts(name) if kind in events])
    }
    assert elsewhere == {}
    built = {kind for _line, kind in _type_dicts(WIRE)}
    assert built == events, "every event type has its builder, and only those"
