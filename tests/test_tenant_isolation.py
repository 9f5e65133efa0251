"""Tenant isolation across the whole product: shop B's staff and members see none of shop A.

Every id of shop A (orders, refunds, addresses, products, SKUs, categories, communities, posts,
pickup points, staff) answers 404 to shop B, never 403 (a foreign id looks exactly like a missing
one) and never 200; and nothing of A changes. Shop A is made by the factories or through merchant
onboarding (apply, platform approval); shop B by the factories, through onboarding, or is the
seeded demo shop: so an onboarded shop and the demo shop are closed to each other's staff.
"""

import pytest
from django.test import Client

from shequn.accounts.actions import do_issue_token
from shequn.loyalty import actions as loyalty_actions
from shequn.orders import actions as order_actions
from shequn.orders.models import Order, RefundRequest
from shequn.shops.enums import StaffRole
from shequn.testing.coupons import make_coupon_template
from shequn.testing.factories import (
    AddressFactory,
    CategoryFactory,
    CommunityFactory,
    PostFactory,
    ProductFactory,
    ShopFactory,
    SkuFactory,
    StaffFactory,
    UserFactory,
)
from shequn.testing.orders import make_slot
from shequn.testing.storedvalue import make_plan

pytestmark = pytest.mark.django_db


def _onboarded_shop(slug: str):
    """A shop as a merchant makes one: applied for, approved by the platform, the applicant its owner."""
    from shequn.merchants.actions import ApplicationInput, do_apply, do_approve

    applicant = UserFactory.create()
    data = ApplicationInput(name="新入驻小店", slug=slug, category="fresh", business_subject="individual")
    shop = do_approve(UserFactory.create(is_staff=True), do_apply(applicant, data).pk).shop
    assert shop is not None
    return shop, applicant


def _demo_shop():
    """The demo shop as `make run` seeds it, with its owner."""
    from shequn.demo.seed import demo_shop, seed

    seed(with_images=False, with_orders=False, with_offers=False)
    shop = demo_shop()
    assert shop is not None
    return shop, shop.staff.get(role=StaffRole.OWNER).user


@pytest.fixture(params=["seeded", "onboarded"])
def shop_a(request):
    """Shop A, whose every object B tries: made by the factories, or through onboarding."""
    if request.param == "onboarded":
        shop, owner = _onboarded_shop("shop-a")
    else:
        shop = ShopFactory.create(slug="shop-a")
        owner = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    member = UserFactory.create()
    address = AddressFactory.create(user=member)
    product = ProductFactory.create(shop=shop)
    sku = SkuFactory.create(product=product, stock=10)
    category = CategoryFactory.create(shop=shop)
    community = CommunityFactory.create(shop=shop)
    post = PostFactory.create(community=community, author=owner)
    order = order_actions.create_order(
        member, sku_id=sku.pk, quantity=1, fulfilment="delivery", payment_method="sandbox", address_id=address.pk
    )
    order_actions.mark_paid(order)
    line = order.lines.get()
    refund = order_actions.request_refund(member, order.number, line.pk, amount_fen=1000, reason="坏了")
    cod_order = order_actions.create_order(
        member, sku_id=sku.pk, quantity=1, fulfilment="delivery", payment_method="cod", address_id=address.pk
    )
    slot = make_slot(shop, capacity=5)
    flash_sale = _draft_flash_sale(shop, owner, sku)
    coupon = make_coupon_template(shop, owner)
    level = loyalty_actions.save_level(shop, owner, loyalty_actions.LevelInput(name="A 的银卡", growth_fen=100))
    plan = make_plan(shop)
    return {
        "shop": shop, "owner": owner, "member": member, "address": address, "product": product, "sku": sku,
        "category": category, "community": community, "post": post, "order": order, "line": line,
        "refund": refund, "cod_order": cod_order, "slot": slot, "flash_sale": flash_sale, "coupon": coupon,
        "level": level,
        "plan": plan,
    }  # fmt: skip


