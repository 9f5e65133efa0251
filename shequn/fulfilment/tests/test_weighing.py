"""Sold by weight: staff weigh a line at packing; lighter refunds the difference once, through
the order's refund flow and the payment gateway; heavier is absorbed (多退少不补)."""

import pytest
from django.test import Client

from shequn.core.errors import NotFound, PermissionDenied
from shequn.core.models import AuditLog as AuditEntry
from shequn.coupons import actions as coupon_actions
from shequn.fulfilment import actions, selectors
from shequn.fulfilment.errors import InvalidWeight, NotSoldByWeight, WeighingClosed
from shequn.orders import actions as order_actions
from shequn.orders.enums import PaymentMethod, RefundStatus
from shequn.orders.models import Order, OrderEvent, OrderLine, RefundRequest
from shequn.payments import actions as payment_actions
from shequn.payments.models import GatewayRefund, Payment
from shequn.payments.sandbox import server
from shequn.shops.enums import StaffRole
from shequn.testing.accounts import member_client
from shequn.testing.catalog import make_weighed_product
from shequn.testing.coupons import make_coupon_template
from shequn.testing.factories import StaffFactory
from shequn.testing.orders import auth_headers, make_member, make_sku, place_order
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def fish(shop):
    return make_weighed_product(shop).skus.get()


@pytest.fixture
def member(db):
    return make_member()


@pytest.fixture
def pay(django_capture_on_commit_callbacks):
    def pay(order):
        url = payment_actions.start_payment(order, order.user)
        with django_capture_on_commit_callbacks(execute=True):
            server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
        order.refresh_from_db()
        assert order.paid_at is not None
        return order

    return pay


@pytest.fixture
def weigh(operator, django_capture_on_commit_callbacks):
    """Record a weight as the operator, running the gateway refund it starts (sandbox, inline)."""

    def weigh(order, grams, line=None, actor=None):
        line = line or order.lines.get()
        with django_capture_on_commit_callbacks(execute=True):
            return actions.record_line_weight(order.shop, order.pk, line.pk, grams, actor=actor or operator)

    return weigh


def test_the_order_line_snapshots_the_weight_pricing(member, fish):
    order = place_order(member, fish, 2)
    line = order.lines.get()
    assert (line.unit_price_fen, line.quantity, line.total_fen) == (4200, 2, 8400)
    assert (line.weight_unit_grams, line.weight_price_fen, line.estimated_grams, line.actual_grams) == (
        500,
        3500,
        600,
        None,
    )


def test_lighter_refunds_the_exact_difference_once_through_the_gateway(sandbox, member, fish, pay, weigh, operator):
    order = pay(place_order(member, fish))
    line = weigh(order, 525)  # 1.05 斤 instead of 1.2 斤
    assert line.actual_grams == 525
    refund = RefundRequest.objects.get(order=order)
    assert refund.amount_fen == 525  # 4200 − 3675: 0.15 斤 × ¥35.00
    assert refund.reason == "称重差价退款：实重 1.05 斤，少 0.15 斤"
    assert refund.status == RefundStatus.REFUNDED
    assert GatewayRefund.objects.get(refund_request=refund).status == "success"
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.refunded_fen, line.refunded_fen, line.weight_refund_fen) == (525, 525, 525)
    assert Payment.objects.get(order=order).refunded_fen == 525
    entry = AuditEntry.objects.get(action="order.line_weighed")
    assert (entry.actor_id, entry.shop_id) == (operator.pk, order.shop_id)
    assert entry.detail["actual_grams"] == 525
    assert OrderEvent.objects.filter(order=order, note__contains="实重 1.05 斤（预估 1.2 斤）").count() == 1

    # Weighing the same again refunds nothing more.
    weigh(order, 525)
    assert RefundRequest.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).refunded_fen == 525


def test_heavier_is_absorbed_no_charge_and_no_refund(sandbox, member, fish, pay, weigh):
    order = pay(place_order(member, fish))
    weigh(order, 700)
    assert not RefundRequest.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert (order.total_fen, order.refunded_fen) == (5200, 0)  # ¥42.00 + ¥10.00 shipping, as shown
    page = login(member).get(f"/orders/{order.number}/").content.decode()
    assert '实重 <span data-testid="actual-weight">1.4 斤</span>' in page
    assert "超出预估，不另收费" in page


