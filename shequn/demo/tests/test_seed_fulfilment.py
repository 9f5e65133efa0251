"""The demo seed for fulfilment: goods received in full, two pickups per point; idempotent."""

import pytest

from shequn.demo.seed_fulfilment import seed_fulfilment
from shequn.fulfilment.enums import TicketStatus
from shequn.fulfilment.models import GoodsReceipt, PickupTicket
from shequn.fulfilment.tests.conftest import world
from shequn.orders.models import RefundRequest

__all__ = ["world"]

pytestmark = pytest.mark.django_db


def test_seed_receives_goods_and_picks_up_a_few_once(world, operator):
    assert seed_fulfilment(world.shop, operator) == 3  # 翠苑: 2 of 3, 文一: its only one
    assert seed_fulfilment(world.shop, operator) == 0
    assert GoodsReceipt.objects.count() == 3
    assert RefundRequest.objects.count() == 0
    picked = PickupTicket.objects.filter(status=TicketStatus.PICKED_UP)
    assert sorted(t.sign_up.sequence or 0 for t in picked) == [1, 2, 3]
    assert PickupTicket.objects.filter(status=TicketStatus.OPEN).count() == 1
