import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shequn.core.models import AuditLog
from shequn.leaders.models import Leader
from shequn.orders import actions
from shequn.orders.enums import OrderStatus, RefundStatus
from shequn.orders.models import CartItem, Order, RefundRequest
from shequn.testing.factories import CommunityFactory, PickupPointFactory
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff, paid_order, place_order, staff_client

pytestmark = pytest.mark.django_db


def test_pages_need_login():
    response = Client().get(reverse("orders:cart"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_add_to_cart_and_see_it_grouped(member_client, member, sku):
    response = member_client.post(reverse("orders:cart_add"), {"sku_id": sku.pk, "quantity": 2})
    assert response.status_code == 302
    page = member_client.get(reverse("orders:cart")).content.decode()
    assert sku.product.title in page
    assert "¥70.00" in page
    assert sku.shop.name in page
    item = CartItem.objects.get(user=member)
    member_client.post(reverse("orders:cart_update", args=[item.pk]), {"quantity": 3})
    assert CartItem.objects.get(pk=item.pk).quantity == 3
    member_client.post(reverse("orders:cart_remove", args=[item.pk]))
    assert not CartItem.objects.filter(user=member).exists()


def test_buy_now_goes_to_checkout_which_shows_both_totals(member_client, sku):
    response = member_client.post(reverse("orders:cart_add"), {"sku_id": sku.pk, "quantity": 1, "buy_now": "1"})
    assert response.status_code == 302
    page = member_client.get(response["Location"]).content.decode()
    assert 'data-testid="items-total">¥35.00' in page
    assert 'data-testid="delivery-fee">¥10.00' in page
    assert 'data-testid="total-delivery">¥45.00' in page
    assert 'data-testid="total-pickup">¥35.00' in page
    assert reverse("accounts:address_new") + "?next=" in page


def test_checkout_submit_creates_one_order_even_when_submitted_twice(member_client, member, sku):
    page = member_client.get(reverse("orders:checkout") + f"?sku={sku.pk}&quantity=2").content.decode()
    token = page.split('name="submit_token" value="')[1].split('"')[0]
    form = {
        "submit_token": token,
        "sku": sku.pk,
        "quantity": 2,
        "fulfilment": "delivery",
        "address_id": member.addresses.get().pk,
        "payment_method": "sandbox",
        "buyer_note": "谢谢",
    }
    first = member_client.post(reverse("orders:checkout"), form)
    second = member_client.post(reverse("orders:checkout"), form)
    order = Order.objects.get(user=member)
    assert first["Location"] == second["Location"] == reverse("orders:order_detail", args=[order.number])
    assert order.buyer_note == "谢谢"
    detail = member_client.get(first["Location"]).content.decode()
    assert order.number in detail
    assert "待付款" in detail
    assert member.addresses.get().phone in detail  # the owner sees their full number
    assert f'action="{reverse("payments:pay", args=[order.number])}"' in detail
    assert 'data-testid="cancel-button"' in detail


def test_checkout_error_keeps_the_input_for_fixing(member_client, member, sku):
    form = {"sku": sku.pk, "quantity": 1, "fulfilment": "pickup", "payment_method": "sandbox", "buyer_note": "留言"}
    response = member_client.post(reverse("orders:checkout"), form)
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-code="pickup_point_required"' in page
    assert "留言" in page
    assert not Order.objects.exists()


def test_checkout_with_pickup_and_cod(member_client, member, sku):
    point = PickupPointFactory.create(shop=sku.shop)
    form = {"sku": sku.pk, "quantity": 1, "fulfilment": "pickup", "pickup_point_id": point.pk, "payment_method": "cod"}
    response = member_client.post(reverse("orders:checkout"), form)
    assert response.status_code == 302
    order = Order.objects.get(user=member)
    assert (order.fulfilment, order.payment_method, order.pickup_point, order.total_fen) == (
        "pickup",
        "cod",
        point,
        3500,
    )


def test_a_leaders_pickup_point_is_not_offered_at_the_ordinary_checkout(member_client, sku):
    shop_point = PickupPointFactory.create(shop=sku.shop, name="农场门店")
    leader_point = PickupPointFactory.create(shop=sku.shop, name="阳光小区团长点")
    Leader.objects.create(
        shop=sku.shop,
        user=make_member(),
        community=CommunityFactory.create(shop=sku.shop),
        status="active",
        pickup_point=leader_point,
        point_name=leader_point.name,
        point_address="阳光小区 3 幢",
        contact_phone="13900000000",
    )
    page = member_client.get(reverse("orders:checkout"), {"sku": sku.pk, "quantity": 1})
    assert [point.name for point in page.context["pickup_points"]] == [shop_point.name]


def test_my_orders_tabs_and_cancel(member_client, member, sku):
    pending = place_order(member, sku)
    paid = paid_order(member, sku)
    page = member_client.get(reverse("orders:my_orders") + "?tab=pending").content.decode()
    assert pending.number in page
    assert paid.number not in page
    page = member_client.get(reverse("orders:my_orders") + "?tab=to_ship").content.decode()
    assert paid.number in page
    member_client.post(reverse("orders:cancel_order", args=[pending.number]))
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.CANCELLED


def test_member_b_gets_404_for_member_a_order_pages(member, sku):
    order = paid_order(member, sku)
    other = Client()
    other.force_login(make_member())
    line = order.lines.get()
    assert other.get(reverse("orders:order_detail", args=[order.number])).status_code == 404
    assert other.post(reverse("orders:cancel_order", args=[order.number])).status_code == 404
    assert other.get(reverse("orders:request_refund", args=[order.number, line.pk])).status_code == 404
    response = other.post(
        reverse("orders:request_refund", args=[order.number, line.pk]), {"amount": "1", "reason": "x"}
    )
    assert response.status_code == 404
    assert not RefundRequest.objects.exists()


def test_refund_request_page(member_client, member, shop):
    order = paid_order(member, make_sku(shop), 2)
    line = order.lines.get()
    url = reverse("orders:request_refund", args=[order.number, line.pk])
    assert "¥70.00" in member_client.get(url).content.decode()
    response = member_client.post(url, {"amount": "80", "reason": "坏了"})
    assert response.status_code == 422
    assert 'data-code="refund_amount_invalid"' in response.content.decode()
    response = member_client.post(url, {"amount": "12.50", "reason": "少了一块"})
    assert response.status_code == 302
    refund = RefundRequest.objects.get()
    assert (refund.amount_fen, refund.reason) == (1250, "少了一块")
    detail = member_client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert refund.number in detail
    assert 'data-status="requested"' in detail


def test_non_returnable_line_has_no_refund_button_after_shipping(member_client, member, shop):
    order = paid_order(member, make_sku(shop, returnable=False))
    detail_url = reverse("orders:order_detail", args=[order.number])
    assert 'data-testid="refund-button"' in member_client.get(detail_url).content.decode()
    actions.ship_order(shop, order.pk, make_staff(shop), tracking_company="顺丰", tracking_number="SF9")
    assert 'data-testid="refund-button"' not in member_client.get(detail_url).content.decode()
    line = order.lines.get()
    page = member_client.get(reverse("orders:request_refund", args=[order.number, line.pk])).content.decode()
    assert 'data-code="not_returnable"' in page


def test_console_order_list_filters_and_masks_phones(member, shop):
    client = staff_client(shop)
    pending = place_order(member, make_sku(shop))
    paid = paid_order(member, make_sku(shop))
    page = client.get(reverse("orders:console_orders")).content.decode()
    assert pending.number in page
    assert paid.number in page
    assert member.phone not in page
    assert f"{member.phone[:3]}****{member.phone[-4:]}" in page
    page = client.get(reverse("orders:console_orders") + "?status=paid").content.decode()
    assert paid.number in page
    assert pending.number not in page
    page = client.get(reverse("orders:console_orders") + f"?q={pending.number}").content.decode()
    assert pending.number in page
    assert paid.number not in page


def test_console_order_list_pages_through_every_order_once_newest_first_keeping_the_filters(member, shop):
    client = staff_client(shop)
    sku = make_sku(shop, stock=100)
    orders = [paid_order(member, sku) for _ in range(43)]
    place_order(member, sku)  # pending: filtered out below
    same_minute = timezone.now()  # ties on created_at are broken by id, so no order is skipped or repeated
    Order.objects.filter(pk__in=[o.pk for o in orders[10:30]]).update(created_at=same_minute)
    expected = list(
        Order.objects.filter(shop=shop, status=OrderStatus.PAID)
        .order_by("-created_at", "-id")
        .values_list("number", flat=True)
    )

    seen: list[str] = []
    pages: list[int] = []
    url: str | None = reverse("orders:console_orders") + "?status=paid"
    while url:
        page = client.get(url).content.decode()
        numbers = re.findall(r'data-testid="console-order-row" data-number="([^"]+)"', page)
        pages.append(len(numbers))
        seen += numbers
        following = re.search(r'<a href="\?([^"]*)" data-testid="next-page">', page)
        url = reverse("orders:console_orders") + "?" + following.group(1).replace("&amp;", "&") if following else None
        assert ("回到最新" in page) == (len(pages) > 1)
    assert pages == [20, 20, 3]
    assert seen == expected


def test_console_order_list_after_a_foreign_order_shows_nothing_of_it(member, shop):
    mine = paid_order(member, make_sku(shop))
    foreign = paid_order(member, make_sku(make_shop(slug="other-shop")))
    page = staff_client(shop).get(reverse("orders:console_orders"), {"after": foreign.pk}).content.decode()
    assert "没有符合条件的订单" in page
    assert foreign.number not in page
    assert mine.number not in page


def test_console_ship_and_deliver_from_the_detail_page(member, shop):
    client = staff_client(shop, role="operator")
    order = paid_order(member, make_sku(shop))
    detail_url = reverse("orders:console_order_detail", args=[order.pk])
    page = client.get(detail_url).content.decode()
    assert 'data-testid="ship-button"' in page
    assert order.recipient_phone not in page
    response = client.post(
        reverse("orders:console_ship", args=[order.pk]), {"tracking_company": "顺丰", "tracking_number": "SF777"}
    )
    assert response["Location"] == detail_url
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == (OrderStatus.SHIPPED, "SF777")
    assert AuditLog.objects.filter(action="order.ship", shop=shop).count() == 1
    client.post(reverse("orders:console_mark_delivered", args=[order.pk]))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED


def test_console_offers_cod_confirmation_until_the_cash_is_confirmed(member, shop):
    client = staff_client(shop, role="finance")
    order = place_order(member, make_sku(shop), payment_method="cod")
    page = client.get(reverse("orders:console_order_detail", args=[order.pk])).content.decode()
    assert f'action="{reverse("payments:console_confirm_cod", args=[order.pk])}"' in page
    assert 'data-testid="ship-button"' not in page  # finance does not ship
    operator_page = staff_client(shop, role="operator").get(reverse("orders:console_order_detail", args=[order.pk]))
    operator_html = operator_page.content.decode()
    assert 'data-testid="ship-button"' in operator_html
    # Nor does an operator take cash: the button is disabled and says whom to ask.
    assert f'action="{reverse("payments:console_confirm_cod", args=[order.pk])}"' not in operator_html
    assert 'disabled aria-describedby="confirm-cod-hint"' in operator_html
    assert "需要店主、管理员或财务角色" in operator_html
    actions.mark_paid(order)
    page = client.get(reverse("orders:console_order_detail", args=[order.pk])).content.decode()
    assert 'data-testid="confirm-cod-button"' not in page


def test_console_refund_list_offers_approve_and_reject(member, shop):
    client = staff_client(shop, role="finance")
    order = paid_order(member, make_sku(shop))
    refund = actions.request_refund(member, order.number, order.lines.get().pk, amount_fen=100, reason="坏了")
    page = client.get(reverse("orders:console_refunds")).content.decode()
    assert f'action="{reverse("payments:console_approve_refund", args=[refund.pk])}"' in page
    assert f'action="{reverse("orders:console_reject_refund", args=[refund.pk])}"' in page
    operator_page = staff_client(shop, role="operator").get(reverse("orders:console_refunds")).content.decode()
    assert refund.number in operator_page
    assert 'data-testid="reject-refund-button"' not in operator_page


def test_console_pickup_buttons(member, shop):
    client = staff_client(shop)
    point = PickupPointFactory.create(shop=shop)
    order = paid_order(member, make_sku(shop), fulfilment="pickup", pickup_point_id=point.pk)
    client.post(reverse("orders:console_mark_ready", args=[order.pk]))
    client.post(reverse("orders:console_mark_picked_up", args=[order.pk]))
    client.post(reverse("orders:console_complete", args=[order.pk]))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_console_reject_refund(member, shop):
    client = staff_client(shop, role="service")
    order = paid_order(member, make_sku(shop))
    refund = actions.request_refund(member, order.number, order.lines.get().pk, amount_fen=100, reason="坏了")
    page = client.get(reverse("orders:console_refunds")).content.decode()
    assert refund.number in page
    client.post(reverse("orders:console_reject_refund", args=[refund.pk]), {"reason": "已超过时限"})
    refund.refresh_from_db()
    assert (refund.status, refund.reject_reason) == (RefundStatus.REJECTED, "已超过时限")


def test_staff_of_shop_b_get_404_for_shop_a_in_console_pages(member, shop):
    order = paid_order(member, make_sku(shop))
    refund = actions.request_refund(member, order.number, order.lines.get().pk, amount_fen=100, reason="坏了")
    client = staff_client(make_shop())
    assert client.get(reverse("orders:console_order_detail", args=[order.pk])).status_code == 404
    for name in ("console_ship", "console_mark_ready", "console_mark_picked_up", "console_mark_delivered"):
        assert (
            client.post(
                reverse(f"orders:{name}", args=[order.pk]), {"tracking_company": "a", "tracking_number": "b"}
            ).status_code
            == 404
        )
    assert client.post(reverse("orders:console_reject_refund", args=[refund.pk]), {"reason": "x"}).status_code == 404
    assert order.number not in client.get(reverse("orders:console_orders")).content.decode()
    assert refund.number not in client.get(reverse("orders:console_refunds")).content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert RefundRequest.objects.get(pk=refund.pk).status == RefundStatus.REQUESTED


def test_members_cannot_open_the_console(member_client):
    response = member_client.get(reverse("orders:console_orders"))
    assert response.status_code in (302, 404)
    assert response.status_code != 200


def test_checkout_failure_with_a_form_token_keeps_its_status(member_client, member, shop):
    sku = make_sku(shop, stock=1, title="帝王蟹")
    form = {
        "submit_token": "token-1",
        "sku": sku.pk,
        "quantity": 2,
        "fulfilment": "delivery",
        "address_id": member.addresses.get().pk,
        "payment_method": "sandbox",
    }
    for _ in range(2):
        response = member_client.post(reverse("orders:checkout"), form)
        assert response.status_code == 409
        page = response.content.decode()
        assert 'data-code="sold_out"' in page
        assert "帝王蟹" in page
    assert not Order.objects.exists()


def test_console_home_shows_todays_orders_and_sales():
    shop = make_shop()
    sku = make_sku(shop, price_fen=3500)
    buyer = make_member()
    place_order(buyer, sku, quantity=1)  # placed, not paid
    paid_order(buyer, sku, quantity=2)  # placed and paid today
    other_shop_sku = make_sku(make_shop(), price_fen=9900)
    paid_order(make_member(), other_shop_sku)  # another shop's sale is not ours

    page = staff_client(shop).get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="today-orders">2<' in html
    # Only the paid order counts: 2 × ¥35 plus ¥10 shipping (below the ¥99 free-shipping line).
    assert 'data-testid="today-sales">¥80.00<' in html


@pytest.mark.parametrize(("typed", "message"), yuan_refusals(min_fen=1))
def test_a_refund_amount_that_cannot_be_read_is_an_error_beside_the_field(member_client, member, shop, typed, message):
    order = paid_order(member, make_sku(shop), 2)
    url = reverse("orders:request_refund", args=[order.number, order.lines.get().pk])
    response = member_client.post(url, {"amount": typed, "reason": "坏了"})
    assert response.status_code == 422
    html = response.content.decode()
    assert message in beside_input(html, "amount")
    assert keeps_typed_value(html, "amount", typed)
    assert "坏了</textarea>" in html
    assert not RefundRequest.objects.exists()


def test_a_refund_amount_in_yuan_is_requested_in_fen(member_client, member, shop):
    order = paid_order(member, make_sku(shop), 2)
    url = reverse("orders:request_refund", args=[order.number, order.lines.get().pk])
    assert keeps_typed_value(member_client.get(url).content.decode(), "amount", "70.00")
    assert member_client.post(url, {"amount": "35.90", "reason": "少了"}).status_code == 302
    assert RefundRequest.objects.get().amount_fen == 3590