def test_a_correction_refunds_only_the_extra_and_never_takes_back(sandbox, member, fish, pay, weigh):
    order = pay(place_order(member, fish, 2))  # 2 fish, 1200 g estimated, ¥84.00
    weigh(order, 1100)  # 2.2 斤: ¥77.00 → ¥7.00 back
    weigh(order, 1150)  # heavier correction: nothing taken back, nothing more refunded
    weigh(order, 1000)  # lighter correction: 2 斤 = ¥70.00 → ¥14.00 in all, ¥7.00 more
    amounts = list(RefundRequest.objects.filter(order=order).order_by("pk").values_list("amount_fen", "reason"))
    assert amounts == [(700, "称重差价退款：实重 2.2 斤，少 0.2 斤"), (700, "称重更正补退：实重 2 斤，少 0.4 斤")]
    line = OrderLine.objects.get(order=order)
    assert (line.actual_grams, line.weight_refund_fen, line.refunded_fen) == (1000, 1400, 1400)
    assert sum(a for a, _ in amounts) == 8400 - 7000


def test_the_weight_refund_never_exceeds_what_is_left_on_the_line(sandbox, member, fish, pay, weigh):
    order = pay(place_order(member, fish))
    line = order.lines.get()
    order_actions.request_refund(member, order.number, line.pk, amount_fen=4000, reason="不想要了")
    weigh(order, 300)  # due ¥21.00, but only ¥2.00 is left unasked on the line
    weight_refund = RefundRequest.objects.filter(order=order, reason__startswith="称重").get()
    assert weight_refund.amount_fen == 200
    assert OrderLine.objects.get(pk=line.pk).weight_refund_fen == 200


def test_with_a_coupon_the_weight_refund_is_on_what_the_member_paid(sandbox, member, fish, pay, weigh, shop):
    template = make_coupon_template(shop, kind="no_threshold", threshold_fen=0, amount_fen=2100)
    coupon = coupon_actions.claim(member, template.pk)
    order = pay(place_order(member, fish, coupon_id=coupon.pk))  # ¥42.00 fish, ¥21.00 off: ¥21.00 paid
    line = order.lines.get()
    assert (line.total_fen, line.paid_fen) == (4200, 2100)
    weigh(order, 300)  # 0.6 斤 = ¥21.00 at the shelf price: half the fish is missing
    weight_refund = RefundRequest.objects.get(order=order)
    assert weight_refund.amount_fen == 1050  # half of the ¥21.00 paid, not the ¥21.00 difference on ¥42.00
    line.refresh_from_db()
    assert (line.refunded_fen, line.weight_refund_fen) == (1050, 1050)
    assert Payment.objects.get(order=order).refunded_fen == 1050
    page = login(member).get(f"/orders/{order.number}/").content.decode()
    assert '<span data-testid="weight-difference">¥10.50</span>' in page


