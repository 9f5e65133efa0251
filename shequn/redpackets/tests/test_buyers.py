"""A red packet for the buyers of a product: paid, not refunded in full, within the window."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from shequn.core.errors import DomainError
from shequn.orders.models import OrderLine
from shequn.redpackets import actions
from shequn.redpackets.actions import PacketInput
from shequn.redpackets.models import RedPacketGrab
from shequn.testing.orders import make_member, make_sku, paid_order, place_order
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind

pytestmark = pytest.mark.django_db


def buyers_input(product, **fields) -> PacketInput:
    now = timezone.now()
    values = {
        "title": "买三文鱼送红包",
        "total_fen": 1000,
        "count": 5,
        "split": "equal",
        "audience": "buyers",
        "product_id": product.pk,
        "purchase_from": now - timedelta(days=1),
        "purchase_until": now + timedelta(days=1),
        "starts_at": now - timedelta(seconds=1),
        "expires_at": now + timedelta(days=2),
    } | fields
    return PacketInput(**values)


def audience_code(user, packet) -> str:
    with pytest.raises(DomainError) as refused:
        actions.grab(user, packet.pk)
    return refused.value.code


def test_only_paid_unrefunded_buyers_in_the_window_grab(shop, owner, django_capture_on_commit_callbacks):
    sku = make_sku(shop, title="三文鱼")
    other = make_sku(shop, title="牛排")
    with django_capture_on_commit_callbacks(execute=True):
        packet = actions.fund_packet(shop, owner, buyers_input(sku.product))
    buyer, unpaid, refunded, elsewhere = (make_member() for _index in range(4))
    paid_order(buyer, sku, fulfilment="pickup")
    place_order(unpaid, sku, fulfilment="pickup")
    order = paid_order(refunded, sku, fulfilment="pickup")
    OrderLine.objects.filter(order=order).update(refunded_fen=F("paid_fen"))  # refunded in full
    paid_order(elsewhere, other, fulfilment="pickup")

    actions.grab(buyer, packet.pk)
    actions.materialise_grabs()
    assert ledger.balance(shop, AccountKind.SPENDABLE, buyer) == 200
    for user in (unpaid, refunded, elsewhere):
        assert audience_code(user, packet) == "red_packet_audience_only"
    assert list(RedPacketGrab.objects.values_list("member_id", flat=True)) == [buyer.pk]


def test_a_purchase_outside_the_window_does_not_count(shop, owner, django_capture_on_commit_callbacks):
    sku = make_sku(shop, title="三文鱼")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        packet = actions.fund_packet(
            shop,
            owner,
            buyers_input(sku.product, purchase_from=now - timedelta(days=3), purchase_until=now - timedelta(days=2)),
        )
    early = make_member()
    paid_order(early, sku, fulfilment="pickup")  # paid now: after the window closed
    assert audience_code(early, packet) == "red_packet_audience_only"


def test_a_buyers_pool_needs_a_product_of_the_shop_and_a_window(shop, other_shop, owner):
    foreign = make_sku(other_shop, title="别家的")
    mine = make_sku(shop, title="三文鱼")
    now = timezone.now()
    cases = [
        (buyers_input(foreign.product), "product"),
        (buyers_input(mine.product, purchase_from=now, purchase_until=now), "purchase_until"),
        (replace(buyers_input(mine.product), purchase_from=None), "purchase_until"),
    ]
    for data, field in cases:
        with pytest.raises(DomainError) as refused:
            actions.fund_packet(shop, owner, data)
        assert field in refused.value.details["fields"]
