"""Races only a real engine shows (PostgreSQL pass): the receipt form submitted several times at
once refunds shortages exactly once; one pickup code verified at once on several phones hands
over exactly once."""

import pytest

from shequn.fulfilment import actions
from shequn.fulfilment.models import GoodsReceipt, PickupTicket, ShortageRefund
from shequn.orders.enums import OrderStatus
from shequn.orders.models import OrderEvent, RefundRequest
from shequn.testing.postgres import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_receipts_refund_each_shortage_once(world):
    first, _ = world.leaders
    units = {world.skus["fish"].pk: 1, world.skus["shrimp"].pk: 2}

    def submit():
        actions.receive_goods(first, world.campaign.pk, units, actor=first.user)
        return "ok"

    assert run_at_once([submit] * 4) == ["goods_already_received"] * 3 + ["ok"]
    assert GoodsReceipt.objects.count() == 2
    assert ShortageRefund.objects.count() == 3
    assert sorted(RefundRequest.objects.values_list("amount_fen", flat=True)) == [2990, 3990, 3990]
    assert PickupTicket.objects.count() == 3


def test_one_code_verified_on_several_phones_at_once_hands_over_once(world):
    first, _ = world.leaders
    actions.receive_goods(
        first, world.campaign.pk, {world.skus["fish"].pk: 3, world.skus["shrimp"].pk: 3}, actor=first.user
    )
    ticket = PickupTicket.objects.get(sign_up=world.sign_ups[0])

    def by_code():
        actions.verify_code(first, ticket.code, actor=first.user)
        return "ok"

    def by_qr():
        actions.verify_token(first.user, ticket.token)
        return "ok"

    assert run_at_once([by_code, by_code, by_qr, by_qr]) == ["already_picked_up"] * 3 + ["ok"]
    order = ticket.order
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PICKED_UP).count() == 1


def test_simultaneous_settlement_runs_settle_each_order_once(completed, operator):
    from datetime import timedelta

    import time_machine
    from django.conf import settings
    from django.utils import timezone

    from shequn.fulfilment.models import Settlement, SettlementLine

    day = completed.done_on

    def settle():
        actions.create_settlements(completed.shop, operator, start=day, end=day)
        return "ok"

    # the clock is moved for the whole process (every thread) from here
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 2)):
        assert run_at_once([settle] * 3) == ["nothing_to_settle"] * 2 + ["ok"]
    assert Settlement.objects.count() == 2
    assert SettlementLine.objects.count() == 4
