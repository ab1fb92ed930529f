"""Phone numbers as orders are looked up by: digits only, without the Polish country prefix.

A leaf module. Shops and customers write the same number many ways (``+48 601 234 567``,
``0048-601-234-567``, ``601234567``); they all become ``601234567``. Other countries keep
their prefix as ``00`` digits (``+33 6 12 34 56 78`` is ``0033612345678``).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-./()]+")
#: The shortest and longest number, in digits, that can be a phone number (E.164: 15).
MIN_DIGITS, MAX_DIGITS = 6, 15
HOME_PREFIXES = ("0048",)
HOME_COUNTRY_CODE = "48"
HOME_NUMBER_LENGTH = 9


def normalize_phone(text: str | None) -> str:
    """The digits a phone number is matched by, or ``""`` when ``text`` is not one."""
    text = _SEPARATORS.sub("", (text or "").strip())
    if text.startswith("+"):
        text = "00" + text[1:]
    if not text.isdigit() or not text.isascii():
        return ""
    for prefix in HOME_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    if len(text) == len(HOME_COUNTRY_CODE) + HOME_NUMBER_LENGTH and text.startswith(
        HOME_COUNTRY_CODE
    ):
        text = text[len(HOME_COUNTRY_CODE):]
    return text if MIN_DIGITS <= len(text) <= MAX_DIGITS else ""


def looks_like_phone(text: str | None) -> bool:
    """Whether ``text`` is written as a phone number (a ``+``, separators, or 9+ digits)."""
    raw = (text or "").strip()
    digits = normalize_phone(raw)
    return bool(digits) and (raw.startswith("+") or not raw.isdigit() or len(digits) >= 9)
