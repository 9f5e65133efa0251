"""Member pages (apply, the leader console shell, a leader's pickup point) and the console's
leader management pages, including other shops' staff getting 404 on each of them."""

import pytest
from django.test import Client
from django.urls import reverse

from shequn.core.models import AuditLog
from shequn.leaders import actions
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.notifications.models import Notification
from shequn.shops.models import PickupPoint

from .conftest import POINT, login

pytestmark = pytest.mark.django_db


def form(community, estate, **overrides):
    return {"community": community.pk, "sub_group": estate.pk, **POINT, "note": "我家楼下就是便利店", **overrides}


def applied(shop, community, estate, member):
    return actions.do_apply(member, shop, community_id=community.pk, sub_group_id=estate.pk, **POINT)


def test_member_applies_on_the_page_and_sees_the_status(shop, community, estate, member):
    client = login(member)
    url = reverse("leaders:apply", args=[shop.slug])
    assert url == f"/leader/apply/{shop.slug}/"
    page = client.get(f"{url}?community={community.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<option value="{community.pk}" selected>张江三文鱼群</option>' in html
    assert "阳光花园" in html

    bad = client.post(url, form(community, estate, contact_phone="12", point_name=""))
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "请填写自提点名称" in text
    assert "请输入正确的 11 位手机号" in text
    assert POINT["point_address"] in text  # what was typed is kept
    assert Leader.objects.count() == 0

    done = client.post(url, form(community, estate))
    assert done.status_code == 302
    assert done["Location"] == reverse("leaders:home")
    leader = Leader.objects.get()
    assert (leader.status, leader.application_note, leader.sub_group_id) == ("applied", "我家楼下就是便利店", estate.pk)

    home = client.get(reverse("leaders:home")).content.decode()
    assert "申请已提交，店铺审核后会通知你" in home
    assert 'data-status="applied"' in home
    assert "待审核" in home
    again = client.get(url).content.decode()
    assert "你已提交团长申请" in again
    assert 'data-testid="apply-form"' not in again


def test_non_members_get_404_with_a_message_and_anonymous_sign_in_first(shop, community, outsider):
    url = reverse("leaders:apply", args=[shop.slug])
    response = login(outsider).get(url)
    assert response.status_code == 404
    assert "仅本店社群的成员可以申请成为团长，请先加入社群" in response.content.decode()
    assert login(outsider).post(url, {"point_name": "x"}).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]
    assert Client().get(reverse("leaders:home")).status_code == 302


def test_leader_home_shows_status_point_commission_and_links(shop, operator, community, estate, member):
    leader = applied(shop, community, estate, member)
    actions.do_approve(shop, leader, commission_rate_bp=850, actor=operator)
    html = login(member).get("/leader/").content.decode()
    assert 'data-status="active"' in html
    assert "在职" in html
    assert f'<dd data-testid="point-name">{POINT["point_name"]}</dd>' in html
    assert '<dd data-testid="commission-rate">8.5%</dd>' in html
    assert "13912345678" in html  # the leader sees their own number
    assert reverse("leaders:point", args=[leader.pk]) in html


def test_rejected_member_sees_the_reason_and_reapplies_with_the_form_prefilled(
    shop, operator, community, estate, member
):
    leader = applied(shop, community, estate, member)
    actions.do_reject(shop, leader, reason="地址不在小区内", actor=operator)
    client = login(member)
    assert "未通过原因：地址不在小区内" in client.get("/leader/").content.decode()
    page = client.get(reverse("leaders:apply", args=[shop.slug])).content.decode()
    assert "上次申请未通过：地址不在小区内" in page
    assert f'value="{POINT["point_name"]}"' in page
    client.post(reverse("leaders:apply", args=[shop.slug]), form(community, estate, point_name="小区北门"))
    leader.refresh_from_db()
    assert (leader.status, leader.point_name) == (LeaderStatus.APPLIED, "小区北门")


def test_members_see_the_leaders_phone_masked(shop, operator, community, estate, member, neighbour, outsider):
    leader = applied(shop, community, estate, member)
    actions.do_approve(shop, leader, commission_rate_bp=1000, actor=operator)
    url = reverse("leaders:point", args=[leader.pk])
    html = login(neighbour).get(url).content.decode()
    assert '<dd data-testid="point-phone">139****5678</dd>' in html
    assert "13912345678" not in html
    assert "团长 王**" in html
    assert '<dd data-testid="point-phone">13912345678</dd>' in login(member).get(url).content.decode()
    assert login(outsider).get(url).status_code == 404


