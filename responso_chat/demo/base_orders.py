"""The demo shop's Base data: order statuses, order sources and the orders of three demo
customers, served by the stand-in (:mod:`.base_standin`) in the demo and in tests."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["demo_order_sources", "demo_orders", "demo_statuses"]


def demo_statuses() -> list[dict[str, Any]]:
    """The demo shop's order statuses."""
    return [
        {"id": id_, "name": name, "name_for_customer": for_customer, "color": color}
        for id_, name, for_customer, color in (
            (1001, "New", "Order received", "#4a90d9"),
            (1002, "Awaiting payment", "Waiting for your payment", "#f5a623"),
            (1003, "Paid", "Payment received", "#7ed321"),
            (1004, "In preparation", "Being prepared", "#9013fe"),
            (1005, "Shipped", "On its way", "#50e3c2"),
            (1006, "Delivered", "Delivered", "#2e7d32"),
            (1007, "Returned", "Returned", "#8b572a"),
            (1008, "Cancelled", "Cancelled", "#d0021b"),
        )
    ]


def demo_order_sources() -> dict[str, dict[str, str]]:
    """The demo shop's order sources, ids as strings like the real API."""
    return {"personal": {"0": "In person / phone"}, "shop": {"2401": "shop.example.com"}}


_CUSTOMERS = {
    "anna": {
        "email": "anna.kowalska@example.com",
        "user_login": "anna.kowalska",
        "phone": "+48 601 234 567",
        "currency": "PLN",
        "payment_method": "Przelewy24",
        "delivery_fullname": "Anna Kowalska",
        "delivery_address": "ul. Długa 12/4",
        "delivery_city": "Kraków",
        "delivery_postcode": "31-147",
        "delivery_country_code": "PL",
    },
    "jean": {
        "email": "jean.dupont@example.com",
        "user_login": "jdupont",
        "phone": "+33 6 12 34 56 78",
        "currency": "EUR",
        "payment_method": "Card",
        "delivery_fullname": "Jean Dupont",
        "delivery_address": "18 rue des Lilas",
        "delivery_city": "Lyon",
        "delivery_postcode": "69003",
        "delivery_country_code": "FR",
    },
    "john": {
        "email": "john.smith@example.com",
        "user_login": "johnsmith",
        "phone": "+44 7700 900123",
        "currency": "GBP",
        "payment_method": "PayPal",
        "delivery_fullname": "John Smith",
        "delivery_address": "221 Baker Street",
        "delivery_city": "London",
        "delivery_postcode": "NW1 6XE",
        "delivery_country_code": "GB",
    },
    "maria": {
        "email": "maria.nowak@example.com",
        "user_login": "mnowak",
        "phone": "0048 512-345-678",
        "currency": "PLN",
        "payment_method": "BLIK",
        "delivery_fullname": "Maria Nowak",
        "delivery_address": "ul. Polna 3",
        "delivery_city": "Poznań",
        "delivery_postcode": "60-101",
        "delivery_country_code": "PL",
    },
}

