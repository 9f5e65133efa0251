"""Helpers for tests that need orders: a shop with stock, a member with an address, an order."""

from typing import Any

from shequn.orders import actions
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.orders.models import Order
from shequn.testing.factories import (
    AddressFactory,
    PickupPointFactory,
    ShopFactory,
    SkuFactory,
    StaffFactory,
    UserFactory,
)


def make_shop(**fields: Any) -> Any:
    fields.setdefault("shipping_fee_fen", 1000)
    fields.setdefault("free_shipping_threshold_fen", 9900)
    return ShopFactory(**fields)


def make_sku(shop: Any, *, price_fen: int = 3500, stock: int = 100, **product_fields: Any) -> Any:
    product_fields = {f"product__{key}": value for key, value in product_fields.items()}
    return SkuFactory(product__shop=shop, price_fen=price_fen, stock=stock, **product_fields)


def make_member(**fields: Any) -> Any:
    user = UserFactory(**fields)
    AddressFactory(user=user)
    return user


def make_staff(shop: Any, role: str = "owner") -> Any:
    return StaffFactory(shop=shop, role=role).user


def staff_client(shop: Any, role: str = "owner") -> Any:
    """A test client signed in (session) as a new staff member of ``shop`` with ``role``."""
    from django.test import Client

    client = Client()
    client.force_login(make_staff(shop, role=role))
    return client


def place_order(
    user: Any,
    sku: Any,
    quantity: int = 1,
    *,
    payment_method: str = PaymentMethod.SANDBOX,
    fulfilment: str = Fulfilment.DELIVERY,
    **extra: Any,
) -> Order:
    """Buy ``quantity`` of ``sku`` now, delivered to the member's first address (or picked up)."""
    if fulfilment == Fulfilment.DELIVERY:
        extra.setdefault("address_id", user.addresses.first().pk)
    else:
        extra.setdefault("pickup_point_id", PickupPointFactory.create(shop=sku.shop).pk)
    return actions.create_order(
        user, sku_id=sku.pk, quantity=quantity, fulfilment=fulfilment, payment_method=payment_method, **extra
    )


def paid_order(user: Any, sku: Any, quantity: int = 1, **kwargs: Any) -> Order:
    order = place_order(user, sku, quantity, **kwargs)
    actions.mark_paid(order)
    return order


def api_token(user: Any) -> str:
    """A bearer token for ``user`` (stored hashed, as the real sign-in does)."""
    from shequn.accounts.auth import hash_token
    from shequn.accounts.models import ApiToken
    from shequn.core.ids import random_token

    token = random_token()
    ApiToken.objects.create(user=user, token_hash=hash_token(token), name="test")
    return token


def auth_headers(user: Any, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(user)}", **extra}


def make_slot(shop: Any, *, days_ahead: int = 1, capacity: int = 50, **fields: Any) -> Any:
    """A delivery slot ``days_ahead`` days from today, 09:00–12:00, cut off the day before at 20:00
    (unless ``cutoff_at`` is given); ``fields`` override the rest."""
    from datetime import time, timedelta

    from django.utils import timezone

    from shequn.shops.actions import default_cutoff
    from shequn.shops.models import DeliverySlot

    day = timezone.localdate() + timedelta(days=days_ahead)
    fields.setdefault("starts_at", time(9, 0))
    fields.setdefault("ends_at", time(12, 0))
    fields.setdefault("cutoff_at", max(default_cutoff(day), timezone.now() + timedelta(hours=1)))
    slot = DeliverySlot.objects.create(shop=shop, date=day, capacity=capacity, **fields)
    slot.refresh_from_db()  # times given as "09:00" come back as time objects
    return slot
