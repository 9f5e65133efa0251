import pytest
from django.test import Client

from shequn.loyalty.enums import PointsAccountKind as K
from shequn.loyalty.models import LevelPrice, MemberCard
from shequn.testing.coupons import make_coupon_template
from shequn.testing.loyalty import balances, give_points
from shequn.testing.orders import auth_headers, make_sku, staff_client

pytestmark = pytest.mark.django_db


def test_a_member_opens_a_card_and_reads_it_and_its_points_through_the_api(shop, member, program):
    client, headers = Client(), auth_headers(member)
    missing = client.get(f"/api/v1/loyalty/cards/{shop.slug}", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "card_not_found")
    opened = client.post(
        f"/api/v1/loyalty/cards/{shop.slug}",
        {"birthday": "1990-03-08"},
        content_type="application/json",
        headers=headers,
    )
    assert opened.status_code == 201
    body = opened.json()
    assert body["number"] == MemberCard.objects.get(user=member).number
    assert (body["available_points"], body["pending_points"], body["birthday"]) == (0, 0, "1990-03-08")
    assert body["program"]["redeem_cap_percent"] == 20
    give_points(shop, member, 30)
    history = client.get(f"/api/v1/loyalty/cards/{shop.slug}/points", headers=headers).json()
    assert [item["points"] for item in history["items"]] == [30]


def test_the_operator_sets_rules_levels_prices_and_the_points_shop_through_the_api(shop, staff, member):
    sku = make_sku(shop, price_fen=3500)
    client, headers = Client(), auth_headers(staff, **{"X-Shop": shop.slug})
    rules = {"points_per_yuan": 2, "redeem_cap_percent": 30}
    saved = client.put("/api/v1/loyalty/console/program", rules, content_type="application/json", headers=headers)
    assert (saved.status_code, saved.json()["points_per_yuan"]) == (200, 2)
    level = client.post(
        "/api/v1/loyalty/console/levels",
        {"name": "银卡", "growth_fen": 10000, "free_shipping": True},
        content_type="application/json",
        headers=headers,
    )
    assert level.status_code == 201
    level_id = level.json()["id"]
    same = client.post(
        "/api/v1/loyalty/console/levels",
        {"name": "金卡", "growth_fen": 10000},
        content_type="application/json",
        headers=headers,
    )
    assert (same.status_code, same.json()["code"]) == (422, "loyalty_invalid")
    too_high = {"prices": [{"sku_id": sku.pk, "price_fen": 3500}]}
    refused = client.put(
        f"/api/v1/loyalty/console/levels/{level_id}/prices", too_high, content_type="application/json", headers=headers
    )
    assert refused.status_code == 422
    prices = {"prices": [{"sku_id": sku.pk, "price_fen": 3000}]}
    priced = client.put(
        f"/api/v1/loyalty/console/levels/{level_id}/prices", prices, content_type="application/json", headers=headers
    )
    assert priced.json() == {"count": 1}
    assert LevelPrice.objects.get(level_id=level_id).price_fen == 3000
    template = make_coupon_template(shop, staff, name="无门槛5元")
    item = client.post(
        "/api/v1/loyalty/console/shop-items",
        {"coupon_template_id": template.pk, "points": 500},
        content_type="application/json",
        headers=headers,
    ).json()
    # A member with a card and 800 points takes it.
    member_headers = auth_headers(member)
    Client().post(f"/api/v1/loyalty/cards/{shop.slug}", {}, content_type="application/json", headers=member_headers)
    give_points(shop, member, 800)
    listed = Client().get(f"/api/v1/loyalty/cards/{shop.slug}/shop", headers=member_headers).json()
    assert [(row["name"], row["points"]) for row in listed] == [("无门槛5元", 500)]
    taken = Client().post(f"/api/v1/loyalty/cards/{shop.slug}/shop/{item['id']}/exchange", headers=member_headers)
    assert (taken.status_code, taken.json()["available_points"]) == (201, 300)
    assert balances(shop, member)[K.AVAILABLE] == 300


def test_the_console_page_saves_rules_and_refuses_a_level_with_the_reason_by_its_field(shop, program):
    console = staff_client(shop, role="owner")
    assert console.get("/console/loyalty/").status_code == 200
    first = console.post("/console/loyalty/levels/new/", {"name": "普通会员", "growth": "0", "discount_percent": 100})
    assert first.status_code == 302
    again = console.post("/console/loyalty/levels/new/", {"name": "白银", "growth": "0", "discount_percent": 100})
    assert again.status_code == 422
    assert again.context["form"].errors["growth"] == ["已有等级使用这个成长值"]


def test_a_member_without_a_card_is_offered_one_with_the_published_rules(shop, member, program):
    browser = Client()
    browser.force_login(member)
    page = browser.get(f"/s/{shop.slug}/card/").content.decode()
    assert 'data-testid="open-card"' in page
    assert "每年获得的积分于次年 12 月 31 日过期" in page
    browser.post(f"/s/{shop.slug}/card/open/")
    page = browser.get(f"/s/{shop.slug}/card/").content.decode()
    assert 'data-testid="card-qr"' in page
    qr = browser.get(f"/s/{shop.slug}/card/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml"
