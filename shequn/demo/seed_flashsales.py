"""A flash sale (秒杀) for the demo: one session tomorrow at 10:00 of the shop's priciest goods SKU
at 70 % of its price, 20 units, one per member, reservers first for 10 minutes; scheduled, so
members can reserve from now on and the console shows its counters.

Skipped when the shop already has it, so a second seed changes nothing.
"""

from datetime import timedelta

from django.utils import timezone

from shequn.accounts.models import User
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.flashsales import actions
from shequn.flashsales.actions import ItemInput, SaleInput, SessionInput
from shequn.flashsales.models import FlashSale
from shequn.shops.models import Shop

SALE_TITLE = "明早 10 点限量秒杀"
UNITS = 20


def seed_flashsale(shop: Shop, operator: User) -> FlashSale | None:
    if FlashSale.objects.filter(shop=shop, title=SALE_TITLE).exists():
        return None
    sku = (
        Sku.objects.filter(
            shop=shop, is_active=True, stock__gte=UNITS, price_fen__gte=200, product__kind=ProductKind.GOODS
        )
        .filter(product__on_shelf=True)
        .order_by("-price_fen", "pk")
        .first()
    )
    if sku is None:
        return None
    tomorrow = timezone.localtime() + timedelta(days=1)
    starts = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
    sale = actions.create_sale(
        shop,
        operator,
        SaleInput(
            title=SALE_TITLE,
            description="数量有限，先预约的邻居优先抢购 10 分钟。",
            reservation_starts_at=timezone.now() - timedelta(minutes=1),
            priority_minutes=10,
            payment_timeout_minutes=10,
            sessions=[
                SessionInput(
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    items=[
                        ItemInput(
                            sku_id=sku.pk, flash_price_fen=sku.price_fen * 7 // 10, quantity=UNITS, per_person_cap=1
                        )
                    ],
                )
            ],
        ),
    )
    return actions.schedule_sale(shop, operator, sale.pk)
