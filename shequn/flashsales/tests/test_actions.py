from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shequn.catalog.models import Sku
from shequn.core.errors import InvalidTransition
from shequn.flashsales import actions
from shequn.flashsales.enums import ClaimStatus, SaleStatus
from shequn.flashsales.errors import AttemptRefused, FlashSaleInvalid, MembersOnly
from shequn.flashsales.models import FlashClaim, FlashEvent, FlashSale, Reservation, pool_key
from shequn.gate.base import Claim
from shequn.notifications.models import Notification
from shequn.orders.actions import cancel_order_by_member, close_unpaid_order
from shequn.orders.enums import Fulfilment, OrderStatus
from shequn.orders.models import Order
from shequn.payments import actions as payment_actions
from shequn.payments.models import GatewayRefund
from shequn.payments.sandbox import server
from shequn.testing.factories import CommunityFactory, MembershipFactory, PickupPointFactory, SkuFactory

from .conftest import buyer, item_of, make_running, sale_input

pytestmark = pytest.mark.django_db


def buy(user, item, **kwargs):
    admission = actions.attempt(user, item.pk, **kwargs)
    assert admission.admitted
    return admission


def expiry(order):
    assert order.expires_at is not None
    return order.expires_at + timedelta(seconds=1)


def pay(order, commit) -> None:
    url = payment_actions.start_payment(order, order.user)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])


# --- create and validate -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": " "}, "请填写活动名称"),
        ({"payment_timeout_minutes": 0}, "支付时限须在 1 到 120 分钟之间"),
        ({"price": 199900}, "「手机 256G」的秒杀价须低于售价"),
        ({"quantity": 0}, "「手机 256G」的秒杀数量至少 1 件"),
        ({"cap": 0}, "「手机 256G」的每人限购至少 1 件"),
        ({"reservation_late": True}, "预约开始时间须早于第一场开始时间"),
        ({"backwards": True}, "第 1 场的结束时间须晚于开始时间"),
        ({"priority_minutes": 60}, "预约优先时长须短于第 1 场的时长"),
    ],
)
def test_invalid_sales_are_refused_with_a_clear_message(shop, operator, sku, change, message):
    data = sale_input(sku, starts_in=timedelta(hours=2))
    item = data.sessions[0].items[0]
    session = data.sessions[0]
    if "title" in change:
        data.title = change["title"]
    if "payment_timeout_minutes" in change:
        data.payment_timeout_minutes = change["payment_timeout_minutes"]
    if "priority_minutes" in change:
        data.priority_minutes = change["priority_minutes"]
    if "price" in change:
        item.flash_price_fen = change["price"]
    if "quantity" in change:
        item.quantity = change["quantity"]
    if "cap" in change:
        item.per_person_cap = change["cap"]
    if change.get("reservation_late"):
        data.reservation_starts_at = session.starts_at
    if change.get("backwards"):
        session.ends_at = session.starts_at
    with pytest.raises(FlashSaleInvalid) as refused:
        actions.create_sale(shop, operator, data)
    assert refused.value.message == message
    assert not FlashSale.objects.exists()


def test_a_sku_of_another_shop_looks_absent(shop, other_shop, operator, sku):
    foreign = SkuFactory.create(product__shop=other_shop, price_fen=5000, stock=10)
    data = sale_input(sku, starts_in=timedelta(hours=2))
    data.sessions[0].items[0].sku_id = foreign.pk
    with pytest.raises(FlashSaleInvalid, match="商品规格不存在"):
        actions.create_sale(shop, operator, data)


def test_overlapping_sessions_are_refused(shop, operator, sku):
    data = sale_input(sku, starts_in=timedelta(hours=2))
    first = data.sessions[0]
    data.sessions.append(
        actions.SessionInput(
            starts_at=first.starts_at + timedelta(minutes=30),
            ends_at=first.ends_at + timedelta(hours=1),
            items=first.items,
        )
    )
    with pytest.raises(FlashSaleInvalid, match="第 2 场与上一场时间重叠"):
        actions.create_sale(shop, operator, data)


