"""The leaders API: members apply and read their role and a leader's masked card; operators
work the queue; other shops' staff get 404 on every console endpoint."""

import pytest
from django.test import Client

from shequn.core.models import AuditLog
from shequn.leaders import actions
from shequn.leaders.models import Leader
from shequn.notifications.models import Notification
from shequn.shops.models import PickupPoint
from shequn.testing.accounts import bearer

from .conftest import POINT, api_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/leaders"
JSON = "application/json"


def body(shop, community, estate, **overrides):
    return {
        "shop": shop.slug,
        "community_id": community.pk,
        "sub_group_id": estate.pk,
        **POINT,
        "capacity_per_day": 80,
        "note": "楼下有店面",
        **overrides,
    }


def console(user, shop):
    return Client(headers={**bearer(user), "X-Shop": shop.slug})


def test_apply_approve_and_read_back(shop, operator, community, estate, member, neighbour):
    client = api_client(member)
    response = client.post(f"{BASE}/applications", body(shop, community, estate), content_type=JSON)
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["contact_phone"], created["sub_group_name"]) == (
        "applied",
        "13912345678",
        "阳光花园",
    )
    assert created["point"]["capacity_per_day"] == 80

    again = client.post(f"{BASE}/applications", body(shop, community, estate), content_type=JSON)
    assert again.status_code == 409
    assert again.json() == {"code": "leader_application_exists", "message": "你已提交过团长申请，请等待店铺审核"}

    staff = console(operator, shop)
    queue = staff.get(f"{BASE}/console/leaders?status=applied").json()
    assert (queue["count"], queue["items"][0]["id"]) == (1, created["id"])
    refused = staff.post(
        f"{BASE}/console/leaders/{created['id']}/approve", {"commission_rate_bp": 5001}, content_type=JSON
    )
    assert refused.status_code == 422
    assert refused.json()["message"] == "佣金比例需在 0% 到 50% 之间"
    approved = staff.post(
        f"{BASE}/console/leaders/{created['id']}/approve", {"commission_rate_bp": 1000}, content_type=JSON
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["commission_rate_bp"]) == ("active", 1000)
    point = PickupPoint.objects.get(pk=approved.json()["point"]["pickup_point_id"])
    assert (point.name, point.address) == (POINT["point_name"], POINT["point_address"])

    mine = client.get(f"{BASE}/me").json()
    assert (mine["count"], mine["items"][0]["status"], mine["items"][0]["contact_phone"]) == (
        1,
        "active",
        "13912345678",
    )

    card = api_client(neighbour).get(f"{BASE}/{created['id']}")
    assert card.status_code == 200
    assert (card.json()["contact_phone"], card.json()["leader_name"]) == ("139****5678", "王**")
    assert "13912345678" not in card.content.decode()


def test_non_members_cannot_apply(shop, community, estate, outsider):
    response = api_client(outsider).post(f"{BASE}/applications", body(shop, community, estate), content_type=JSON)
    assert response.status_code == 404
    assert response.json() == {"code": "not_a_member", "message": "仅本店社群的成员可以申请成为团长，请先加入社群"}
    assert Client().post(f"{BASE}/applications", body(shop, community, estate), content_type=JSON).status_code == 401
    assert Leader.objects.count() == 0


def test_validation_errors_name_each_field(shop, community, estate, member):
    response = api_client(member).post(
        f"{BASE}/applications",
        body(shop, community, estate, contact_phone="110", point_address=""),
        content_type=JSON,
    )
    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {
        "point_address": "请填写自提点地址",
        "contact_phone": "请输入正确的 11 位手机号",
    }