def _draft_flash_sale(shop, owner, sku):
    from datetime import timedelta

    from django.utils import timezone

    from shequn.flashsales.actions import ItemInput, SaleInput, SessionInput, create_sale

    starts = timezone.now() + timedelta(days=1)
    item = ItemInput(sku_id=sku.pk, flash_price_fen=sku.price_fen - 1, quantity=1)
    session = SessionInput(starts_at=starts, ends_at=starts + timedelta(hours=1), items=[item])
    data = SaleInput(title="A 的秒杀", reservation_starts_at=starts - timedelta(hours=1), sessions=[session])
    return create_sale(shop, owner, data)


@pytest.fixture(params=["seeded", "onboarded", "demo"])
def shop_b(request):
    """Shop B made by the factories, through onboarding, or the seeded demo shop."""
    if request.param == "onboarded":
        shop, owner = _onboarded_shop("shop-b")
    elif request.param == "demo":
        shop, owner = _demo_shop()
    else:
        shop = ShopFactory.create(slug="shop-b")
        owner = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    member = UserFactory.create()
    AddressFactory.create(user=member)
    sku = SkuFactory.create(product=ProductFactory.create(shop=shop), stock=10)
    return {"shop": shop, "owner": owner, "member": member, "sku": sku}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {do_issue_token(user, name='test').token}"})


def test_staff_of_another_shop_get_404_for_every_console_page_and_action(shop_a, shop_b):
    a = shop_a
    staff_b = _client(shop_b["owner"])
    reads = [
        f"/console/orders/{a['order'].pk}/",
        f"/console/products/{a['product'].pk}/",
        f"/console/communities/{a['community'].pk}/",
        f"/console/delivery-slots/{a['slot'].pk}/",
        f"/console/fulfilment/slots/{a['slot'].pk}/",
        f"/console/flash/{a['flash_sale'].pk}/",
        f"/console/flash/{a['flash_sale'].pk}/edit/",
        f"/console/flash/{a['flash_sale'].pk}/counters/",
        f"/console/coupons/{a['coupon'].pk}/",
        f"/console/coupons/{a['coupon'].pk}/edit/",
        f"/console/loyalty/levels/{a['level'].pk}/",
    ]
    writes = [
        f"/console/orders/{a['order'].pk}/ship/",
        f"/console/orders/{a['order'].pk}/cancel/",
        f"/console/orders/{a['cod_order'].pk}/confirm-cod/",
        f"/console/refunds/{a['refund'].pk}/approve/",
        f"/console/refunds/{a['refund'].pk}/reject/",
        f"/console/products/{a['product'].pk}/shelf/",
        f"/console/products/{a['product'].pk}/delete/",
        f"/console/skus/{a['sku'].pk}/stock/",
        f"/console/posts/{a['post'].pk}/delete/",
        f"/console/posts/{a['post'].pk}/publish/",
        f"/console/categories/{a['category'].pk}/",
        f"/console/communities/{a['community'].pk}/",
        f"/console/delivery-slots/{a['slot'].pk}/",
        f"/console/delivery-slots/{a['slot'].pk}/open/",
        f"/console/flash/{a['flash_sale'].pk}/edit/",
        f"/console/flash/{a['flash_sale'].pk}/schedule/",
        f"/console/flash/{a['flash_sale'].pk}/end/",
        f"/console/coupons/{a['coupon'].pk}/edit/",
        f"/console/coupons/{a['coupon'].pk}/issue/",
        f"/console/coupons/{a['coupon'].pk}/post/",
        f"/console/loyalty/levels/{a['level'].pk}/",
        f"/console/loyalty/levels/{a['level'].pk}/prices/",
        f"/console/loyalty/levels/{a['level'].pk}/delete/",
        f"/console/stored-value/{a['plan'].pk}/active/",
    ]
    for url in reads:
        assert staff_b.get(url).status_code == 404, url
    form = {
        "tracking_company": "顺丰", "tracking_number": "SF1", "reason": "x", "stock": 0, "name": "被改了",
        "capacity": 1, "cutoff_at": "2030-01-01T08:00", "open": "0",
    }  # fmt: skip
    for url in writes:
        response = staff_b.post(url, form)
        assert response.status_code == 404, url
    # The console lists show none of A's data either.
    assert a["order"].number not in staff_b.get("/console/orders/").content.decode()
    assert a["product"].title not in staff_b.get("/console/products/").content.decode()
    _assert_nothing_of_a_changed(a)