# customer, order id, days ago confirmed, status id, delivery (method, price, package nr),
# products (name, sku, ean, price, quantity)
_DEMO_ORDERS = (
    (
        "anna",
        5100420,
        130,
        1006,
        ("DPD Courier", 14.99, "1000987654321U"),
        [("Wool blanket 150x200, grey", "BLK-WOOL-150", "5901234123402", 299.00, 1)],
    ),
    (
        "anna",
        5103650,
        45,
        1006,
        ("DPD Courier", 14.99, "1000123456789U"),
        [("Linen tea towels (set of 3)", "TWL-LIN-3", "5901234123471", 59.90, 2)],
    ),
    (
        "anna",
        5104101,
        12,
        1005,
        ("InPost Paczkomaty", 12.99, "620012345678901234567890"),
        [
            ("Merino wool scarf, grey", "SCF-MER-GRY", "5901234123457", 129.00, 1),
            ("Wool care shampoo 250 ml", "CARE-WOOL-250", "5901234123464", 24.99, 2),
        ],
    ),
    (
        "anna",
        5104188,
        3,
        1002,
        ("DPD Courier", 14.99, ""),
        [("Cotton bed linen set 160x200", "BED-COT-160", "5901234123488", 249.00, 1)],
    ),
    (
        "jean",
        5103411,
        60,
        1007,
        ("Colissimo", 6.90, "6A12345678901"),
        [("Stainless steel kettle 1 l", "KET-STL-1L", "3760123450011", 49.00, 1)],
    ),
    (
        "jean",
        5104022,
        20,
        1004,
        ("Colissimo", 6.90, ""),
        [
            ("Ceramic pour-over coffee dripper", "COF-DRIP-CER", "3760123450028", 34.90, 1),
            ("Paper filters (100 pcs)", "COF-FILT-100", "3760123450035", 6.50, 3),
        ],
    ),
    (
        "jean",
        5104177,
        2,
        1001,
        ("Mondial Relay", 4.90, ""),
        [("Glass coffee server 600 ml", "COF-SRV-600", "3760123450042", 27.50, 1)],
    ),
    (
        "john",
        5102980,
        80,
        1008,
        ("Royal Mail Tracked 48", 3.95, ""),
        [("Running cap", "RUN-CAP-BLK", "5012345678900", 18.00, 1)],
    ),
    (
        "john",
        5103877,
        30,
        1005,
        ("Royal Mail Tracked 48", 3.95, "JD123456789GB"),
        [("Running jacket, size M", "RUN-JKT-M", "5012345678917", 89.00, 1)],
    ),
    (
        "john",
        5104150,
        6,
        1003,
        ("Evri", 2.99, ""),
        [
            ("Trail running socks (2 pairs)", "RUN-SCK-2P", "5012345678924", 14.50, 2),
            ("Insulated water bottle 750 ml", "BTL-INS-750", "5012345678931", 22.00, 1),
        ],
    ),
    # Maria: one order per carrier the tracking links know, in several statuses, and one
    # with a carrier they do not know (its number is shown alone).
    (
        "maria",
        5104230,
        1,
        1001,
        ("InPost Kurier", 16.99, ""),
        [("Bamboo cutting board", "KIT-BRD-BAM", "5901234123501", 79.00, 1)],
    ),
    (
        "maria",
        5104215,
        2,
        1002,
        ("Pocztex Kurier 48", 15.00, ""),
        [("Enamel mug, white", "MUG-ENM-WHT", "5901234123518", 39.00, 2)],
    ),
    (
        "maria",
        5104170,
        8,
        1005,
        ("DHL Parcel", 17.99, "3312345678"),
        [("Cast iron skillet 26 cm", "PAN-CST-26", "5901234123525", 189.00, 1)],
    ),
    (
        "maria",
        5104090,
        14,
        1005,
        ("UPS Standard", 24.00, "1Z999AA10123456784"),
        [("Espresso cups (set of 4)", "CUP-ESP-4", "5901234123532", 69.00, 1)],
    ),
    (
        "maria",
        5104010,
        24,
        1006,
        ("GLS Kurier", 15.50, "92345678901"),
        [("Oak serving tray", "TRY-OAK-40", "5901234123549", 149.00, 1)],
    ),
    (
        "maria",
        5103940,
        38,
        1005,
        ("Poczta Polska Pocztex", 13.00, "PX1234567890"),
        [("Linen napkins (set of 6)", "NAP-LIN-6", "5901234123556", 89.00, 1)],
    ),
    (
        "maria",
        5103850,
        55,
        1006,
        ("FedEx International Priority", 49.00, "794612345678"),
        [("Copper kettle 1.5 l", "KET-COP-15", "5901234123563", 259.00, 1)],
    ),
    (
        "maria",
        5103760,
        75,
        1005,
        ("Paczka w Ruchu", 9.99, "RU0012345678"),
        [("Herb planter, terracotta", "PLT-TER-20", "5901234123570", 45.00, 2)],
    ),
)
_UNPAID = (1001, 1002, 1008)
# Base's courier codes of the demo's carriers; the others are entered by hand (no code).
_COURIER_CODES = {
    "DPD Courier": "dpd",
    "InPost Paczkomaty": "inpost",
    "DHL Parcel": "dhl",
    "UPS Standard": "ups",
    "GLS Kurier": "gls",
    "Poczta Polska Pocztex": "pocztapolska",
    "FedEx International Priority": "fedex",
}


def demo_orders(now=None) -> list[dict[str, Any]]:
    """Orders of the demo customers (Anna, Jean, John: 3–4 each within the last 3 months, in
    several statuses, plus one older than 3 months for Anna; Maria: 8, one per carrier).
    ``now`` is a unix time (default: the current time)."""
    now = int(time.time() if now is None else now)
    orders = []
    for number, (customer, order_id, days_ago, status_id, delivery, products) in enumerate(
        _DEMO_ORDERS
    ):
        confirmed = now - days_ago * 86400 - 3600 * (number % 7 + 1)
        method, delivery_price, package_nr = delivery
        total = round(sum(price * qty for _n, _s, _e, price, qty in products) + delivery_price, 2)
        orders.append(
            {
                **_CUSTOMERS[customer],
                "order_id": order_id,
                "shop_order_id": 1200 + number,
                "order_status_id": status_id,
                "date_add": confirmed - 300,
                "date_confirmed": confirmed,
                "date_in_status": min(confirmed + days_ago * 86400 // 2, now),
                "payment_done": 0.0 if status_id in _UNPAID else total,
                "delivery_method": method,
                "delivery_price": delivery_price,
                "delivery_package_nr": package_nr,
                "delivery_package_module": _COURIER_CODES.get(method, "") if package_nr else "",
                "order_page": f"https://shop.example.com/order/{order_id}",
                "products": [
                    {
                        "name": name,
                        "sku": sku,
                        "ean": ean,
                        "price_brutto": price,
                        "quantity": quantity,
                    }
                    for name, sku, ean, price, quantity in products
                ],
            }
        )
    return orders
