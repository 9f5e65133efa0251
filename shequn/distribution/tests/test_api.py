"""The distribution API: members apply and arrive through codes; operators work their own shop only."""

import pytest
from django.utils import timezone

from shequn.content.models import Article
from shequn.distribution.models import CommissionRule, Promoter, PromoterLevel
from shequn.testing.community import api_client
from shequn.testing.factories import CommunityFactory, UserFactory

from .helpers import approved_promoter

pytestmark = pytest.mark.django_db

BASE = "/api/v1/distribution"
JSON = "application/json"


def test_member_applies_and_the_operator_approves(shop, console_client):
    member = UserFactory.create(nickname="王小明")
    client = api_client(member)
    response = client.post(f"{BASE}/shops/{shop.slug}/promoter")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert client.post(f"{BASE}/shops/{shop.slug}/promoter").json()["code"] == "already_promoter"

    listed = console_client.get(f"{BASE}/console/promoters?status=pending").json()
    assert listed["count"] == 1
    assert listed["items"][0]["name"] == "王**"
    promoter_id = listed["items"][0]["id"]
    response = console_client.post(f"{BASE}/console/promoters/{promoter_id}/approve")
    assert (response.status_code, response.json()["status"]) == (200, "approved")
    assert client.get(f"{BASE}/shops/{shop.slug}/promoter").json()["status"] == "approved"


def test_anonymous_cannot_apply(shop, client):
    response = client.post(f"{BASE}/shops/{shop.slug}/promoter")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_visit_binds_and_refuses_self_referral(shop):
    promoter = approved_promoter(shop)
    visitor = UserFactory.create()
    response = api_client(visitor).post(f"{BASE}/visits", {"code": promoter.code, "target": "/s/x/"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["bound_promoter_code"] == promoter.code
    response = api_client(promoter.user).post(f"{BASE}/visits", {"code": promoter.code}, content_type=JSON)
    assert (response.status_code, response.json()["code"]) == (422, "self_referral")
    response = api_client(visitor).post(f"{BASE}/visits", {"code": "ZZZZZZZZ"}, content_type=JSON)
    assert (response.status_code, response.json()["code"]) == (404, "invalid_code")


def test_console_refuses_third_tier_join_fee_and_bonuses(shop, console_client):
    cases = [
        ("/console/settings", "put", {"tiers": 3}, "tier_limit"),
        ("/console/settings", "put", {"join_fee_fen": 9900}, "join_fee_forbidden"),
        ("/console/settings", "put", {"signup_bonus_fen": 500}, "recruitment_bonus_forbidden"),
        (
            "/console/rules",
            "post",
            {"scope": "shop", "kind": "percent", "tier1_value": 500, "tier3_value": 1},
            "tier_limit",
        ),
        (
            "/console/rules",
            "post",
            {"scope": "shop", "kind": "percent", "tier1_value": 500, "basis": "team_sales"},
            "team_bonus_forbidden",
        ),
    ]
    for path, method, body, code in cases:
        response = getattr(console_client, method)(f"{BASE}{path}", body, content_type=JSON)
        assert (response.status_code, response.json()["code"]) == (422, code), body
    assert console_client.get(f"{BASE}/console/settings").json()["tiers"] == 1
    assert CommissionRule.objects.count() == 0

    response = console_client.put(f"{BASE}/console/settings", {"tiers": 2}, content_type=JSON)
    assert (response.status_code, response.json()["tiers"]) == (200, 2)
    response = console_client.post(
        f"{BASE}/console/rules", {"scope": "shop", "kind": "percent", "tier1_value": 500}, content_type=JSON
    )
    assert response.status_code == 200
    assert [r["tier1_value"] for r in console_client.get(f"{BASE}/console/rules").json()] == [500]


def test_other_shops_staff_get_404(shop, other_console_client, console_client):
    promoter = approved_promoter(shop)
    rule = CommissionRule.objects.create(shop=shop, scope="shop", kind="percent", tier1_value=500)
    assert other_console_client.post(f"{BASE}/console/promoters/{promoter.pk}/approve").status_code == 404
    assert other_console_client.delete(f"{BASE}/console/rules/{rule.pk}").status_code == 404
    assert other_console_client.get(f"{BASE}/console/promoters").json()["count"] == 0
    assert CommissionRule.objects.filter(pk=rule.pk).exists()
    assert console_client.delete(f"{BASE}/console/rules/{rule.pk}").status_code == 204
    assert Promoter.objects.get(pk=promoter.pk).status == "approved"
    level = PromoterLevel.objects.create(shop=shop, name="银牌", min_sales_fen=100, extra_bp=100)
    assert other_console_client.delete(f"{BASE}/console/levels/{level.pk}").status_code == 404
    assert console_client.delete(f"{BASE}/console/levels/{level.pk}").status_code == 204
    assert console_client.get(f"{BASE}/console/levels").json() == []


def test_an_approved_promoter_gets_share_links_with_qr(shop):
    from shequn.testing.orders import make_sku

    on_shelf = make_sku(shop, title="三文鱼").product
    make_sku(shop, title="下架商品", on_shelf=False)
    community = CommunityFactory.create(shop=shop, name="三文鱼群", invite_code="salmon01")
    article = Article.objects.create(
        shop=shop, community=community, title="怎么挑三文鱼", status="published", published_at=timezone.now()
    )
    Article.objects.create(shop=shop, community=community, title="草稿")
    promoter = approved_promoter(shop)
    found = api_client(promoter.user).get(f"{BASE}/shops/{shop.slug}/promoter/links").json()
    assert [link["title"] for link in found] == ["店铺首页", "三文鱼", "社群海报 · 三文鱼群", "文章 · 怎么挑三文鱼"]
    assert found[2]["target"] == "/c/join/salmon01/"
    assert found[3]["target"] == f"/c/{community.pk}/articles/{article.pk}/"
    target = f"/s/{shop.slug}/p/{on_shelf.pk}/"
    assert found[1]["target"] == target
    assert found[1]["link"] == f"http://testserver/r/{promoter.code}/?to=%2Fs%2F{shop.slug}%2Fp%2F{on_shelf.pk}%2F"
    assert found[1]["qr"].startswith(f"http://testserver/promoter/qr/{promoter.code}.svg?to=")
    pending = UserFactory.create()
    api_client(pending).post(f"{BASE}/shops/{shop.slug}/promoter")
    response = api_client(pending).get(f"{BASE}/shops/{shop.slug}/promoter/links")
    assert (response.status_code, response.json()["code"]) == (404, "promoter_not_found")