def test_staff_of_another_shop_get_404_in_the_operator_api(shop_a, shop_b):
    a = shop_a
    api_b = _api(shop_b["owner"])
    reads = [
        f"/api/v1/orders/console/orders/{a['order'].pk}",
        f"/api/v1/catalog/console/products/{a['product'].pk}",
        f"/api/v1/communities/console/communities/{a['community'].pk}",
        f"/api/v1/communities/console/posts/{a['post'].pk}",
        f"/api/v1/shops/{a['shop'].pk}/staff",
        f"/api/v1/flashsales/console/sales/{a['flash_sale'].pk}",
        f"/api/v1/flashsales/console/sales/{a['flash_sale'].pk}/counters",
        f"/api/v1/coupons/console/templates/{a['coupon'].pk}",
    ]
    writes = [
        (f"/api/v1/orders/console/orders/{a['order'].pk}/ship", {"tracking_company": "顺丰", "tracking_number": "SF1"}),
        (f"/api/v1/orders/console/refunds/{a['refund'].pk}/reject", {"reason": "不行"}),
        (f"/api/v1/payments/console/refunds/{a['refund'].pk}/approve", {}),
        (f"/api/v1/payments/console/orders/{a['cod_order'].pk}/confirm-cod", {}),
        (f"/api/v1/catalog/console/skus/{a['sku'].pk}/stock", {"stock": 0}),
        (f"/api/v1/shops/{shop_b['shop'].pk}/delivery-slots/{a['slot'].pk}/close", {}),
        (f"/api/v1/shops/{a['shop'].pk}/delivery-slots/{a['slot'].pk}/close", {}),
        (f"/api/v1/flashsales/console/sales/{a['flash_sale'].pk}/schedule", {}),
        (f"/api/v1/flashsales/console/sales/{a['flash_sale'].pk}/end", {}),
        (f"/api/v1/coupons/console/templates/{a['coupon'].pk}/issue", {"phones": ["13800000000"]}),
        (f"/api/v1/stored-value/console/plans/{a['plan'].pk}/active", {"active": False}),
    ]
    for url in reads:
        assert api_b.get(url).status_code == 404, url
    for url, body in writes:
        assert api_b.post(url, body, content_type="application/json").status_code == 404, url
    # Naming shop A in X-Shop does not help: B's owner is not A's staff.
    assert api_b.get("/api/v1/orders/console/orders", headers={"X-Shop": "shop-a"}).status_code == 404
    assert api_b.delete(f"/api/v1/communities/console/posts/{a['post'].pk}").status_code == 404
    level_url = f"/api/v1/loyalty/console/levels/{a['level'].pk}"
    level_body = {"name": "被改了", "growth_fen": 1}
    assert api_b.put(level_url, level_body, content_type="application/json").status_code == 404
    prices = {"prices": [{"sku_id": a["sku"].pk, "price_fen": 1}]}
    assert api_b.put(f"{level_url}/prices", prices, content_type="application/json").status_code == 404
    _assert_nothing_of_a_changed(a)


