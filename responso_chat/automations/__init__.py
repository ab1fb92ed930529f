"""Automations' static parts, which schemas and services both read: the catalogue of conditions
and actions, and the template sandbox."""
