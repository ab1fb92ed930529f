"""Admins' templates of auto-responses and notes, rendered in a bounded Jinja sandbox; a leaf
module, so the rule form's schema checks a template the way the runner renders it."""

from __future__ import annotations

from jinja2 import TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from responso_chat.automations.catalogue import TEMPLATE_VARIABLES
from responso_chat.state import plugin_state


class _TemplateSandbox(SandboxedEnvironment):
    """Jinja's sandbox for admins' and agents' templates, bounded in CPU and memory: no
    globals (``lipsum``, ``range``, ``cycler``...), no loops, macros or assignments (a
    ``{% set %}`` doubling a text sixty times), no repeating or padding text (``"x" * 10**9``,
    ``"%0999999999d" % 1``) and no powers, so a template renders in microseconds or is
    refused. Without assignments, what a template renders grows with its own length only."""

    intercepted_binops = frozenset({"*", "**", "%"})
    #: Filters that cannot grow a text past the template's own size.
    FILTERS = ("capitalize", "default", "d", "lower", "title", "trim", "truncate", "upper")

    def __init__(self):
        super().__init__(autoescape=False, keep_trailing_newline=False)
        self.globals.clear()
        self.filters = {name: self.filters[name] for name in self.FILTERS}

    def is_safe_attribute(self, obj, attr, value):
        """No attributes or methods: ``customer_name.ljust(10**9)`` is refused."""
        return False

    def call_binop(self, context, operator, left, right):
        if operator == "**" or any(isinstance(v, str | list | tuple) for v in (left, right)):
            raise SecurityError(f"“{operator}” is not available in templates")
        return super().call_binop(context, operator, left, right)


_templates = _TemplateSandbox()
_UNBOUNDED = (nodes.For, nodes.Macro, nodes.CallBlock)
_ASSIGNING = (nodes.Assign, nodes.AssignBlock, nodes.With)


def _parse(text: str):
    """The template's syntax tree; loops, macros and assignments are refused, and so is a
    template nested too deeply to parse (``TemplateError``)."""
    try:
        parsed = _templates.parse(text)
    except RecursionError:
        raise TemplateError("it is nested too deeply") from None
    if any(True for _ in parsed.find_all(_UNBOUNDED)):
        raise TemplateError("loops and macros are not available in templates")
    if any(True for _ in parsed.find_all(_ASSIGNING)):
        raise TemplateError("{% set %} and {% with %} are not available in templates")
    return parsed


def template_problems(text: str, variables=TEMPLATE_VARIABLES) -> list[str]:
    """Why ``text`` is not a usable template with ``variables`` (an auto-responder's by
    default; canned responses have their own) — empty when it is."""
    try:
        parsed = _parse(text)
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(variables))
    except TemplateError as exc:
        return [_template_error(exc)]
    if unknown:
        return [
            f"Unknown variable {', '.join(unknown)}: use "
            + ", ".join(variables)
            + "."
        ]
    try:  # what only shows when it runs: a refused operation, an unknown filter
        _templates.from_string(parsed).render(**dict.fromkeys(variables, "x"))
    except Exception as exc:
        return [_template_error(exc)]
    return []


def _template_error(exc: Exception) -> str:
    return f"The template has an error: {str(getattr(exc, 'message', None) or exc).rstrip('.')}."


def used_variables(text: str) -> set[str]:
    """The variables ``text`` uses (``TemplateError`` if it does not parse)."""
    return meta.find_undeclared_variables(_parse(text))


def render_text(text: str, variables: dict) -> str:
    """Render an admin's template in the sandbox, as plain text cut to the message length.

    Any failure (a syntax error, an unsafe access, ``1 + "a"``) raises ``TemplateError``.
    """
    try:
        rendered = _templates.from_string(_parse(text)).render(**variables).strip()
    except TemplateError:
        raise
    except Exception as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}") from exc
    return rendered[: plugin_state().setting("MAX_MESSAGE_LENGTH")]
