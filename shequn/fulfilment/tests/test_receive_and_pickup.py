"""Goods received at the pickup point (shortages refunded to the latest sign-ups first, exactly
once), ready-for-pickup with a code, verification once, and uncollected goods."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.core.models import Alert
from shequn.fulfilment import actions
from shequn.fulfilment.enums import TicketStatus
from shequn.fulfilment.errors import (
    AlreadyPickedUp,
    CampaignNotSucceeded,
    GoodsAlreadyReceived,
    InvalidReceipt,
    NotYourPickupPoint,
    TicketNotFound,
)
from shequn.fulfilment.models import GoodsReceipt, PickupTicket, ShortageRefund
from shequn.groupbuy.enums import CampaignStatus
from shequn.orders.enums import OrderStatus
from shequn.orders.models import RefundRequest
from shequn.testing.accounts import member_client
from shequn.testing.orders import auth_headers

pytestmark = pytest.mark.django_db


def receive(world, leader, **units):
    skus = {world.skus[name].pk: count for name, count in units.items()}
    return actions.receive_goods(leader, world.campaign.pk, skus, actor=leader.user)


def refunds_by_member():
    return sorted((r.order.user.nickname, r.line.title, r.amount_fen) for r in RefundRequest.objects.all())


def test_shortages_go_to_the_latest_sign_ups_first_and_are_refunded_exactly_once(world):
    first, _ = world.leaders
    wang, _zhao, li, zhang = world.sign_ups
    # expected at 翠苑: fish 3 (王 2, 李 1), shrimp 3 (李 1, 张 2); two fish and one shrimp short
    receipts = receive(world, first, fish=1, shrimp=2)
    assert sorted((r.sku.product.title, r.expected, r.received, r.shortage) for r in receipts) == [
        ("基围虾", 3, 2, 1),
        ("有机鱼头", 3, 1, 2),
    ]
    # fish: 李 (seq 3) loses his only one, then 王 (seq 1) one of two; shrimp: 张 (seq 4) one of two
    assert refunds_by_member() == [("张三", "基围虾", 2990), ("李四", "有机鱼头", 3990), ("王小明", "有机鱼头", 3990)]
    assert set(RefundRequest.objects.values_list("status", flat=True)) == {"approved"}
    assert ShortageRefund.objects.count() == 3

    with pytest.raises(GoodsAlreadyReceived) as error:
        receive(world, first, fish=1, shrimp=2)
    assert error.value.message.startswith("已确认收货（")
    assert RefundRequest.objects.count() == 3
    assert GoodsReceipt.objects.count() == 2

    for entry in (wang, li, zhang):
        entry.order.refresh_from_db()
        assert entry.order.status == OrderStatus.READY_FOR_PICKUP
        ticket = PickupTicket.objects.get(sign_up=entry)
        assert re.fullmatch(r"\d{6}", ticket.code)
        note = entry.user.notifications.get(kind="groupbuy.pickup_code")
        assert ticket.code in note.body
        assert entry.user.notifications.filter(kind="order.ready_for_pickup").count() == 1
    codes = list(PickupTicket.objects.values_list("code", flat=True))
    assert len(set(codes)) == len(codes) == 3


def test_a_sign_up_with_nothing_left_is_refunded_in_full_and_gets_no_pickup_code(world):
    first, _ = world.leaders
    zhang = world.sign_ups[3]
    receive(world, first, fish=3, shrimp=1)  # 张 (seq 4) loses both shrimp, 李 keeps his one
    assert refunds_by_member() == [("张三", "基围虾", 5980)]
    zhang.order.refresh_from_db()
    assert zhang.order.status == OrderStatus.PAID
    assert not PickupTicket.objects.filter(sign_up=zhang).exists()
    assert PickupTicket.objects.count() == 2


def test_received_quantities_are_checked(world):
    first, second = world.leaders
    with pytest.raises(InvalidReceipt) as error:
        receive(world, first, fish=4, shrimp=3)
    assert error.value.message == "「有机鱼头」的实收数量应在 0 到 3 之间"
    with pytest.raises(InvalidReceipt):
        receive(world, second, fish=3, shrimp=0)  # no shrimp expected at 文一
    with pytest.raises(InvalidReceipt):
        receive(world, first, fish=3)
    assert GoodsReceipt.objects.count() == 0
    assert RefundRequest.objects.count() == 0


def test_goods_are_received_only_after_the_campaign_succeeded(world):
    world.campaign.status = CampaignStatus.OPEN
    world.campaign.save()
    with pytest.raises(CampaignNotSucceeded):
        receive(world, world.leaders[0], fish=3, shrimp=3)


def test_a_partial_shortage_is_refunded_through_the_gateway_once(sandbox, django_capture_on_commit_callbacks):
    """The real money path: paid through the sandbox gateway, short one unit, refunded once."""
    from shequn.orders.models import Order
    from shequn.payments import actions as payment_actions
    from shequn.payments.models import GatewayRefund
    from shequn.payments.sandbox import server
    from shequn.testing.factories import ShopFactory, StaffFactory

    from .conftest import make_world

    shop = ShopFactory.create()
    world = make_world(shop, StaffFactory.create(shop=shop).user)
    first = world.leaders[0]
    entry = world.sign_up(first, "王小明", {"fish": 2}, paid=False)
    url = payment_actions.start_payment(entry.order, entry.order.user)
    with django_capture_on_commit_callbacks(execute=True):
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    entry.order.refresh_from_db()
    assert entry.order.paid_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        receive(world, first, fish=1)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(GoodsAlreadyReceived):
        receive(world, first, fish=1)
    order = Order.objects.get(pk=entry.order_id)
    assert order.refunded_fen == 3990
    assert GatewayRefund.objects.filter(payment__order=order, status="success").count() == 1
    assert order.status == OrderStatus.READY_FOR_PICKUP


@pytest.fixture
def ready(world):
    first, second = world.leaders
    receive(world, first, fish=3, shrimp=3)
    receive(world, second, fish=3)
    return world


def ticket_of(entry):
    return PickupTicket.objects.get(sign_up=entry)


def test_a_pickup_code_verifies_once_and_the_second_time_says_when(ready):
    first, _ = ready.leaders
    wang = ready.sign_ups[0]
    code = ticket_of(wang).code
    ticket = actions.verify_code(first, code, actor=first.user)
    assert ticket.status == TicketStatus.PICKED_UP
    wang.order.refresh_from_db()
    assert wang.order.status == OrderStatus.PICKED_UP
    events = wang.order.events.count()
    with pytest.raises(AlreadyPickedUp) as error:
        actions.verify_code(first, code, actor=first.user)
    hhmm = timezone.localtime(ticket_of(wang).picked_up_at).strftime("%H:%M")
    assert error.value.message == f"已核销（{hhmm}）"
    assert wang.order.events.count() == events
    assert wang.user.notifications.filter(kind="order.picked_up").count() == 1


def test_a_leader_of_another_point_cannot_verify(ready):
    first, second = ready.leaders
    wang = ready.sign_ups[0]
    ticket = ticket_of(wang)
    with pytest.raises(TicketNotFound):
        actions.verify_code(second, ticket.code, actor=second.user)
    with pytest.raises(NotYourPickupPoint):
        actions.verify_token(second.user, ticket.token)
    with pytest.raises(NotYourPickupPoint):
        actions.verify_token(wang.user, ticket.token)  # the member themself is no leader
    assert ticket_of(wang).status == TicketStatus.OPEN
    wang.order.refresh_from_db()
    assert wang.order.status == OrderStatus.READY_FOR_PICKUP
    # the right leader may
    assert actions.verify_token(first.user, ticket.token).status == TicketStatus.PICKED_UP


def test_leader_pages_and_api_verify_once(ready):
    first, second = ready.leaders
    wang, zhao, li, _ = ready.sign_ups
    client = member_client(first.user)
    page = client.post("/leader/verify/", {"code": ticket_of(wang).code})
    assert "核销成功：王**" in page.content.decode()
    page = client.post("/leader/verify/", {"code": ticket_of(wang).code})
    assert "已核销（" in page.content.decode()
    page = member_client(second.user).post("/leader/verify/", {"code": ticket_of(li).code})
    assert "取货码无效" in page.content.decode()

    api = member_client(first.user).post(
        "/api/v1/fulfilment/leader/verify", {"code": ticket_of(li).code}, content_type="application/json",
        headers=auth_headers(first.user),
    )  # fmt: skip
    assert api.status_code == 200
    assert api.json()["status"] == "picked_up"
    again = member_client(first.user).post(
        f"/api/v1/fulfilment/leader/verify/{ticket_of(li).token}", headers=auth_headers(first.user)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_picked_up"
    foreign = member_client(first.user).post(
        f"/api/v1/fulfilment/leader/verify/{ticket_of(zhao).token}", headers=auth_headers(first.user)
    )
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "not_your_pickup_point"


def test_the_member_sees_their_code_and_qr_and_nobody_else_does(ready):
    wang, zhao, _, _ = ready.sign_ups
    ticket = ticket_of(wang)
    page = member_client(wang.user).get(f"/groupbuy/orders/{wang.order.number}/pickup/")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'data-testid="pickup-code">{ticket.code}<' in body
    assert "<svg" in body
    assert member_client(zhao.user).get(f"/groupbuy/orders/{wang.order.number}/pickup/").status_code == 404
    api = member_client(wang.user).get(
        f"/api/v1/fulfilment/orders/{wang.order.number}/pickup", headers=auth_headers(wang.user)
    )
    assert api.json()["ticket"]["code"] == ticket.code
    assert api.json()["ticket"]["verify_url"].endswith(f"/leader/verify/{ticket.token}/")
    other = member_client(zhao.user).get(
        f"/api/v1/fulfilment/orders/{wang.order.number}/pickup", headers=auth_headers(zhao.user)
    )
    assert other.status_code == 404


def test_the_leader_receives_goods_through_the_page_once(world):
    first, _ = world.leaders
    client = member_client(first.user)
    form = client.get(f"/leader/receive/?campaign={world.campaign.pk}")
    assert form.status_code == 200
    data = {"campaign": world.campaign.pk, f"sku_{world.skus['fish'].pk}": 2, f"sku_{world.skus['shrimp'].pk}": 3}
    assert client.post("/leader/receive/", data).status_code == 302
    client.post("/leader/receive/", data)  # submitted twice
    assert refunds_by_member() == [("李四", "有机鱼头", 3990)]
    assert PickupTicket.objects.count() == 3


def test_uncollected_goods_remind_the_member_and_alert_the_operator_once(ready):
    first, _ = ready.leaders
    wang = ready.sign_ups[0]
    actions.verify_code(first, ticket_of(wang).code, actor=first.user)
    assert actions.remind_uncollected() == 0
    with time_machine.travel(timezone.now() + timedelta(days=actions.UNCOLLECTED_AFTER_DAYS, minutes=1)):
        assert actions.remind_uncollected() == 3  # 赵, 李, 张: not 王, who picked up
        assert actions.remind_uncollected() == 0
    reminded = {t.sign_up.user.nickname for t in PickupTicket.objects.filter(reminded_at__isnull=False)}
    assert reminded == {"赵六", "李四", "张三"}
    assert Alert.objects.filter(kind="groupbuy.uncollected").count() == 3
    assert wang.user.notifications.filter(kind="groupbuy.uncollected").count() == 0
    zhang = ready.sign_ups[3]
    assert zhang.user.notifications.filter(kind="groupbuy.uncollected").count() == 1
    assert RefundRequest.objects.count() == 0  # fresh goods: no refund


def test_a_suspended_leader_still_hands_out_what_their_point_holds_but_a_rejected_one_cannot(ready):
    from shequn.fulfilment import selectors
    from shequn.fulfilment.errors import LeaderNotFound
    from shequn.leaders.enums import LeaderStatus

    first, second = ready.leaders
    first.status = LeaderStatus.SUSPENDED
    first.save()
    wang = ready.sign_ups[0]
    leader = selectors.my_leader(first.user)
    assert actions.verify_code(leader, ticket_of(wang).code, actor=first.user).status == TicketStatus.PICKED_UP
    second.status = LeaderStatus.REJECTED
    second.save()
    with pytest.raises(LeaderNotFound):
        selectors.my_leader(second.user)
    with pytest.raises(NotYourPickupPoint):
        actions.verify_token(second.user, ticket_of(ready.sign_ups[1]).token)
