"""Issue 13 end to end in Chromium: a flash sale (秒杀) with reservations (预约).

A member reserves while the page counts down, gets the reminder in the inbox when the session
starts, buys (立即抢购), sees 排队中 and then the order, and pays in the sandbox cashier. A second
member who did not reserve is refused during the reservers-only window and admitted after it.
"""

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from shequn.flashsales import actions, tickets
from shequn.flashsales.actions import ItemInput, SaleInput, SessionInput
from shequn.flashsales.models import FlashClaim
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.orders.models import Order
from shequn.testing.factories import AddressFactory, SkuFactory, UserFactory
from shequn.testing.payments import run_scheduled_tasks, sandbox, sandbox_key_dir
from shequn.testing.two_shops import operator, shop

__all__ = ["operator", "sandbox", "sandbox_key_dir", "shop"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEAD_SECONDS = 8


@pytest.fixture
def gate() -> Iterator[LocalGate]:
    fresh = LocalGate()
    previous = use_gate(fresh)
    yield fresh
    use_gate(previous)


def test_reserve_reminder_buy_queue_order_pay_and_the_priority_window(
    shop, operator, sandbox, gate, signed_in_page
) -> None:
    sku = SkuFactory.create(product__shop=shop, product__title="旗舰手机", spec="256G", price_fen=399900, stock=10)
    starts = timezone.now() + timedelta(seconds=LEAD_SECONDS)
    sale = actions.create_sale(
        shop,
        operator,
        SaleInput(
            title="旗舰手机限量秒杀",
            reservation_starts_at=starts - timedelta(hours=1),
            priority_minutes=1,
            sessions=[
                SessionInput(
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    items=[ItemInput(sku_id=sku.pk, flash_price_fen=299900, quantity=2, per_person_cap=1)],
                )
            ],
        ),
    )
    actions.schedule_sale(shop, operator, sale.pk)
    reserver = UserFactory.create(nickname="预约的小王")
    AddressFactory.create(user=reserver, is_default=True)
    latecomer = UserFactory.create(nickname="没预约的小李")
    AddressFactory.create(user=latecomer, is_default=True)

    # Before the start: the countdown runs and the member reserves with one tap.
    member = signed_in_page(reserver)
    member.goto(f"/flash/{sale.pk}/")
    expect(member.get_by_test_id("countdown")).to_contain_text("距开抢还剩")
    expect(member.get_by_test_id("buy-disabled")).to_have_text("未开始")
    member.get_by_test_id("reserve").click()
    expect(member.get_by_test_id("reservation-count")).to_have_text("已预约 1 人")
    expect(member.get_by_test_id("reserved")).to_be_visible()

    # The session starts: the reminder task (scheduled for the start) writes the inbox message.
    time.sleep(max(0.0, (starts - timezone.now()).total_seconds()) + 0.5)
    assert run_scheduled_tasks() == 1
    member.goto("/inbox/")
    reminder = member.locator('[data-testid="inbox-item"][data-kind="flashsale.started"]')
    expect(reminder).to_contain_text("秒杀开始了")
    expect(reminder).to_contain_text("旗舰手机限量秒杀")

    # The countdown has ended: buy, queue, then the order, then pay.
    member.goto(f"/flash/{sale.pk}/")
    expect(member.get_by_test_id("sale-phase")).to_have_attribute("data-phase", "open")
    # The button sends the page's gate ticket to the attempt API (the thin front when it serves).
    with member.expect_response(lambda response: response.url.endswith("/attempts")) as attempt:
        member.get_by_test_id("buy").click()
    assert attempt.value.status == 202
    expect(member.get_by_test_id("queued")).to_contain_text("排队中")  # before the poll writes the order
    expect(member.get_by_test_id("claim-ordered")).to_be_visible()
    order = Order.objects.get(user=reserver)
    expect(member.get_by_test_id("order-link")).to_have_text(order.number)
    member.get_by_test_id("go-pay").click()
    member.get_by_test_id("pay-button").click()
    member.get_by_test_id("pay-confirm").click()
    expect(member.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    order.refresh_from_db()
    assert order.lines.get().unit_price_fen == 299900

    # A member who did not reserve is refused inside the reservers-only minute...
    other = signed_in_page(latecomer)
    other.goto(f"/flash/{sale.pk}/")
    other.get_by_test_id("buy").click()
    expect(other.get_by_test_id("refused")).to_have_text("预约用户优先购买中，请稍后再来")
    assert not FlashClaim.objects.filter(user=latecomer).exists()

    # ... and admitted once it is over, even from a page left open past its ticket's lifetime: the
    # script fetches a fresh ticket and tries again.
    other.goto(f"/flash/{sale.pk}/")
    with time_machine.travel(starts + timedelta(seconds=tickets.TICKET_SECONDS + 60), tick=True):
        with other.expect_response(lambda response: response.url.endswith("/ticket")) as fresh:
            other.get_by_test_id("buy").click()
        assert fresh.value.status == 200
        expect(other.get_by_test_id("claim-ordered")).to_be_visible()
    assert Order.objects.filter(user=latecomer).count() == 1
    assert actions.reconcile(actions._sale_items(sale)[0]).ok