def test_operator_approves_from_the_queue(shop, operator, console_client, community, estate, member):
    leader = applied(shop, community, estate, member)
    queue = console_client.get(reverse("leaders:console_leaders")).content.decode()
    assert '<strong data-testid="pending-count">1</strong>' in queue
    assert f'data-leader-id="{leader.pk}"' in queue
    detail = console_client.get(reverse("leaders:console_leader", args=[leader.pk])).content.decode()
    assert 'data-testid="approve-form"' in detail

    over = console_client.post(reverse("leaders:console_approve", args=[leader.pk]), {"commission_percent": "55"})
    assert over.status_code == 302
    follow = console_client.get(over["Location"]).content.decode()
    assert "佣金比例需在 0% 到 50% 之间" in follow
    leader.refresh_from_db()
    assert leader.status == LeaderStatus.APPLIED

    console_client.post(reverse("leaders:console_approve", args=[leader.pk]), {"commission_percent": "7.5"})
    leader.refresh_from_db()
    assert (leader.status, leader.commission_rate_bp) == (LeaderStatus.ACTIVE, 750)
    assert PickupPoint.objects.get(pk=leader.pickup_point_id).name == POINT["point_name"]

    console_client.post(
        reverse("leaders:console_update", args=[leader.pk]),
        {
            "point_name": "阳光花园驿站",
            "point_address": POINT["point_address"],
            "opening_hours": "",
            "contact_phone": "13912345678",
            "latitude": "",
            "longitude": "",
            "capacity_per_day": "120",
            "commission_percent": "9",
        },
    )
    leader.refresh_from_db()
    point = PickupPoint.objects.get(pk=leader.pickup_point_id)
    assert (leader.capacity_per_day, leader.commission_rate_bp, leader.latitude) == (120, 900, None)
    assert (point.name, point.opening_hours) == ("阳光花园驿站", "")

    console_client.post(reverse("leaders:console_suspend", args=[leader.pk]), {"reason": "暂停整改"})
    leader.refresh_from_db()
    assert leader.status == LeaderStatus.SUSPENDED
    console_client.post(reverse("leaders:console_resume", args=[leader.pk]))
    leader.refresh_from_db()
    assert leader.status == LeaderStatus.ACTIVE
    assert AuditLog.objects.filter(shop=shop, action__startswith="leaders.").count() == 4
    assert Notification.objects.filter(user=member, kind__startswith="leaders.").count() == 4


def test_operator_rejects_with_a_reason(shop, console_client, community, estate, member):
    leader = applied(shop, community, estate, member)
    console_client.post(reverse("leaders:console_reject", args=[leader.pk]), {"reason": "小区已有团长"})
    leader.refresh_from_db()
    assert (leader.status, leader.decision_note) == (LeaderStatus.REJECTED, "小区已有团长")
    assert Notification.objects.get(user=member, kind="leaders.rejected").body.startswith("原因：小区已有团长")
    rejected = console_client.get(reverse("leaders:console_leaders") + "?status=rejected").content.decode()
    assert f'data-leader-id="{leader.pk}"' in rejected


def test_other_shops_staff_get_404_on_every_console_page(shop, other_console_client, community, estate, member):
    leader = applied(shop, community, estate, member)
    assert (
        f'data-leader-id="{leader.pk}"'
        not in other_console_client.get(reverse("leaders:console_leaders") + "?status=all").content.decode()
    )
    responses = [other_console_client.get(reverse("leaders:console_leader", args=[leader.pk]))]
    for name, data in (
        ("console_approve", {"commission_percent": "10"}),
        ("console_reject", {"reason": "不行"}),
        ("console_suspend", {"reason": "不行"}),
        ("console_resume", {}),
        ("console_update", {"point_name": "别家"}),
    ):
        responses.append(other_console_client.post(reverse(f"leaders:{name}", args=[leader.pk]), data))
    assert [r.status_code for r in responses] == [404] * 6
    assert "团长不存在" in responses[0].content.decode()
    leader.refresh_from_db()
    assert (leader.status, leader.point_name) == (LeaderStatus.APPLIED, POINT["point_name"])
    assert AuditLog.objects.count() == 0
