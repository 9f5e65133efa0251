"""The API: members read a campaign and its live list, sign up, change and cancel; leaders see
their point's sign-ups and create their own campaign; operators create, publish and cancel;
foreign shops and outsiders get 404."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shequn.communities.models import Post
from shequn.groupbuy.models import Campaign
from shequn.orders.actions import mark_paid
from shequn.orders.models import Order
from shequn.testing.factories import UserFactory
from shequn.testing.orders import auth_headers

pytestmark = pytest.mark.django_db

BASE = "/api/v1/groupbuy"


def client_for(user, **extra) -> Client:
    return Client(headers=auth_headers(user, **extra))


def campaign_body(world, **overrides):
    now = timezone.now()
    body = {
        "title": "周末三文鱼接龙",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "deadline": (now + timedelta(hours=3)).isoformat(),
        "pickup_date": (timezone.localtime(now) + timedelta(days=1)).date().isoformat(),
        "min_total_units": 2,
        "items": [
            {
                "sku_id": world.salmon.pk,
                "price_fen": 5900,
                "stock_limit": 20,
                "per_person_cap": 3,
                "tiers": [{"min_quantity": 10, "price_fen": 5500}],
            }
        ],
        "leader_ids": [world.leader_east.pk, world.leader_west.pk],
    }
    body.update(overrides)
    return body


def test_operator_creates_publishes_and_members_sign_up_through_the_api(world):
    console = client_for(world.operator, **{"X-Shop": world.shop.slug})
    created = console.post(f"{BASE}/console/campaigns", campaign_body(world), content_type="application/json")
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.json()["items"][0]["shelf_price_fen"] == 6900
    assert created.json()["leader_ids"] == sorted([world.leader_east.pk, world.leader_west.pk])

    member = client_for(world.members["王小明"])
    assert member.get(f"{BASE}/campaigns/{campaign_id}").status_code == 404  # drafts are invisible
    published = console.post(f"{BASE}/console/campaigns/{campaign_id}/publish")
    assert published.json()["status"] == "open"
    assert Post.objects.filter(community=world.community).count() == 1

    page = member.get(f"{BASE}/campaigns/{campaign_id}").json()
    item_id = page["items"][0]["id"]
    assert (page["items"][0]["price_fen"], page["items"][0]["left"]) == (5900, 20)
    signed = member.post(
        f"{BASE}/campaigns/{campaign_id}/sign-ups",
        {"quantities": [{"item_id": item_id, "quantity": 2}]},
        content_type="application/json",
    )
    # The gate answers at once: queued (排队中); the ticket then shows the sign-up and its order.
    assert signed.status_code == 202, signed.content
    ticket = signed.json()
    assert (ticket["state"], ticket["state_label"], ticket["sign_up"], ticket["refused"]) == (
        "queued",
        "排队中",
        None,
        [],
    )
    polled = member.get(f"{BASE}/sign-up-tickets/{ticket['ticket']}").json()
    assert (polled["state"], polled["state_label"]) == ("signed_up", "已接龙")
    entry = polled["sign_up"]
    assert (entry["status"], entry["order_total_fen"]) == ("pending_payment", 11800)
    assert entry["leader_id"] == world.leader_east.pk
    assert client_for(world.members["李阿姨"]).get(f"{BASE}/sign-up-tickets/{ticket['ticket']}").status_code == 404
    assert member.get(f"{BASE}/campaigns/{campaign_id}/list").json() == []
    mark_paid(Order.objects.get(number=entry["order_number"]))
    assert member.get(f"{BASE}/campaigns/{campaign_id}/list").json() == [
        {"sequence": 1, "name": "王**", "text": "×2 三文鱼 500g", "line": "1. 王** ×2 三文鱼 500g"}
    ]
    too_many = member.post(
        f"{BASE}/campaigns/{campaign_id}/sign-ups",
        {"quantities": [{"item_id": item_id, "quantity": 2}]},
        content_type="application/json",
    )
    assert too_many.status_code == 409
    assert too_many.json() == {
        "code": "campaign_cap_exceeded",
        "message": "「三文鱼 500g」每人限购 3 件，你已接龙 2 件",
        "details": {"item_id": item_id, "cap": 3},
    }
    mine = member.get(f"{BASE}/sign-ups").json()
    assert [(m["status"], m["sequence"]) for m in mine] == [("confirmed", 1)]

    # The east leader sees the sign-up at their point; the west leader's list is empty.
    east = client_for(world.leader_east.user)
    west = client_for(world.leader_west.user)
    assert [e["line"] for e in east.get(f"{BASE}/leader/campaigns/{campaign_id}/sign-ups").json()] == [
        "1. 王** ×2 三文鱼 500g"
    ]
    assert west.get(f"{BASE}/leader/campaigns/{campaign_id}/sign-ups").json() == []

    listing = console.get(f"{BASE}/console/campaigns").json()
    assert [(c["id"], c["confirmed_sign_ups"]) for c in listing["items"]] == [(campaign_id, 1)]
    assert listing["success_rate_percent"] is None


def test_validation_and_declared_errors(world):
    console = client_for(world.operator, **{"X-Shop": world.shop.slug})
    past = campaign_body(world, deadline=(timezone.now() - timedelta(minutes=1)).isoformat())
    past["starts_at"] = (timezone.now() - timedelta(hours=1)).isoformat()
    response = console.post(f"{BASE}/console/campaigns", past, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "campaign_invalid"
    assert response.json()["message"] == "截止时间必须在将来"
    nobody = console.post(
        f"{BASE}/console/campaigns", campaign_body(world, leader_ids=[]), content_type="application/json"
    )
    assert nobody.json()["message"] == "请至少选择一位团长"


def test_foreign_shops_and_outsiders_get_404(world, other_operator, other_shop):
    campaign = world.open_campaign()
    other = client_for(other_operator, **{"X-Shop": other_shop.slug})
    assert other.get(f"{BASE}/console/campaigns/{campaign.pk}").status_code == 404
    assert (
        other.post(f"{BASE}/console/campaigns/{campaign.pk}/cancel", {}, content_type="application/json").status_code
        == 404
    )
    outsider = client_for(UserFactory.create())
    assert outsider.get(f"{BASE}/campaigns/{campaign.pk}").status_code == 404
    assert outsider.get(f"{BASE}/campaigns/{campaign.pk}/list").status_code == 404
    assert outsider.get(f"{BASE}/leader/campaigns").status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == "open"


def test_leader_creates_a_campaign_for_their_own_point(world):
    east = client_for(world.leader_east.user)
    body = campaign_body(world)
    body.pop("leader_ids")
    created = east.post(f"{BASE}/leader/campaigns", body, content_type="application/json")
    assert created.status_code == 201, created.content
    campaign = Campaign.objects.get(pk=created.json()["id"])
    assert (campaign.status, campaign.created_by_leader_id) == ("open", world.leader_east.pk)
    assert list(campaign.leaders.all()) == [world.leader_east]
    # Members of the west sub-group (same community) sign up with the east leader: the only one.
    member = client_for(world.members["李阿姨"])
    signed = member.post(
        f"{BASE}/campaigns/{campaign.pk}/sign-ups",
        {"quantities": [{"item_id": campaign.items.get().pk, "quantity": 1}]},
        content_type="application/json",
    )
    ticket = signed.json()["ticket"]
    assert member.get(f"{BASE}/sign-up-tickets/{ticket}").json()["sign_up"]["leader_id"] == world.leader_east.pk


def test_anonymous_callers_are_asked_to_sign_in(world):
    campaign = world.open_campaign()
    anonymous = Client()
    assert anonymous.get(f"{BASE}/leader/campaigns").status_code == 401
    assert anonymous.get(f"{BASE}/sign-ups").status_code == 401
    signed = anonymous.post(
        f"{BASE}/campaigns/{campaign.pk}/sign-ups",
        {"quantities": [{"item_id": campaign.items.get().pk, "quantity": 1}]},
        content_type="application/json",
    )
    assert signed.status_code == 401
    assert anonymous.get(f"{BASE}/campaigns/{campaign.pk}").status_code == 401


def test_drafts_are_edited_and_published_campaigns_are_not(world):
    console = client_for(world.operator, **{"X-Shop": world.shop.slug})
    created = console.post(f"{BASE}/console/campaigns", campaign_body(world), content_type="application/json").json()
    edited = console.put(
        f"{BASE}/console/campaigns/{created['id']}",
        campaign_body(world, title="改名后的接龙", leader_ids=[world.leader_west.pk]),
        content_type="application/json",
    )
    assert (edited.json()["title"], edited.json()["leader_ids"]) == ("改名后的接龙", [world.leader_west.pk])
    console.post(f"{BASE}/console/campaigns/{created['id']}/publish")
    again = console.put(
        f"{BASE}/console/campaigns/{created['id']}", campaign_body(world), content_type="application/json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "campaign_not_draft"
    assert Campaign.objects.get(pk=created["id"]).title == "改名后的接龙"