def test_scheduling_needs_the_stock_and_configures_the_gate(shop, operator, sku, gate, commit):
    Sku.objects.filter(pk=sku.pk).update(stock=2)
    sale = actions.create_sale(shop, operator, sale_input(sku, quantity=3))
    with pytest.raises(FlashSaleInvalid, match="库存 2 件，少于秒杀数量 3 件"):
        actions.schedule_sale(shop, operator, sale.pk)
    Sku.objects.filter(pk=sku.pk).update(stock=3)
    with commit():
        actions.schedule_sale(shop, operator, sale.pk)
    state = gate.state(pool_key(item_of(sale).pk))
    assert (state.ready, state.units_left) == (True, 3)
    # The session has started, so its reminder task ran at once and the sale is running.
    moves = list(FlashEvent.objects.filter(sale=sale).values_list("from_status", "to_status"))
    assert moves == [("draft", "scheduled"), ("scheduled", "running")]
    with pytest.raises(InvalidTransition):
        actions.update_sale(shop, operator, sale.pk, sale_input(sku))


def test_pause_resume_and_end_reach_the_gate(running, shop, operator, gate, commit):
    member = buyer()
    item = item_of(running)
    with commit():
        actions.pause_sale(shop, operator, running.pk)
    with pytest.raises(AttemptRefused, match="秒杀已暂停") as refused:
        actions.attempt(member, item.pk)
    assert refused.value.code == "flash_paused"
    with commit():
        assert actions.resume_sale(shop, operator, running.pk).status == SaleStatus.RUNNING
    buy(member, item)
    with commit():
        actions.end_sale(shop, operator, running.pk)
    with pytest.raises(AttemptRefused, match="秒杀已结束"):
        actions.attempt(buyer("晚到"), item.pk)
    gate.forget(pool_key(item.pk))  # an ended sale's pool lost: not rebuilt, still 已结束
    with pytest.raises(AttemptRefused, match="秒杀已结束"):
        actions.attempt(buyer("更晚"), item.pk)
    assert not gate.state(pool_key(item.pk)).ready


# --- reservations and the priority window ---------------------------------------------------


def test_reserve_is_idempotent_and_counted(shop, operator, sku, commit):
    sale = actions.create_sale(shop, operator, sale_input(sku, starts_in=timedelta(hours=1)))
    with commit():
        actions.schedule_sale(shop, operator, sale.pk)
    member = buyer()
    with commit():
        assert actions.reserve(member, sale.pk)[1] is True
        assert actions.reserve(member, sale.pk)[1] is False
        actions.reserve(buyer("二号"), sale.pk)
    sale.refresh_from_db()
    assert sale.reservation_count == 2
    assert Reservation.objects.filter(sale=sale).count() == 2


def test_only_reservers_buy_inside_the_priority_window(shop, operator, sku, commit, sandbox):
    sale = make_running(shop, operator, sku, commit, priority_minutes=10)
    item = item_of(sale)
    reserver, latecomer = buyer("预约者"), buyer("路人")
    with commit():
        actions.reserve(reserver, sale.pk)
    with pytest.raises(AttemptRefused, match="预约用户优先购买中") as refused:
        actions.attempt(latecomer, item.pk)
    assert refused.value.code == "flash_priority_only"
    buy(reserver, item)
    buy(latecomer, item, now=timezone.now() + timedelta(minutes=11))


def test_a_community_only_sale_refuses_outsiders_before_the_gate(shop, operator, sku, commit, sandbox, gate):
    community = CommunityFactory.create(shop=shop)
    sale = make_running(shop, operator, sku, commit, community_id=community.pk)
    inside, outside = buyer("社员"), buyer("外人")
    MembershipFactory.create(community=community, user=inside)
    item = item_of(sale)
    with pytest.raises(MembersOnly):
        actions.attempt(outside, item.pk)
    assert gate.state(pool_key(item.pk)).admitted_units == 0
    buy(inside, item)
    with CaptureQueriesContext(connection) as queries, pytest.raises(AttemptRefused, match="每人限购 1 件"):
        actions.attempt(inside, item.pk)
    # Facts (the cap's number for the message too) and membership come from the cache.
    assert len(queries) == 0


def test_attempts_make_no_sql_once_cached(running):
    member = buyer()
    item = item_of(running)
    buy(member, item)
    other = buyer("二号")
    with CaptureQueriesContext(connection) as queries:
        buy(other, item)
    assert len(queries) == 0


def test_cap_and_sold_out(running, commit):
    item = item_of(running)
    members = [buyer(f"买家{n}") for n in range(4)]
    for member in members[:3]:
        buy(member, item)
    with pytest.raises(AttemptRefused, match="每人限购 1 件"):
        actions.attempt(members[0], item.pk)
    with pytest.raises(AttemptRefused, match="已抢光") as refused:
        actions.attempt(members[3], item.pk)
    assert refused.value.code == "flash_sold_out"


