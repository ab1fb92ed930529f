"""Carrier tracking links for an order, from Base's courier code and tracking number.

Base names the courier of a parcel in ``delivery_package_module`` (``inpost``, ``dpd``, ...)
and its number in ``delivery_package_nr``. When the courier code is empty (a parcel entered by
hand) the delivery method's name (``"InPost Paczkomaty 24/7"``, ``"Kurier DPD"``) says who
carries it. Carriers nobody here knows get no link: the number is shown alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

#: Carriers with a public tracking page: (name, words that name it, the page with ``{}``).
CARRIERS = (
    ("InPost", ("inpost", "paczkomat"), "https://inpost.pl/sledzenie-przesylek?number={}"),
    ("DPD", ("dpd",), "https://tracktrace.dpd.com.pl/parcelDetails?typ=1&p1={}"),
    (
        "DHL",
        ("dhl",),
        "https://www.dhl.com/pl-en/home/tracking/tracking-parcel.html?submit=1&tracking-id={}",
    ),
    ("UPS", ("ups",), "https://www.ups.com/track?tracknum={}"),
    ("GLS", ("gls",), "https://gls-group.com/PL/pl/sledzenie-paczek?match={}"),
    (
        "Poczta Polska",
        ("pocztapolska", "poczta polska", "pocztex", "envelo"),
        "https://emonitoring.poczta-polska.pl/?numer={}",
    ),
    ("FedEx", ("fedex",), "https://www.fedex.com/fedextrack/?trknbr={}"),
)
_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,40}$")


@dataclass(frozen=True)
class Tracking:
    """A parcel's carrier (``""`` when unknown), its number and its tracking page, if any."""

    carrier: str
    number: str
    url: str | None


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", " ", (text or "").lower())


def _carrier(courier_code: str, delivery_method: str):
    code = _words(courier_code).replace(" ", "")
    method = f" {_words(delivery_method)} "
    for carrier in CARRIERS:
        name, words, _page = carrier
        if any(word.replace(" ", "") in code for word in words if code):
            return carrier
    for carrier in CARRIERS:
        if any(f" {word} " in method or (len(word) > 4 and word in method) for word in carrier[1]):
            return carrier
    return None


def tracking(courier_code: str, delivery_method: str, number: str) -> Tracking | None:
    """The tracking of a parcel, or ``None`` when it has no number yet.

    The link is given only for a known carrier and a number made of letters, digits and
    dashes (anything else could not be a real number and is shown as text).
    """
    number = (number or "").strip()
    if not number:
        return None
    carrier = _carrier(courier_code, delivery_method)
    if carrier is None:
        return Tracking("", number, None)
    name, _words_, page = carrier
    url = page.format(quote(number, safe="")) if _NUMBER.match(number) else None
    return Tracking(name, number, url)


def order_tracking(order) -> Tracking | None:
    """The tracking of a cached :class:`~responso_chat.models.Order`, or ``None``."""
    return tracking(order.delivery_package_module, order.delivery_method, order.delivery_package_nr)
