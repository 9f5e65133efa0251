"""Coupon API and pages: the claim centre, my coupons, the console (create with clear refusals,
figures, issue), and shop B's staff seeing none of shop A's coupons."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shequn.communities.models import Tag
from shequn.coupons import actions
from shequn.coupons.models import CouponTemplate, MemberCoupon
from shequn.testing.factories import CommunityFactory, MembershipFactory
from shequn.testing.orders import auth_headers, make_member, make_shop, staff_client

pytestmark = pytest.mark.django_db

API = "/api/v1/coupons"


def template_body(**fields):
    now = timezone.now()
    return {
        "name": "满100减20",
        "kind": "threshold",
        "threshold_fen": 10000,
        "amount_fen": 2000,
        "total_quantity": 50,
        "valid_from": (now - timedelta(hours=1)).isoformat(),
        "valid_until": (now + timedelta(days=3)).isoformat(),
    } | fields


def post_json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_member_claims_in_the_centre_and_finds_it_in_my_coupons(make_template, member, client):
    template = make_template(total_quantity=1)
    centre = client.get(f"{API}/centre").json()
    assert [(item["id"], item["face"], item["left"]) for item in centre["items"]] == [
        (template.pk, "满¥100.00减¥20.00", 1)
    ]
    claimed = post_json(client, f"{API}/{template.pk}/claim", {}, **auth_headers(member))
    assert claimed.status_code == 201
    again = post_json(client, f"{API}/{template.pk}/claim", {}, **auth_headers(member))
    assert (again.status_code, again.json()["code"]) == (409, "coupon_sold_out")
    mine = client.get(f"{API}/mine", headers=auth_headers(member)).json()
    assert [item["id"] for item in mine["items"]] == [claimed.json()["id"]]
    assert client.get(f"{API}/mine?tab=used", headers=auth_headers(member)).json()["items"] == []


def test_console_api_creates_refuses_sharing_and_unknown_conditions(shop):
    console = staff_client(shop)
    created = post_json(console, f"{API}/console/templates", template_body())
    assert created.status_code == 201, created.content
    assert (created.json()["issued"], created.json()["face"]) == (0, "满¥100.00减¥20.00")
    sharing = post_json(console, f"{API}/console/templates", template_body(name="转发朋友圈立减"))
    assert sharing.status_code == 422
    assert sharing.json()["code"] == "coupon_invalid"
    assert "微信规则禁止诱导分享" in sharing.json()["message"]
    # No field can make sharing or inviting a condition, and an unknown one is refused, not ignored.
    smuggled = post_json(console, f"{API}/console/templates", template_body(condition="share_to_moments"))
    assert smuggled.status_code == 422
    assert smuggled.json()["code"] == "invalid_input"
    assert CouponTemplate.objects.count() == 1


def test_console_issues_to_a_tag_through_the_api(shop):
    community = CommunityFactory.create(shop=shop)
    tag = Tag.objects.create(community=community, name="老客户")
    for _ in range(2):
        MembershipFactory.create(community=community).tags.add(tag)
    console = staff_client(shop)
    template_id = post_json(console, f"{API}/console/templates", template_body()).json()["id"]
    issued = post_json(console, f"{API}/console/templates/{template_id}/issue", {"tag_id": tag.pk})
    assert issued.json() == {"issued": 2, "skipped": 0}
    figures = console.get(f"{API}/console/templates/{template_id}").json()
    assert (figures["issued"], figures["used"], figures["cost_fen"]) == (2, 0, 0)


def test_other_shops_staff_see_none_of_its_coupons(shop, make_template):
    template = make_template()
    other = staff_client(make_shop())
    assert other.get(f"{API}/console/templates/{template.pk}").status_code == 404
    assert (
        other.put(
            f"{API}/console/templates/{template.pk}", json.dumps(template_body()), content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        post_json(other, f"{API}/console/templates/{template.pk}/issue", {"phones": ["13800000000"]}).status_code == 404
    )
    for url in (f"/console/coupons/{template.pk}/", f"/console/coupons/{template.pk}/edit/"):
        assert other.get(url).status_code == 404
    assert other.post(f"/console/coupons/{template.pk}/issue/", {"phones": "13800000000"}).status_code == 404
    assert other.get(f"{API}/console/templates").json()["items"] == []


def test_pages_claim_centre_and_my_coupons(make_template, member):
    template = make_template(name="周末券")
    browser = Client()
    browser.force_login(member)
    page = browser.get("/coupons/").content.decode()
    assert "周末券" in page
    assert "满¥100.00减¥20.00" in page
    assert "不与会员价同享" in page
    browser.post(f"/coupons/{template.pk}/claim/")
    assert 'data-testid="claimed"' in browser.get("/coupons/").content.decode()
    mine = browser.get("/coupons/mine/").content.decode()
    assert 'data-testid="my-coupon"' in mine
    assert "周末券" in mine


def test_console_pages_create_refuse_sharing_and_freeze_rules(shop, member):
    console = staff_client(shop)
    now = timezone.now()
    form = {
        "name": "邀请好友领券",
        "kind": "threshold",
        "threshold": "100",
        "amount": "20",
        "scope": "shop",
        "validity": "fixed",
        "valid_from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "total_quantity": "10",
        "per_person_limit": "1",
        "claimable": "on",
        "is_active": "on",
    }
    refused = console.post("/console/coupons/new/", form)
    assert refused.status_code == 200
    assert "微信规则禁止诱导分享" in refused.content.decode()
    created = console.post("/console/coupons/new/", form | {"name": "周末满减"})
    assert created.status_code == 302
    template = CouponTemplate.objects.get()
    assert (template.threshold_fen, template.amount_fen) == (10000, 2000)
    actions.claim(member, template.pk)
    edit_page = console.get(f"/console/coupons/{template.pk}/edit/").content.decode()
    assert 'data-testid="frozen-note"' in edit_page
    assert 'name="amount" value="20.00" inputmode="decimal" disabled' in edit_page
    # A frozen field sent anyway changes nothing; the name still may.
    saved = console.post(f"/console/coupons/{template.pk}/edit/", form | {"name": "周末大促", "amount": "30"})
    assert saved.status_code == 302, re.findall(r'data-testid="(error-[a-z_]*)"', saved.content.decode())
    template.refresh_from_db()
    assert (template.name, template.amount_fen) == ("周末大促", 2000)
    listing = console.get("/console/coupons/").content.decode()
    assert "周末大促" in listing
    assert MemberCoupon.objects.count() == 1


def test_a_community_only_coupon_is_greyed_with_the_reason_for_a_non_member_and_claimable_for_a_member(
    shop, make_template
):
    """The claim centre shows a community-only coupon to everyone, as a shop would, but only its
    community's members get the claim button; others read why, in the words of the claim's refusal."""
    community = CommunityFactory.create(shop=shop, name="三文鱼爱好者群")
    make_template(name="群友专享券", community_id=community.pk)
    insider, outsider = make_member(nickname="群友"), make_member(nickname="路人")
    MembershipFactory.create(community=community, user=insider)
    reason = "仅限「三文鱼爱好者群」社群成员领取"

    pages = {}
    for user in (insider, outsider):
        browser = Client()
        browser.force_login(user)
        pages[user] = browser
    insider_page = pages[insider].get("/coupons/").content.decode()
    outsider_page = pages[outsider].get("/coupons/").content.decode()
    assert 'data-testid="claim"' in insider_page
    assert 'data-testid="members-only"' not in insider_page
    assert 'data-testid="claim"' not in outsider_page
    assert re.search(r'data-testid="members-only">仅限「三文鱼爱好者群」社群成员领取<', outsider_page)

    insider_api = pages[insider].get(f"{API}/centre").json()["items"]
    outsider_api = pages[outsider].get(f"{API}/centre").json()["items"]
    anonymous_api = Client().get(f"{API}/centre").json()["items"]
    assert [item["refusal"] for item in insider_api] == [None]
    assert [item["refusal"] for item in outsider_api] == [reason]
    assert [item["refusal"] for item in anonymous_api] == [reason]

    # The claim itself says the same words, and the member's claim goes through.
    refused = pages[outsider].post(f"{API}/{insider_api[0]['id']}/claim", "{}", content_type="application/json")
    assert (refused.status_code, refused.json()["message"]) == (403, reason)
    claimed = pages[insider].post(f"{API}/{insider_api[0]['id']}/claim", "{}", content_type="application/json")
    assert claimed.status_code == 201