# --- reminders --------------------------------------------------------------------------------


def test_reminders_one_per_reserver_set_based_and_idempotent(shop, operator, sku, commit):
    sale = actions.create_sale(shop, operator, sale_input(sku, starts_in=timedelta(minutes=5)))
    with commit():
        actions.schedule_sale(shop, operator, sale.pk)
    session = sale.sessions.get()

    def reminded_with(count: int) -> int:
        for n in range(count - Reservation.objects.filter(sale=sale).count()):
            reserver = buyer(f"预约{count}-{n}")
            if n % 2:  # half read English: one text per language, still a fixed number of statements
                reserver.language = "en"
                reserver.save(update_fields=["language"])
            actions.reserve(reserver, sale.pk)
        FlashSaleSession = type(session)
        FlashSaleSession.objects.filter(pk=session.pk).update(reminded_up_to=0)
        Notification.objects.filter(kind="flashsale.started").delete()
        with (
            time_machine.travel(session.starts_at + timedelta(seconds=1)),
            CaptureQueriesContext(connection) as queries,
        ):
            assert actions.remind_reservers(session.pk) == count
        return len(queries)

    with time_machine.travel(session.starts_at + timedelta(seconds=1)):
        assert actions.remind_reservers(session.pk) == 0  # nobody yet; the sale starts running
    few, many = reminded_with(2), reminded_with(30)
    assert few == many
    assert Notification.objects.filter(kind="flashsale.started").count() == 30
    assert Notification.objects.filter(kind="flashsale.started").values("user").distinct().count() == 30
    titles = Notification.objects.filter(kind="flashsale.started").values_list("user__language", "title")
    assert sorted(set(titles)) == [("en", "The flash sale has started"), ("zh-hans", "秒杀开始了")]
    assert Notification.objects.filter(kind="flashsale.started", user__language="en").count() == 15
    assert actions.remind_reservers(session.pk) == 0  # a second run writes nothing
    assert Notification.objects.filter(kind="flashsale.started").count() == 30
    sale.refresh_from_db()
    assert sale.status == SaleStatus.RUNNING


def test_reminders_go_as_subscribe_messages_to_reservers_who_accepted_them(
    shop, operator, sku, commit, wechat_subscribe
):
    from shequn.notifications.actions import record_subscribe_results
    from shequn.notifications.models import SubscribeMessage
    from shequn.testing.wechat import TEMPLATES, bind_wechat

    sale = actions.create_sale(shop, operator, sale_input(sku, starts_in=timedelta(minutes=5)))
    with commit():
        actions.schedule_sale(shop, operator, sale.pk)
    session = sale.sessions.get()
    reservers = [buyer(f"预约{n}") for n in range(3)]
    openids = [bind_wechat(member, f"预约{n}") for n, member in enumerate(reservers)]
    for member in reservers:
        actions.reserve(member, sale.pk)
    reservers[1].language = "en"
    reservers[1].save(update_fields=["language"])
    for member, openid in zip(reservers[:2], openids[:2], strict=True):  # the third never accepted the template
        wechat_subscribe.accept_subscription(openid, TEMPLATES["flashsale_started"])
        record_subscribe_results(member, {TEMPLATES["flashsale_started"]: "accept"})

    with time_machine.travel(session.starts_at + timedelta(seconds=1)), commit():
        assert actions.remind_reservers(session.pk) == 3
    type(session).objects.filter(pk=session.pk).update(reminded_up_to=0)  # a rerun of the same session
    with time_machine.travel(session.starts_at + timedelta(seconds=1)), commit():
        actions.remind_reservers(session.pk)

    assert sorted(sent["touser"] for sent in wechat_subscribe.sent) == sorted(openids[:2])
    assert {sent["template_id"] for sent in wechat_subscribe.sent} == {TEMPLATES["flashsale_started"]}
    assert SubscribeMessage.objects.count() == 2  # one per reserver and session, however often it runs
    assert dict(SubscribeMessage.objects.values_list("user_id", "title")) == {
        reservers[0].pk: "秒杀开始了",
        reservers[1].pk: "The flash sale has started",
    }


# --- the consumer -----------------------------------------------------------------------------


