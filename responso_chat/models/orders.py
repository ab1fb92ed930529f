"""Orders and order statuses of Base, cached locally, and when each customer's were fetched."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from responso_chat.models.base import Base, UTCDateTime, utcnow


class OrderStatus(Base):
    """An order status of Base, cached from ``getOrderStatusList``."""

    __tablename__ = "responso_chat_order_status"
    id = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    name = mapped_column(sa.String(100), nullable=False)
    name_for_customer = mapped_column(sa.String(100), nullable=False, default="")
    color = mapped_column(sa.String(16), nullable=False, default="")


class Order(Base):
    """An order of Base, cached locally and matched to tickets by the customer's e-mail."""

    __tablename__ = "responso_chat_order"
    __table_args__ = (
        sa.Index("ix_responso_chat_order_email_date", "email", "date_add"),
        sa.Index("ix_responso_chat_order_phone", "phone_digits"),
        sa.Index("ix_responso_chat_order_shop_number", "shop_order_id"),
    )
    id = mapped_column(sa.Integer, primary_key=True)
    base_order_id = mapped_column(sa.BigInteger, nullable=False, unique=True)
    shop_order_id = mapped_column(sa.String(50), nullable=False, default="")
    status_id = mapped_column(sa.BigInteger, nullable=True)
    date_add = mapped_column(UTCDateTime, nullable=True)
    date_confirmed = mapped_column(UTCDateTime, nullable=True)
    date_in_status = mapped_column(UTCDateTime, nullable=True)
    email = mapped_column(sa.String(254), nullable=False, default="")
    phone = mapped_column(sa.String(40), nullable=False, default="")
    #: The phone number's digits without the country prefix +48 / 0048 (orders.phones).
    phone_digits = mapped_column(sa.String(40), nullable=False, default="")
    currency = mapped_column(sa.String(3), nullable=False, default="")
    total = mapped_column(sa.Numeric(12, 2), nullable=False, default=0)
    products = mapped_column(sa.JSON, nullable=False, default=list)
    payment_method = mapped_column(sa.String(100), nullable=False, default="")
    payment_done = mapped_column(sa.Numeric(12, 2), nullable=False, default=0)
    delivery_method = mapped_column(sa.String(100), nullable=False, default="")
    delivery_price = mapped_column(sa.Numeric(12, 2), nullable=False, default=0)
    delivery_fullname = mapped_column(sa.String(200), nullable=False, default="")
    delivery_address = mapped_column(sa.String(300), nullable=False, default="")
    delivery_city = mapped_column(sa.String(100), nullable=False, default="")
    delivery_postcode = mapped_column(sa.String(20), nullable=False, default="")
    delivery_country_code = mapped_column(sa.String(2), nullable=False, default="")
    delivery_package_nr = mapped_column(sa.String(100), nullable=False, default="")
    # Base's courier code of the parcel (``inpost``, ``dpd``...): see orders.tracking.
    delivery_package_module = mapped_column(sa.String(50), nullable=False, default="")
    order_page = mapped_column(sa.String(500), nullable=False, default="")
    synced_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OrderSync(Base):
    """When a customer's orders were last fetched from Base, and the failure since then."""

    __tablename__ = "responso_chat_order_sync"
    email = mapped_column(sa.String(254), primary_key=True)  # lower-cased
    synced_at = mapped_column(UTCDateTime, nullable=True)
    # The last failure's reason in words, and when failures started (cleared on success).
    error = mapped_column(sa.Text, nullable=False, default="")
    error_at = mapped_column(UTCDateTime, nullable=True)
