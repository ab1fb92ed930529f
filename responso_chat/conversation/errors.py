"""Errors the inbox services raise for a change they refuse, shaped for forms and JSON."""

from __future__ import annotations


class ChangeRefused(ValueError):
    """A change that cannot be made; ``errors`` is ``{field: [message]}`` for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.errors = {field: [message]}