def test_claims_become_orders_at_the_flash_price(running, commit):
    item = item_of(running)
    member = buyer()
    admission = buy(member, item)
    with commit():
        assert actions.materialise_claims().ordered == 1
    claim = FlashClaim.objects.get(claim_id=admission.claim_id)
    order = claim.order
    assert order is not None
    assert order.expires_at is not None
    assert claim.status == ClaimStatus.ORDERED
    assert order.user == member
    assert order.lines.get().unit_price_fen == 99900
    assert order.fulfilment == Fulfilment.DELIVERY
    assert order.expires_at <= timezone.now() + timedelta(minutes=10)
    assert order.status == OrderStatus.PENDING_PAYMENT
    created = Notification.objects.get(user=member, kind="order.created")
    assert created.body.endswith("请在 10 分钟内完成支付。")  # the sale's window, not the shop's


def test_the_order_of_a_claim_is_announced_in_its_members_language(running, commit):
    item = item_of(running)
    chinese, english = buyer("中文"), buyer("英文")
    english.language = "en"
    english.save(update_fields=["language"])
    buy(chinese, item)
    buy(english, item)
    with commit():
        assert actions.materialise_claims().ordered == 2
    assert Notification.objects.get(user=chinese, kind="order.created").title == "订单已提交"
    assert Notification.objects.get(user=english, kind="order.created").title == "Order placed"


def test_a_claim_delivered_twice_makes_one_order(running, gate, commit):
    item = item_of(running)
    admission = buy(buyer(), item)
    (claim,) = gate.read_claims("flash", "dead-consumer")  # a consumer took it and died before acking
    with commit():
        assert actions.materialise_claims(consumer="a").ordered == 0  # still leased to the dead one
        assert actions.materialise_claims(consumer="b", idle_ms=0).ordered == 1
        # The same claim again (redelivered after the ack was lost).
        assert (
            actions._materialise(Claim(claim.claim_id, claim.pool_key, claim.member_id, 1, claim.admitted_at))
            == "duplicates"
        )
    assert Order.objects.count() == 1
    assert FlashClaim.objects.get().claim_id == admission.claim_id


def test_a_member_without_address_gets_the_pickup_point_else_the_claim_is_released(running, shop, gate, commit):
    item = item_of(running)
    nowhere = buyer("无地址", address=False)
    buy(nowhere, item)
    with commit():
        result = actions.materialise_claims()
    assert (result.ordered, result.released) == (0, 1)
    claim = FlashClaim.objects.get(user=nowhere)
    assert claim.status == ClaimStatus.RELEASED
    assert claim.reason == "你还没有收货地址，名额已释放；请先添加收货地址"
    assert gate.state(pool_key(item.pk)).units_left == 3
    PickupPointFactory.create(shop=shop)
    buy(nowhere, item)  # released, so under the cap again
    with commit():
        assert actions.materialise_claims().ordered == 1
    assert Order.objects.get().fulfilment == Fulfilment.PICKUP


def test_an_unpaid_order_closing_gives_its_unit_back_once_and_it_sells_again(running, gate, commit):
    item = item_of(running)
    key = pool_key(item.pk)
    first, second, third, fourth = (buyer(f"买家{n}") for n in range(4))
    for member in (first, second, third):
        buy(member, item)
    with commit():
        actions.materialise_claims()
    with pytest.raises(AttemptRefused, match="已抢光"):
        actions.attempt(fourth, item.pk)
    order = Order.objects.get(user=first)
    with commit(), time_machine.travel(expiry(order)):
        assert close_unpaid_order(order.pk)
        assert not close_unpaid_order(order.pk)
    with commit():
        cancel_order_by_member(second, Order.objects.get(user=second).number)
    assert gate.state(key).units_left == 2
    claim = FlashClaim.objects.get(order=order)
    assert (claim.status, claim.reason) == (ClaimStatus.RELEASED, "超时未支付，名额已释放")
    buy(fourth, item)
    with commit():
        assert actions.materialise_claims().ordered == 1
    assert gate.state(key).units_left == 1
    assert actions.reconcile(item).ok


def test_a_late_payment_takes_the_unit_again_when_the_gate_has_one(running, gate, commit):
    item = item_of(running)
    member = buyer()
    buy(member, item)
    with commit():
        actions.materialise_claims()
    order = Order.objects.get()
    url = payment_actions.start_payment(order, member)
    with commit(), time_machine.travel(expiry(order)):
        close_unpaid_order(order.pk)
    assert gate.state(pool_key(item.pk)).units_left == 3
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])  # the member paid just as we closed
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    claim = FlashClaim.objects.get()
    assert claim.status == ClaimStatus.ORDERED
    assert claim.regained_claim_id
    assert gate.state(pool_key(item.pk)).units_left == 2
    with commit():
        assert actions.materialise_claims().duplicates == 1  # the regained claim makes no second order
    assert Order.objects.count() == 1
    truth = actions.reconcile(item)
    assert (truth.paid, truth.at_gate, truth.ok) == (1, 2, True)


