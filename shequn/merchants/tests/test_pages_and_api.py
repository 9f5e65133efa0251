"""The onboarding flow and the platform console as people use them: pages and API."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from shequn.core.models import AuditLog
from shequn.merchants.enums import ApplicationStatus
from shequn.merchants.models import MerchantApplication
from shequn.notifications.models import Notification
from shequn.orders.models import Order
from shequn.shops.enums import ShopStatus
from shequn.shops.models import Shop
from shequn.testing.factories import UserFactory
from shequn.testing.orders import (
    auth_headers,
    make_member,
    make_shop,
    make_sku,
    make_staff,
    paid_order,
    place_order,
    staff_client,
)

pytestmark = pytest.mark.django_db

COMPANY_CODE = "91350100M000100Y43"


@pytest.fixture
def platform_admin() -> Any:
    return UserFactory(username="platform", is_staff=True)


@pytest.fixture
def admin_client(platform_admin: Any) -> Client:
    client = Client()
    client.force_login(platform_admin)
    return client


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_apply_on_the_page_is_approved_and_the_owner_lands_in_the_console_with_the_guide(admin_client):
    applicant = make_member()
    client = _client(applicant)
    assert client.get("/open-shop/").status_code == 200
    refused = client.post(
        "/open-shop/",
        {"name": "鲜果铺", "slug": "admin", "category": "fresh", "business_subject": "company", "licence_number": ""},
    )
    assert refused.status_code == 422
    assert "保留地址" in refused.content.decode()
    wrong_code = client.post(
        "/open-shop/",
        {"name": "鲜果铺", "slug": "xianguo", "category": "fresh", "business_subject": "company",
         "licence_number": "91350100M000100Y44"},
    )  # fmt: skip
    assert "校验位不正确" in wrong_code.content.decode()
    filed = client.post(
        "/open-shop/",
        {"name": "鲜果铺", "slug": "xianguo", "category": "fresh", "business_subject": "company",
         "licence_number": COMPANY_CODE},
    )  # fmt: skip
    assert filed.status_code == 302
    assert "待审核" in client.get("/open-shop/").content.decode()
    assert client.get("/console/").status_code == 302  # no shop yet

    queue = admin_client.get("/platform/applications/?status=pending").content.decode()
    assert "鲜果铺" in queue
    application = MerchantApplication.objects.get(slug="xianguo")
    admin_client.post(f"/platform/applications/{application.pk}/approve/")

    home = client.get("/console/")
    assert home.status_code == 200
    page = home.content.decode()
    assert 'data-testid="first-run-guide"' in page
    assert page.count('data-done="0"') == 3  # community, product, payment: none done yet
    shop = Shop.objects.get(slug="xianguo")
    settings_saved = client.post(
        "/console/settings/",
        {"unpaid_timeout_minutes": "30", "shipping_fee_yuan": "10", "free_shipping_threshold_yuan": "99",
         "cod_enabled": "1"},
    )  # fmt: skip
    assert settings_saved.status_code == 302
    make_sku(shop)  # the first product
    page = client.get("/console/").content.decode()
    assert page.count('data-done="1"') == 2  # payment set-up and the product tick themselves
    assert "创建第一个社群" in page


def test_reject_on_the_page_tells_the_applicant_why(admin_client):
    applicant = make_member()
    client = _client(applicant)
    client.post(
        "/open-shop/", {"name": "个人小店", "slug": "my-shop", "category": "other", "business_subject": "individual"}
    )
    application = MerchantApplication.objects.get(slug="my-shop")
    assert admin_client.post(f"/platform/applications/{application.pk}/reject/", {"reason": ""}).status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING  # no reason, no rejection
    admin_client.post(f"/platform/applications/{application.pk}/reject/", {"reason": "店铺名称不规范"})
    assert "店铺名称不规范" in client.get("/open-shop/").content.decode()
    assert "店铺名称不规范" in Notification.objects.get(user=applicant, kind="merchant.rejected").body
    assert "店铺名称不规范" in client.get("/inbox/").content.decode()


def test_suspended_shop_pages_checkout_and_api_refuse_and_reinstate_reopens(admin_client):
    shop = make_shop(name="老街杂货", slug="laojie")
    sku = make_sku(shop)
    member = make_member()
    earlier = paid_order(member, sku)
    response = admin_client.post(f"/platform/shops/{shop.pk}/suspend/", {"reason": "资质复核"})
    assert response.status_code == 302

    member_client = _client(member)
    home = member_client.get("/s/laojie/")
    assert home.status_code == 403
    assert "暂停营业" in home.content.decode()
    assert 'data-error-code="shop_suspended"' in home.content.decode()
    product = member_client.get(f"/s/laojie/p/{sku.product_id}/")
    assert product.status_code == 403
    checkout = member_client.get(f"/checkout/?sku={sku.pk}&quantity=1")
    assert (checkout.status_code, "暂停营业" in checkout.content.decode()) == (403, True)
    submitted = member_client.post(
        "/checkout/", {"sku": sku.pk, "quantity": 1, "fulfilment": "delivery", "payment_method": "sandbox"}
    )
    assert (submitted.status_code, "暂停营业" in submitted.content.decode()) == (403, True)
    api = Client().post(
        "/api/v1/orders",
        {"sku_id": sku.pk, "quantity": 1, "fulfilment": "delivery", "payment_method": "sandbox",
         "address_id": member.addresses.first().pk},
        content_type="application/json",
        headers=auth_headers(member),
    )  # fmt: skip
    assert (api.status_code, api.json()["code"]) == (403, "shop_suspended")
    assert Client().get("/api/v1/catalog/shops/laojie/products").json()["code"] == "shop_suspended"
    # Data intact: the earlier order is still the member's to see.
    assert list(Order.objects.filter(shop=shop)) == [earlier]
    assert member_client.get(f"/orders/{earlier.number}/").status_code == 200

    # Staff still read the console, with the banner, but change nothing.
    owner = staff_client(shop, "owner")
    console = owner.get("/console/")
    assert console.status_code == 200
    assert 'data-shop-status="suspended"' in console.content.decode()
    assert owner.get("/console/products/").status_code == 200
    refused = owner.post("/console/settings/", {"unpaid_timeout_minutes": "15"})
    assert refused.status_code == 403
    assert "控制台只读" in refused.content.decode()
    # The operator API too: reading works, a change is refused (every console route, one check).
    slots = f"/api/v1/shops/{shop.pk}/delivery-slots"
    assert owner.get(slots).status_code == 200
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    slot = owner.post(
        slots,
        {"date": tomorrow, "starts_at": "09:00", "ends_at": "11:00", "capacity": 5},
        content_type="application/json",
    )
    assert (slot.status_code, slot.json()["code"]) == (403, "shop_suspended")

    admin_client.post(f"/platform/shops/{shop.pk}/reinstate/", {"reason": "复核通过"})
    assert member_client.get("/s/laojie/").status_code == 200
    assert place_order(member, sku).shop == shop


def test_closed_shop_is_hidden_from_the_directory(admin_client):
    open_shop, closing = make_shop(name="营业小店"), make_shop(name="关门小店")
    admin_client.post(f"/platform/shops/{closing.pk}/close/", {"reason": "商家注销"})
    directory = Client().get("/").content.decode()
    assert "关门小店" not in directory
    assert open_shop.name in directory or Client().get("/").status_code == 302
    assert Client().get(f"/s/{closing.slug}/").status_code == 403


@pytest.mark.parametrize("path", ["/platform/", "/platform/applications/", "/platform/audit/"])
def test_platform_console_is_forbidden_to_shop_staff_and_members(path):
    shop = make_shop()
    assert staff_client(shop, "owner").get(path).status_code == 403
    assert _client(make_member()).get(path).status_code == 403
    assert Client().get(path).status_code == 302  # to sign in


def test_platform_api_is_forbidden_to_shop_staff_and_members():
    shop = make_shop()
    owner = make_staff(shop, "owner")
    for user in (owner, make_member()):
        response = Client().get("/api/v1/merchants/platform/shops", headers=auth_headers(user))
        assert (response.status_code, response.json()["code"]) == (403, "platform_staff_only")
        response = Client().post(
            f"/api/v1/merchants/platform/shops/{shop.pk}/suspend",
            {"reason": "x"},
            content_type="application/json",
            headers=auth_headers(user),
        )
        assert response.status_code == 403
    shop.refresh_from_db()
    assert shop.status == ShopStatus.ACTIVE


def test_platform_shops_page_shows_status_and_exact_gmv(admin_client):
    shop = make_shop(name="数字小店")
    member = make_member()
    paid_order(member, make_sku(shop, price_fen=1234), 3, fulfilment="pickup")  # ¥37.02
    empty = admin_client.get("/platform/?status=suspended").content.decode()
    assert 'data-testid="empty"' in empty
    page = admin_client.get("/platform/").content.decode()
    assert "数字小店" in page
    assert "¥37.02" in page


def test_api_apply_status_approve_suspend_and_audit_search(platform_admin):
    applicant = make_member()
    headers = auth_headers(applicant)
    body = {"name": "API 小店", "slug": "api-shop", "category": "grocery", "business_subject": "company",
            "licence_number": COMPANY_CODE}  # fmt: skip
    created = Client().post("/api/v1/merchants/applications", body, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "pending"
    bad = Client().post(
        "/api/v1/merchants/applications",
        {**body, "slug": "api-shop-2"},
        content_type="application/json",
        headers=headers,
    )
    assert (bad.status_code, bad.json()["code"]) == (409, "application_pending")
    admin = auth_headers(platform_admin)
    application_id = created.json()["id"]
    approved = Client().post(f"/api/v1/merchants/platform/applications/{application_id}/approve", headers=admin)
    assert approved.json()["status"] == "approved"
    mine = Client().get("/api/v1/merchants/applications/mine", headers=headers).json()
    shop_id = mine["items"][0]["shop_id"]
    assert shop_id == Shop.objects.get(slug="api-shop").pk

    suspended = Client().post(
        f"/api/v1/merchants/platform/shops/{shop_id}/suspend",
        {"reason": "抽检不合格"},
        content_type="application/json",
        headers=admin,
    )
    assert suspended.json()["status"] == "suspended"
    found = (
        Client()
        .get(f"/api/v1/merchants/platform/audit?shop_id={shop_id}&actor=platform&action=shop.", headers=admin)
        .json()
    )
    assert [(item["action"], item["detail"]["reason"]) for item in found["items"]] == [("shop.suspend", "抽检不合格")]
    assert AuditLog.objects.filter(shop_id=shop_id).count() == 2  # approve + suspend