def test_reject_suspend_resume_and_update(shop, operator, community, estate, member):
    leader = actions.do_apply(member, shop, community_id=community.pk, sub_group_id=estate.pk, **POINT)
    staff = console(operator, shop)
    url = f"{BASE}/console/leaders/{leader.pk}"
    assert staff.post(f"{url}/reject", {"reason": ""}, content_type=JSON).json()["message"] == "请填写拒绝原因"
    rejected = staff.post(f"{url}/reject", {"reason": "地址不在小区内"}, content_type=JSON)
    assert (rejected.status_code, rejected.json()["status"], rejected.json()["decision_note"]) == (
        200,
        "rejected",
        "地址不在小区内",
    )
    assert Notification.objects.filter(user=member, kind="leaders.rejected").count() == 1
    reapplied = api_client(member).post(
        f"{BASE}/applications", body(shop, community, estate, point_name="小区南门"), content_type=JSON
    )
    assert (reapplied.status_code, reapplied.json()["id"], reapplied.json()["status"]) == (201, leader.pk, "applied")

    staff.post(f"{url}/approve", {"commission_rate_bp": 800}, content_type=JSON)
    suspended = staff.post(f"{url}/suspend", {"reason": "暂停整改"}, content_type=JSON)
    assert suspended.json()["status"] == "suspended"
    conflict = staff.post(f"{url}/suspend", {"reason": "暂停整改"}, content_type=JSON)
    assert (conflict.status_code, conflict.json()["code"]) == (409, "leader_invalid_transition")
    assert staff.post(f"{url}/resume").json()["status"] == "active"

    updated = staff.patch(url, {"commission_rate_bp": 1500, "capacity_per_day": None}, content_type=JSON)
    assert updated.status_code == 200
    assert (updated.json()["commission_rate_bp"], updated.json()["point"]["capacity_per_day"]) == (1500, None)
    too_much = staff.patch(url, {"commission_rate_bp": 6000}, content_type=JSON)
    assert (too_much.status_code, too_much.json()["code"]) == (422, "invalid_commission_rate")
    renamed = staff.patch(url, {"point_name": "小区南门驿站"}, content_type=JSON).json()
    assert PickupPoint.objects.get(pk=renamed["point"]["pickup_point_id"]).name == "小区南门驿站"
    assert [log.action for log in AuditLog.objects.order_by("id")] == [
        "leaders.reject",
        "leaders.approve",
        "leaders.suspend",
        "leaders.resume",
        "leaders.update",
        "leaders.update",
    ]


def test_other_shops_staff_get_404_on_every_console_endpoint(
    shop, other_shop, other_operator, community, estate, member
):
    leader = actions.do_apply(member, shop, community_id=community.pk, sub_group_id=estate.pk, **POINT)
    staff = console(other_operator, other_shop)
    url = f"{BASE}/console/leaders/{leader.pk}"
    calls = [
        staff.get(url),
        staff.post(f"{url}/approve", {"commission_rate_bp": 1000}, content_type=JSON),
        staff.post(f"{url}/reject", {"reason": "不行"}, content_type=JSON),
        staff.post(f"{url}/suspend", {"reason": "不行"}, content_type=JSON),
        staff.post(f"{url}/resume"),
        staff.patch(url, {"point_name": "别家"}, content_type=JSON),
    ]
    assert [(r.status_code, r.json()["code"]) for r in calls] == [(404, "leader_not_found")] * 6
    assert staff.get(f"{BASE}/console/leaders").json()["count"] == 0
    # naming the other shop in the header does not help either
    sneaky = console(other_operator, shop)
    assert (sneaky.get(url).status_code, sneaky.get(url).json()["code"]) == (404, "shop_not_found")
    leader.refresh_from_db()
    assert (leader.status, leader.point_name) == ("applied", POINT["point_name"])
    assert AuditLog.objects.count() == 0


def test_non_members_get_404_for_a_leader_card(shop, operator, community, estate, member, outsider):
    leader = actions.do_apply(member, shop, community_id=community.pk, sub_group_id=estate.pk, **POINT)
    actions.do_approve(shop, leader, commission_rate_bp=1000, actor=operator)
    response = api_client(outsider).get(f"{BASE}/{leader.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "leader_not_found")