def test_cod_the_difference_reduces_the_cash_collected(
    member, fish, weigh, operator, django_capture_on_commit_callbacks
):
    shop = fish.shop
    shop.cod_enabled = True
    shop.save(update_fields=["cod_enabled"])
    owner = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    order = place_order(member, fish, payment_method=PaymentMethod.COD)
    weigh(order, 525)
    assert not RefundRequest.objects.filter(order=order).exists()  # no money yet: nothing to refund
    console = login(owner).get(f"/console/orders/{order.pk}/").content.decode()
    assert "确认已收款 ¥46.75" in console  # ¥42.00 + ¥10.00 shipping − ¥5.25
    assert "称重差价 ¥5.25 收款时直接抵扣" in console
    assert (
        '称重差价抵扣后应付 <span data-testid="cod-to-collect">¥46.75</span>'
        in login(member).get(f"/orders/{order.number}/").content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment_actions.confirm_cod_payment(shop, order, owner)
    refund = RefundRequest.objects.get(order=order)
    assert (refund.amount_fen, refund.status) == (525, RefundStatus.REFUNDED)  # handed back in cash at once
    order.refresh_from_db()
    assert order.total_fen - order.refunded_fen == 4675  # what was kept is what the fish cost + shipping
    # Confirming again is refused; weighing again refunds nothing.
    weigh(order, 525)
    assert RefundRequest.objects.filter(order=order).count() == 1


def test_weighing_is_refused_with_clear_reasons(member, fish, shop, weigh, operator):
    unpaid = place_order(member, fish)
    with pytest.raises(WeighingClosed, match="付款后再称重"):
        weigh(unpaid, 500)
    order_actions.cancel_order_by_member(member, unpaid.number)
    with pytest.raises(WeighingClosed, match="已取消"):
        weigh(unpaid, 500)
    order = place_order(member, fish)
    order_actions.mark_paid(order)
    for grams, message in [(0, "大于 0"), (-5, "大于 0"), ("525", "整数"), (True, "整数"), (1801, "3 倍")]:
        with pytest.raises(InvalidWeight, match=message):
            weigh(order, grams)
    per_piece = place_order(member, make_sku(shop))
    order_actions.mark_paid(per_piece)
    with pytest.raises(NotSoldByWeight):
        weigh(per_piece, 500)
    assert not AuditEntry.objects.filter(action="order.line_weighed").exists()


def test_only_staff_of_that_shop_who_fulfil_may_weigh(member, fish, other_shop, other_operator, shop):
    order = place_order(member, fish)
    order_actions.mark_paid(order)
    line = order.lines.get()
    with pytest.raises(NotFound):  # another shop's order looks absent
        actions.record_line_weight(other_shop, order.pk, line.pk, 500, actor=other_operator)
    with pytest.raises(NotFound):  # not staff of this shop: the shop looks absent
        actions.record_line_weight(shop, order.pk, line.pk, 500, actor=other_operator)
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    with pytest.raises(PermissionDenied):
        actions.record_line_weight(shop, order.pk, line.pk, 500, actor=finance)
    other_order = place_order(member, make_weighed_product(other_shop, "鲫鱼").skus.get())
    with pytest.raises(NotFound):  # a line of another order
        actions.record_line_weight(shop, order.pk, other_order.lines.get().pk, 500, actor=member)
    assert OrderLine.objects.get(pk=line.pk).actual_grams is None


def test_console_page_records_the_weight_and_the_member_sees_the_refund(
    sandbox, member, fish, pay, console_client, other_console_client, django_capture_on_commit_callbacks
):
    order = pay(place_order(member, fish))
    line = order.lines.get()
    page = console_client.get(f"/console/orders/{order.pk}/").content.decode()
    assert 'data-testid="weigh-form"' in page
    assert '预估 <span data-testid="estimated-weight">1.2 斤</span>' in page
    url = f"/console/orders/{order.pk}/lines/{line.pk}/weight/"
    assert other_console_client.post(url, {"actual_grams": "525"}).status_code == 404
    bad = console_client.post(url, {"actual_grams": "1.05"}, follow=True)
    assert "实际重量须为整数克" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = console_client.post(url, {"actual_grams": "525"})
    assert response.status_code == 302
    assert RefundRequest.objects.get(order=order).amount_fen == 525
    member_page = login(member).get(f"/orders/{order.number}/").content.decode()
    assert '实重 <span data-testid="actual-weight">1.05 斤</span>' in member_page
    assert '差价 <span data-testid="weight-difference">¥5.25</span>' in member_page
    assert "已自动退款" in member_page
    assert "称重差价退款：实重 1.05 斤，少 0.15 斤" in member_page
    assert (
        console_client.post(f"/console/orders/{order.pk}/lines/999999/weight/", {"actual_grams": "5"}).status_code
        == 404
    )


def test_staff_api_records_the_weight(sandbox, member, fish, pay, operator, other_operator, shop):
    order = pay(place_order(member, fish))
    line = order.lines.get()
    url = f"/api/v1/fulfilment/console/orders/{order.pk}/lines/{line.pk}/weight"
    client = Client()
    foreign = client.post(
        url, {"actual_grams": 525}, content_type="application/json", headers=auth_headers(other_operator)
    )
    assert foreign.status_code == 404
    assert (
        client.post(
            url, {"actual_grams": 0}, content_type="application/json", headers=auth_headers(operator)
        ).status_code
        == 422
    )
    response = client.post(url, {"actual_grams": 525}, content_type="application/json", headers=auth_headers(operator))
    assert response.status_code == 200
    body = response.json()
    assert {
        k: body[k]
        for k in (
            "unit",
            "weight_price_fen",
            "estimated_grams",
            "actual_grams",
            "actual_price_fen",
            "difference_fen",
            "weight_refund_fen",
        )
    } == {
        "unit": "斤",
        "weight_price_fen": 3500,
        "estimated_grams": 600,
        "actual_grams": 525,
        "actual_price_fen": 3675,
        "difference_fen": 525,
        "weight_refund_fen": 525,
    }
    again = client.post(url, {"actual_grams": 525}, content_type="application/json", headers=auth_headers(operator))
    assert again.json()["weight_refund_fen"] == 525
    assert RefundRequest.objects.filter(order=order).count() == 1
    mine = client.get(f"/api/v1/orders/{order.number}", headers=auth_headers(member)).json()["lines"][0]
    assert {k: mine[k] for k in ("unit_price_fen", "estimated_grams", "actual_grams", "weight_refund_fen")} == {
        "unit_price_fen": 4200,
        "estimated_grams": 600,
        "actual_grams": 525,
        "weight_refund_fen": 525,
    }
    per_piece = place_order(member, make_sku(shop))
    order_actions.mark_paid(per_piece)
    refused = client.post(
        f"/api/v1/fulfilment/console/orders/{per_piece.pk}/lines/{per_piece.lines.get().pk}/weight",
        {"actual_grams": 525}, content_type="application/json", headers=auth_headers(operator),
    )  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (422, "not_sold_by_weight")


def test_cart_and_checkout_show_the_estimate_and_the_promise(member, fish):
    client = login(member)
    client.post("/cart/add/", {"sku_id": fish.pk, "quantity": 2})
    cart = client.get("/cart/").content.decode()
    assert "¥35.00/斤 · 约 1.2 斤/条 · 按实重多退少不补" in cart
    assert "每条预估 ¥42.00，按实际重量多退少不补" in cart
    checkout = client.get(f"/checkout/?sku={fish.pk}&quantity=2").content.decode()
    assert "预估 ¥84.00，按实际重量多退少不补" in checkout


def test_the_console_pick_list_shows_the_estimated_weight_and_a_link_to_weigh(world, console_client):
    # The group-buy fish head sold by weight (its lines as checkout would have snapshot them).
    OrderLine.objects.filter(sku=world.skus["fish"]).update(
        weight_unit_grams=500, weight_price_fen=3990, estimated_grams=500
    )
    first = world.leaders[0]
    rows = {(row.name, row.title): row.weight_note for row in selectors.pick_list(world.campaign, first)}
    assert rows[("王**", "有机鱼头")] == "预估 2 斤"
    assert rows[("李*", "基围虾")] == ""
    line = OrderLine.objects.get(sku=world.skus["fish"], order__user__nickname="王小明")
    OrderLine.objects.filter(pk=line.pk).update(actual_grams=950)
    page = console_client.get(f"/console/fulfilment/campaigns/{world.campaign.pk}/leaders/{first.pk}/pick-list/")
    body = page.content.decode()
    assert "预估 2 斤，实重 1.9 斤" in body
    assert f'href="/console/orders/{line.order_id}/" data-testid="pick-weigh-link"' in body
    leader_page = member_client(first.user).get(f"/leader/pick-lists/?campaign={world.campaign.pk}").content.decode()
    assert "预估 2 斤，实重 1.9 斤" in leader_page
    assert "pick-weigh-link" not in leader_page  # leaders see the weight, staff record it
