"""The packages and gifts API: members' packages (history, redeem, refund), operators' packages,
counter redemption and liabilities, and another shop's staff seeing nothing (404)."""

import pytest

from shequn.catalog.models import Sku
from shequn.testing.community import api_client
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_shop, make_staff

from .conftest import JSON, PRICE, buy

pytestmark = pytest.mark.django_db


def test_a_member_redeems_and_refunds_through_the_api(sandbox, commit, plan, member):
    listed = api_client(member).get(f"/api/v1/packages/plans?shop={plan.shop.slug}").json()["items"]
    assert [(p["title"], p["portions"], p["price_fen"], p["refund_rule"]) for p in listed] == [
        ("小龙虾 100 份套餐", 100, PRICE, "pro_rata")
    ]
    assert listed[0]["sku_id"] == Sku.objects.get(product=plan.product).pk
    package = buy(member, plan, commit)
    client = api_client(member)
    redeemed = client.post(
        f"/api/v1/packages/mine/{package.pk}/redeem",
        {"portions": 3, "fulfilment": "delivery", "address_id": member.addresses.first().pk},
        content_type=JSON,
    )
    assert redeemed.status_code == 201, redeemed.content
    assert redeemed.json()["portions_left"] == 97
    short = client.post(
        f"/api/v1/packages/mine/{package.pk}/redeem",
        {"portions": 98, "fulfilment": "delivery", "address_id": member.addresses.first().pk},
        content_type=JSON,
    )
    assert (short.status_code, short.json()["code"]) == (409, "package_portions_short")
    detail = client.get(f"/api/v1/packages/mine/{package.pk}").json()
    assert [(e["kind"], e["portions"]) for e in detail["entries"]] == [("redeemed", -3), ("bought", 100)]
    assert detail["entries"][0]["order_number"] == redeemed.json()["order_number"]
    with commit():
        refunded = client.post(f"/api/v1/packages/mine/{package.pk}/refund")
    assert refunded.status_code == 200
    assert (refunded.json()["status"], refunded.json()["portions_left"]) == ("refunded", 0)
    again = client.post(f"/api/v1/packages/mine/{package.pk}/refund")
    assert (again.status_code, again.json()["code"]) == (409, "package_not_refundable")
    assert api_client(make_member()).get(f"/api/v1/packages/mine/{package.pk}").status_code == 404


def test_operators_sell_redeem_at_the_counter_and_read_liabilities(sandbox, commit, shop, operator, crayfish, member):
    created = api_client(operator).post(
        "/api/v1/packages/console/plans",
        {"title": "小龙虾 10 份", "item_sku_id": crayfish.pk, "portions": 10, "price_fen": 70000,
         "validity_days": 180, "stock": 5, "shipping_included": False},
        content_type=JSON,
    )  # fmt: skip
    assert created.status_code == 201, created.content
    plan_id = created.json()["id"]
    from shequn.packages.models import PackagePlan

    package = buy(member, PackagePlan.objects.get(pk=plan_id), commit)
    point = PickupPointFactory.create(shop=shop)
    staff = api_client(operator)
    at_counter = staff.post(
        f"/api/v1/packages/console/held/{package.pk}/redeem",
        {"portions": 4, "fulfilment": "pickup", "pickup_point_id": point.pk},
        content_type=JSON,
    )
    assert at_counter.status_code == 201, at_counter.content
    held = staff.get(f"/api/v1/packages/console/held/{package.pk}").json()
    assert (held["portions_left"], held["entries"][0]["channel"]) == (6, "counter")
    assert "****" in held["owner_phone"]
    report = staff.get("/api/v1/packages/console/liabilities").json()
    assert report["total"] == {"plan_id": 0, "title": "合计", "holders": 1, "portions_left": 6, "value_left_fen": 42000}
    stranger = api_client(make_staff(make_shop()))
    assert stranger.get(f"/api/v1/packages/console/held/{package.pk}").status_code == 404
    assert stranger.get("/api/v1/packages/console/liabilities").json()["total"]["portions_left"] == 0


def test_gifts_through_the_api(sandbox, commit, plan, member):
    from .conftest import pay

    sku_id = Sku.objects.get(product=plan.product).pk
    bought = api_client(member).post(
        "/api/v1/gifts", {"sku_id": sku_id, "payment_method": "sandbox"}, content_type=JSON
    )
    assert bought.status_code == 201, bought.content
    gift = bought.json()
    pay(member, gift["order_number"], commit)
    shown = api_client(make_member()).get(f"/api/v1/gifts/claim/{gift['token']}").json()
    assert (shown["status"], shown["title"]) == ("open", "小龙虾 100 份套餐")
    friend = make_member()
    claimed = api_client(friend).post(f"/api/v1/gifts/claim/{gift['token']}")
    assert claimed.status_code == 200
    mine = api_client(friend).get(f"/api/v1/packages/mine/{claimed.json()['subject_id']}").json()
    assert (mine["status"], mine["portions_left"]) == ("active", 100)
    sent = api_client(member).get("/api/v1/gifts/sent").json()["items"]
    assert [g["status"] for g in sent] == ["claimed"]
    twice = api_client(make_member()).post(f"/api/v1/gifts/claim/{gift['token']}")
    assert (twice.status_code, twice.json()["code"]) == (409, "gift_not_claimable")