def test_a_late_payment_is_refunded_when_the_units_sold_again(running, gate, commit):
    item = item_of(running)
    members = [buyer(f"买家{n}") for n in range(4)]
    for member in members[:3]:
        buy(member, item)
    with commit():
        actions.materialise_claims()
    order = Order.objects.get(user=members[0])
    url = payment_actions.start_payment(order, members[0])
    with commit(), time_machine.travel(expiry(order)):
        close_unpaid_order(order.pk)
    buy(members[3], item)  # the released unit sold to someone else
    with commit():
        actions.materialise_claims()
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED  # reinstated, then refunded in full
    assert order.refunded_fen == order.total_fen
    assert GatewayRefund.objects.count() == 1
    assert FlashClaim.objects.get(order=order).status == ClaimStatus.RELEASED
    truth = actions.reconcile(item)
    assert (truth.at_gate, truth.unpaid, truth.paid, truth.ok) == (0, 3, 0, True)


def test_a_late_payment_while_the_gate_lost_the_pool_is_refunded_and_the_books_balance(running, gate, commit):
    """Found by the state machine: rebuilding inside the payment's transaction would miss a claim
    still in the stream and leave the gate one unit too many."""
    item = item_of(running)
    first, second = buyer("甲"), buyer("乙")
    buy(first, item)
    with commit():
        actions.materialise_claims()
    order = Order.objects.get(user=first)
    url = payment_actions.start_payment(order, first)
    buy(second, item)  # in the stream when the gate loses the pool
    gate.forget(pool_key(item.pk))
    with commit(), time_machine.travel(expiry(order)):
        close_unpaid_order(order.pk)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    assert (order.status, order.refunded_fen) == (OrderStatus.CLOSED, order.total_fen)
    assert FlashClaim.objects.get(order=order).status == ClaimStatus.RELEASED
    assert order.refunds.get().reason == "秒杀名额已释放，付款全额退回"
    assert actions.rebuild_pool(item.pk)
    truth = actions.reconcile(item)
    assert (truth.at_gate, truth.unpaid, truth.paid, truth.ok) == (2, 1, 0, True)


# --- truth and recovery -----------------------------------------------------------------------


def test_reconcile_identity_after_a_mixed_sequence(shop, operator, sku, gate, commit, sandbox):
    sale = make_running(shop, operator, sku, commit, quantity=6, cap=2)
    item = item_of(sale)
    payer, waiter, leaver, nowhere = buyer("付款"), buyer("待付"), buyer("取消"), buyer("无址", address=False)
    buy(payer, item, quantity=2)
    buy(waiter, item)
    buy(leaver, item)
    with commit():
        actions.materialise_claims()
    buy(nowhere, item)
    pay(Order.objects.get(user=payer), commit)
    with commit():
        cancel_order_by_member(leaver, Order.objects.get(user=leaver).number)
    buy(buyer("排队"), item)  # admitted, still in the stream
    truth = actions.reconcile(item)
    assert (truth.at_gate, truth.admitted, truth.unpaid, truth.paid, truth.difference) == (1, 0, 1, 2, 2)
    with commit():
        actions.materialise_claims()
    truth = actions.reconcile(item)
    assert (truth.at_gate, truth.admitted, truth.unpaid, truth.paid, truth.released) == (2, 0, 2, 2, 2)
    assert truth.ok


def test_a_lost_pool_is_rebuilt_from_the_database_and_never_oversells(running, gate, commit):
    item = item_of(running)
    key = pool_key(item.pk)
    first, second, third, fourth = (buyer(f"买家{n}") for n in range(4))
    buy(first, item)
    with commit():
        actions.materialise_claims()
    buy(second, item)  # admitted, still in the stream when the gate loses its pool
    gate.forget(key)  # Redis lost its data
    assert not gate.state(key).ready
    with commit():
        buy(third, item)  # rebuilds first (writing the claim in flight), then admits
    with pytest.raises(AttemptRefused, match="每人限购 1 件"):
        actions.attempt(first, item.pk)
    with pytest.raises(AttemptRefused, match="已抢光"):
        actions.attempt(fourth, item.pk)
    with commit():
        actions.materialise_claims()
    assert Order.objects.count() == 3
    assert actions.reconcile(item).ok
