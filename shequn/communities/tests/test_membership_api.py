"""The membership API: discover, join state, applications, pay intent, my memberships, and the
console's settings, windows, join requests and expiry filter, with their declared errors."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from shequn.communities import actions, selectors
from shequn.communities.enums import JoinPolicy, JoinRequestStatus, MemberStatus
from shequn.communities.models import JoinRequest, RecruitmentWindow
from shequn.core.models import AuditLog
from shequn.testing.catalog import api_token_for
from shequn.testing.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/communities"
CONSOLE = f"{BASE}/console"
JSON = "application/json"


def client_for(user, **headers):
    return Client(headers={**api_token_for(user), **headers})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def console(operator, shop):
    return client_for(operator, **{"X-Shop": shop.slug})


def test_console_settings_round_trip_validation_and_audit(community, console):
    url = f"{CONSOLE}/communities/{community.pk}/membership"
    bad = console.put(url, {"fee_fen": 9900, "capacity": 0}, content_type=JSON)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_membership_settings"
    assert bad.json()["details"]["fields"] == {
        "validity_days": "付费社群需要填写会员有效期（天）",
        "capacity": "人数上限为 1 到 1000000（不限请留空）",
    }
    saved = console.put(
        url,
        {"join_policy": "approval", "fee_fen": 9900, "renewal_fee_fen": 6900, "validity_days": 365, "refund_days": 3},
        content_type=JSON,
    )
    assert saved.status_code == 200
    body = saved.json()
    community.refresh_from_db()
    assert (body["join_policy"], body["fee_fen"], body["renewal_fee_fen"], body["validity_days"]) == (
        "approval",
        9900,
        6900,
        365,
    )
    skus = selectors.fee_skus(community)
    assert (body["join_sku_id"], body["renewal_sku_id"]) == (skus["入会"].pk, skus["续费"].pk)
    assert console.get(url).json() == body
    assert AuditLog.objects.filter(action="community.membership_settings", shop=community.shop).count() == 1


@time_machine.travel(at("2026-12-01 09:00"), tick=False)
def test_windows_discover_state_and_pay_intent(community, operator, console, member, shop):
    console.put(
        f"{CONSOLE}/communities/{community.pk}/membership",
        {"fee_fen": 9900, "validity_days": 365, "refund_days": 3},
        content_type=JSON,
    )
    community.refresh_from_db()
    created = console.post(
        f"{CONSOLE}/communities/{community.pk}/windows",
        {"opens_at": "2027-01-01T10:00:00+08:00", "closes_at": "2027-01-31T22:00:00+08:00", "note": "年度招募"},
        content_type=JSON,
    )
    assert created.status_code == 201
    window_id = created.json()["id"]
    backwards = console.post(
        f"{CONSOLE}/communities/{community.pk}/windows",
        {"opens_at": "2027-03-01T10:00:00+08:00", "closes_at": "2027-02-01T10:00:00+08:00"},
        content_type=JSON,
    )
    assert (backwards.status_code, backwards.json()["code"]) == (422, "invalid_window")
    listed = Client().get(f"{BASE}/discover/{shop.slug}").json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert (item["fee_fen"], item["validity_days"], item["recruiting"], item["recruitment_text"]) == (
        9900,
        365,
        False,
        "下一次招募将于 2027年1月1日 10:00 开放",
    )
    assert item["invite_url"].endswith(f"/c/join/{community.invite_code}/")
    client = client_for(member)
    state = client.get(f"{BASE}/invites/{community.invite_code}/state").json()
    assert (state["state"], state["join_sku_id"]) == ("closed", selectors.fee_skus(community)["入会"].pk)
    refused = client.post(f"{BASE}/pay-intent", {"invite_code": community.invite_code}, content_type=JSON)
    assert (refused.status_code, refused.json()["code"]) == (409, "recruitment_closed")
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        inviter = MembershipFactory.create(community=community).user
        intent = client.post(
            f"{BASE}/pay-intent",
            {"invite_code": community.invite_code, "from_user_id": inviter.pk},
            content_type=JSON,
        )
        assert intent.status_code == 200
        sku_id = selectors.fee_skus(community)["入会"].pk
        assert intent.json()["sku_id"] == sku_id
        assert intent.json()["price_fen"] == 9900
        assert intent.json()["checkout_url"].endswith(f"/checkout/?sku={sku_id}&quantity=1")
        assert JoinRequest.objects.get(user=member).inviter == inviter
    assert console.delete(f"{CONSOLE}/windows/{window_id}").status_code == 204
    assert not RecruitmentWindow.objects.exists()


def test_apply_and_decide_through_the_api(community, operator, console, member):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.APPROVAL, fee_fen=0, actor=operator
    )
    client = client_for(member)
    applied = client.post(
        f"{BASE}/join-requests", {"invite_code": community.invite_code, "message": "你好"}, content_type=JSON
    )
    assert applied.status_code == 201
    request_id = applied.json()["id"]
    assert applied.json()["status"] == "pending"
    joined = client.post(f"{BASE}/join", {"invite_code": community.invite_code}, content_type=JSON)
    assert (joined.status_code, joined.json()["code"]) == (403, "approval_required")
    queue = console.get(f"{CONSOLE}/communities/{community.pk}/join-requests").json()
    assert [(r["id"], r["message"], r["phone"]) for r in queue["items"]] == [(request_id, "你好", "138****5678")]
    approved = console.post(f"{CONSOLE}/join-requests/{request_id}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == JoinRequestStatus.JOINED
    again = console.post(f"{CONSOLE}/join-requests/{request_id}/reject")
    assert (again.status_code, again.json()["code"]) == (409, "join_request_decided")
    mine = client.get(f"{BASE}/memberships/mine").json()
    assert [(m["community_id"], m["status"], m["is_current"], m["expires_at"]) for m in mine["items"]] == [
        (community.pk, "active", True, None)
    ]


def test_console_members_filter_by_expiry_and_my_memberships_show_renewal(community, operator, console):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.OPEN, fee_fen=9900, validity_days=365, actor=operator
    )
    now = datetime.now(UTC)
    soon = MembershipFactory.create(community=community, expires_at=now + timedelta(days=2))
    MembershipFactory.create(community=community, expires_at=now + timedelta(days=40))
    gone = MembershipFactory.create(community=community, status=MemberStatus.FORMER, expires_at=now - timedelta(days=1))
    url = f"{CONSOLE}/communities/{community.pk}/members"
    expiring = console.get(url + "?expiry=expiring&days=7").json()
    assert [m["user_id"] for m in expiring["items"]] == [soon.user_id]
    expired = console.get(url + "?expiry=expired").json()
    assert [m["user_id"] for m in expired["items"]] == [gone.user_id]
    mine = client_for(gone.user).get(f"{BASE}/memberships/mine").json()["items"]
    renewal = selectors.fee_skus(community)["续费"]
    assert [(m["status"], m["is_current"], m["renewal_sku_id"], m["renewal_price_fen"]) for m in mine] == [
        ("former", False, renewal.pk, 9900)
    ]


def test_staff_of_another_shop_get_404_and_members_of_nothing_see_nothing(community, operator, other_operator):
    actions.do_update_membership_settings(
        community.shop, community, join_policy=JoinPolicy.APPROVAL, fee_fen=0, actor=operator
    )
    request = actions.do_apply(community, UserFactory.create())
    window = actions.do_add_window(
        community.shop, community, at("2030-01-01 00:00"), at("2030-02-01 00:00"), actor=operator
    )
    client = client_for(other_operator)
    for url in (
        f"{CONSOLE}/communities/{community.pk}/membership",
        f"{CONSOLE}/communities/{community.pk}/windows",
        f"{CONSOLE}/communities/{community.pk}/join-requests",
    ):
        assert client.get(url).status_code == 404, url
    assert client.put(f"{CONSOLE}/communities/{community.pk}/membership", {}, content_type=JSON).status_code == 404
    assert client.post(f"{CONSOLE}/join-requests/{request.pk}/approve").status_code == 404
    assert client.delete(f"{CONSOLE}/windows/{window.pk}").status_code == 404
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.PENDING
    secret = CommunityFactory.create(shop=community.shop)
    actions.do_update_membership_settings(
        community.shop, secret, join_policy=JoinPolicy.INVITE_ONLY, fee_fen=0, actor=operator
    )
    listed = Client().get(f"{BASE}/discover/{community.shop.slug}").json()
    assert [c["id"] for c in listed["items"]] == [community.pk]


def test_every_membership_route_declares_its_errors():
    schema = Client().get("/api/v1/openapi.json").json()
    routes = {
        ("/api/v1/communities/discover/{shop_slug}", "get"): {404, 422},
        ("/api/v1/communities/invites/{invite_code}/state", "get"): {401, 403, 404, 422},
        ("/api/v1/communities/join-requests", "post"): {401, 403, 404, 409, 422},
        ("/api/v1/communities/pay-intent", "post"): {401, 403, 404, 409, 422},
        ("/api/v1/communities/memberships/mine", "get"): {401, 422},
        ("/api/v1/communities/console/communities/{community_id}/membership", "put"): {401, 403, 404, 422},
        ("/api/v1/communities/console/join-requests/{request_id}/approve", "post"): {401, 403, 404, 409},
        ("/api/v1/communities/console/windows/{window_id}", "delete"): {401, 403, 404},
    }
    for (path, method), statuses in routes.items():
        declared = {int(status) for status in schema["paths"][path][method]["responses"]}
        assert statuses <= declared, (path, method, declared)
