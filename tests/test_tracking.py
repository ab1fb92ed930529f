"""Tracking links from Base's courier code, or the delivery method's name, and the number."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from responso_chat.orders.tracking import CARRIERS, Tracking, order_tracking, tracking


@pytest.mark.parametrize(
    ("code", "method", "carrier", "url"),
    [
        ("inpost", "", "InPost", "https://inpost.pl/sledzenie-przesylek?number=NR123456"),
        ("inpostkurier", "", "InPost", "https://inpost.pl/sledzenie-przesylek?number=NR123456"),
        ("", "InPost Paczkomaty 24/7", "InPost", "https://inpost.pl/sledzenie-przesylek?number=NR123456"),
        ("dpd", "", "DPD", "https://tracktrace.dpd.com.pl/parcelDetails?typ=1&p1=NR123456"),
        ("", "Kurier DPD", "DPD", "https://tracktrace.dpd.com.pl/parcelDetails?typ=1&p1=NR123456"),
        ("dhl", "", "DHL", "https://www.dhl.com/pl-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=NR123456"),
        ("ups", "", "UPS", "https://www.ups.com/track?tracknum=NR123456"),
        ("", "UPS Standard", "UPS", "https://www.ups.com/track?tracknum=NR123456"),
        ("gls", "", "GLS", "https://gls-group.com/PL/pl/sledzenie-paczek?match=NR123456"),
        ("pocztapolska", "", "Poczta Polska", "https://emonitoring.poczta-polska.pl/?numer=NR123456"),
        ("", "Pocztex Kurier 48", "Poczta Polska", "https://emonitoring.poczta-polska.pl/?numer=NR123456"),
        ("fedex", "", "FedEx", "https://www.fedex.com/fedextrack/?trknbr=NR123456"),
        ("", "FedEx International Priority", "FedEx", "https://www.fedex.com/fedextrack/?trknbr=NR123456"),
    ],
)
def test_known_carriers_get_their_tracking_page(code, method, carrier, url):
    assert tracking(code, method, " NR123456 ") == Tracking(carrier, "NR123456", url)


def test_every_carrier_of_the_list_is_reached_by_its_code():
    for name, words, _page in CARRIERS:
        assert tracking(words[0], "", "AB1234").carrier == name


@pytest.mark.parametrize(
    ("code", "method"),
    [("", "Colissimo"), ("mycourier", "Own transport"), ("", ""), ("", "Groups pickup")],
)
def test_unknown_carriers_show_the_number_alone(code, method):
    assert tracking(code, method, "6A12345678901") == Tracking("", "6A12345678901", None)


def test_no_number_no_tracking():
    assert tracking("inpost", "InPost", "") is None
    assert tracking("inpost", "InPost", "   ") is None


@pytest.mark.parametrize("number", ['12345"><script>', "12 34 56", "a/../../b", "x" * 41])
def test_a_number_that_cannot_be_real_gets_no_link(number):
    found = tracking("dpd", "", number)
    assert found.carrier == "DPD" and found.url is None and found.number == number.strip()


def test_an_order_row_gives_its_tracking():
    order = SimpleNamespace(
        delivery_package_module="", delivery_method="DPD Courier", delivery_package_nr="100U"
    )
    assert order_tracking(order).url == "https://tracktrace.dpd.com.pl/parcelDetails?typ=1&p1=100U"