def test_members_get_404_for_another_members_orders_addresses_and_refunds(shop_a, shop_b):
    a = shop_a
    member_b = _client(shop_b["member"])
    api_b = _api(shop_b["member"])
    number = a["order"].number
    for url in [
        f"/orders/{number}/",
        f"/orders/{number}/lines/{a['line'].pk}/refund/",
        f"/me/addresses/{a['address'].pk}/",
    ]:
        assert member_b.get(url).status_code == 404, url
    for url in [f"/orders/{number}/cancel/", f"/orders/{number}/pay/", f"/me/addresses/{a['address'].pk}/delete/"]:
        assert member_b.post(url).status_code == 404, url
    for url in [f"/api/v1/orders/{number}", f"/api/v1/accounts/addresses/{a['address'].pk}"]:
        assert api_b.get(url).status_code == 404, url
    assert api_b.post(f"/api/v1/orders/{number}/cancel").status_code == 404
    # Shop A's delivery slot is no choice at shop B's checkout.
    body = {"sku_id": shop_b["sku"].pk, "fulfilment": "delivery", "payment_method": "sandbox"}
    quote = api_b.post(
        "/api/v1/orders/quote", {**body, "delivery_slot_id": a["slot"].pk}, content_type="application/json"
    )
    assert (quote.status_code, quote.json()["code"]) == (404, "slot_not_found")
    assert api_b.post(f"/api/v1/payments/orders/{number}/pay").status_code == 404
    refund_body = {"line_id": a["line"].pk, "amount_fen": 100, "reason": "x"}
    response = api_b.post(f"/api/v1/orders/{number}/refunds", refund_body, content_type="application/json")
    assert response.status_code == 404
    # Their own lists are empty of A's things.
    assert api_b.get("/api/v1/orders").json()["count"] == 0
    assert api_b.get("/api/v1/orders/refunds").json()["count"] == 0
    assert all(row["id"] != a["address"].pk for row in api_b.get("/api/v1/accounts/addresses").json()["items"])
    _assert_nothing_of_a_changed(a)


def _assert_nothing_of_a_changed(a) -> None:
    order = Order.objects.get(pk=a["order"].pk)
    assert order.status == "paid"
    assert order.tracking_number == ""
    assert RefundRequest.objects.get(pk=a["refund"].pk).status == "requested"
    assert Order.objects.get(pk=a["cod_order"].pk).paid_at is None
    a["sku"].refresh_from_db()
    assert a["sku"].stock == 8
    a["product"].refresh_from_db()
    assert a["product"].on_shelf
    a["post"].refresh_from_db()
    assert a["post"].is_published
    a["category"].refresh_from_db()
    assert a["category"].name != "被改了"
    a["community"].refresh_from_db()
    assert a["community"].name != "被改了"
    a["slot"].refresh_from_db()
    assert (a["slot"].capacity, a["slot"].is_open, a["slot"].booked) == (5, True, 0)
    a["flash_sale"].refresh_from_db()
    assert (a["flash_sale"].status, a["flash_sale"].title) == ("draft", "A 的秒杀")
    a["coupon"].refresh_from_db()
    assert (a["coupon"].name, a["coupon"].remaining) == ("满100减20", 100)
    a["level"].refresh_from_db()  # still there, named as A named it, without prices
    assert (a["level"].name, a["level"].prices.count()) == ("A 的银卡", 0)
    a["plan"].refresh_from_db()
    assert a["plan"].active


def test_an_onboarded_shop_is_closed_to_another_shops_staff(shop_a):
    shop, applicant = _onboarded_shop("new-shop")
    owner_api = _api(applicant)
    assert [row["slug"] for row in owner_api.get("/api/v1/shops/mine").json()] == ["new-shop"]
    api_a = _api(shop_a["owner"])
    for path in (f"/api/v1/shops/{shop.pk}/staff", f"/api/v1/shops/{shop.pk}/audit"):
        assert api_a.get(path).status_code == 404
    staff_a = _client(shop_a["owner"])
    staff_a.post("/console/switch-shop/", {"shop_id": shop.pk})
    assert staff_a.get("/console/").context["shop"] == shop_a["shop"]  # still A's console
