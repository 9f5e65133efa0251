"""The board API: members-only reads and writes, the promotional limit, likes, reports and
the operator endpoints, scoped to the caller's shop."""

import pytest
from django.test import Client

from shequn.board import actions
from shequn.board.enums import ReportStatus
from shequn.board.models import Thread
from shequn.communities import actions as community_actions
from shequn.communities.models import CommunityMembership
from shequn.core.models import AuditLog

from .conftest import api_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/board"
JSON = "application/json"


def threads_url(community):
    return f"{BASE}/communities/{community.pk}/threads"


def test_member_posts_reads_comments_and_likes(community, member, other_member, categories):
    client = api_client(member)
    assert [c["name"] for c in client.get(f"{BASE}/communities/{community.pk}/categories").json()["items"]] == [
        "求职",
        "招聘",
        "知识分享",
        "问答",
    ]
    response = client.post(
        threads_url(community),
        {"category_id": categories["问答"].pk, "title": "<b>张江哪里停车方便</b>", "body": "周末去"},
        content_type=JSON,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["title"] == "<b>张江哪里停车方便</b>"  # plain text, stored as typed
    assert created["category_name"] == "问答"
    url = f"{threads_url(community)}/{created['id']}"

    other = api_client(other_member)
    response = other.post(f"{url}/comments", {"body": "地下车库"}, content_type=JSON)
    assert response.status_code == 201
    comments = other.get(f"{url}/comments").json()
    assert (comments["count"], comments["items"][0]["body"]) == (1, "地下车库")

    for _ in range(3):
        toggled = other.post(f"{url}/like/toggle").json()
    assert toggled == {"liked": True, "like_count": 1}
    assert other.put(f"{url}/like", {"liked": True}, content_type=JSON).json() == {"liked": True, "like_count": 1}
    assert client.put(f"{url}/like", {"liked": True}, content_type=JSON).json() == {"liked": True, "like_count": 2}
    assert other.put(f"{url}/like", {"liked": False}, content_type=JSON).json() == {"liked": False, "like_count": 1}
    detail = client.get(url).json()
    assert (detail["like_count"], detail["comment_count"], detail["liked"]) == (1, 1, True)


def test_missing_fields_are_named(community, member, categories):
    response = api_client(member).post(threads_url(community), {"title": "", "body": ""}, content_type=JSON)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_thread"
    assert body["details"]["fields"] == {"category": "请选择分类", "title": "请填写标题", "body": "请填写内容"}


def test_promotional_limit_over_the_api(community, member, categories, operator):
    client = api_client(member)
    thread = {"category_id": categories["招聘"].pk, "title": "招聘", "body": "店员", "is_promotional": True}
    assert client.post(threads_url(community), thread, content_type=JSON).status_code == 201
    refused = client.post(threads_url(community), thread, content_type=JSON)
    assert refused.status_code == 429
    assert refused.json()["code"] == "promotion_limit_reached"
    assert refused.json()["message"] == "每位成员每天最多发 1 条推广帖，你今天的推广名额已用完，请明天再发"
    assert refused.json()["details"]["limit"] == 1
    assert (
        client.post(threads_url(community), {**thread, "is_promotional": False}, content_type=JSON).status_code == 201
    )

    staff = api_client(operator)
    settings_url = f"{BASE}/console/communities/{community.pk}/settings"
    assert staff.get(settings_url).json()["max_promotional_threads_per_day"] == 1
    assert staff.put(settings_url, {"max_promotional_threads_per_day": 2}, content_type=JSON).status_code == 200
    assert client.post(threads_url(community), thread, content_type=JSON).status_code == 201
    assert client.post(threads_url(community), thread, content_type=JSON).status_code == 429
    bad = staff.put(settings_url, {"max_promotional_threads_per_day": -1}, content_type=JSON)
    assert bad.status_code == 422


def test_muted_member_gets_403_over_the_api(community, member, other_member, operator, categories):
    from datetime import timedelta

    from django.utils import timezone

    thread = actions.do_create_thread(other_member, community, category_id=categories["问答"].pk, title="t", body="b")
    membership = CommunityMembership.objects.get(community=community, user=member)
    community_actions.do_mute(community, membership, timezone.now() + timedelta(hours=2), actor=operator)
    client = api_client(member)
    response = client.post(
        threads_url(community), {"category_id": categories["问答"].pk, "title": "t", "body": "b"}, content_type=JSON
    )
    assert (response.status_code, response.json()["code"]) == (403, "member_muted")
    response = client.post(f"{threads_url(community)}/{thread.pk}/comments", {"body": "x"}, content_type=JSON)
    assert (response.status_code, response.json()["code"]) == (403, "member_muted")
    assert client.get(threads_url(community)).status_code == 200  # reading is fine


def test_search_category_filter_and_pages(community, member, categories):
    for n in range(3):
        actions.do_create_thread(
            member, community, category_id=categories["招聘"].pk, title=f"招聘厨师{n}", body="五险一金"
        )
    actions.do_create_thread(member, community, category_id=categories["求职"].pk, title="求职", body="会做川菜的厨师")
    client = api_client(member)
    found = client.get(threads_url(community), {"q": "厨师", "page_size": "2"}).json()
    assert (found["count"], len(found["items"])) == (4, 2)
    assert client.get(threads_url(community), {"q": "川菜"}).json()["items"][0]["title"] == "求职"
    hiring = client.get(threads_url(community), {"category_id": str(categories["招聘"].pk)}).json()
    assert {t["category_name"] for t in hiring["items"]} == {"招聘"}
    assert hiring["count"] == 3
    Thread.objects.filter(title="求职").update(is_featured=True)
    featured = client.get(threads_url(community), {"featured": "true"}).json()
    assert [t["title"] for t in featured["items"]] == ["求职"]
    last = client.get(threads_url(community), {"q": "厨师", "page_size": "2", "page": "2"}).json()
    assert [t["title"] for t in last["items"]] == ["招聘厨师1", "招聘厨师0"]


def test_report_reaches_the_console_queue_and_hiding_removes_the_thread(community, member, other_member, operator):
    thread = actions.do_create_thread(other_member, community, category_id=None, title="广告", body="加我")
    client = api_client(member)
    url = f"{threads_url(community)}/{thread.pk}"
    response = client.post(f"{url}/reports", {"reason": "广告刷屏"}, content_type=JSON)
    assert (response.status_code, response.json()["status"]) == (201, "open")

    staff = api_client(operator)
    queue = staff.get(f"{BASE}/console/reports").json()
    assert queue["count"] == 1
    report = queue["items"][0]
    assert (report["thread_title"], report["reason"], report["reporter_name"]) == ("广告", "广告刷屏", "小王")
    moderated = staff.post(f"{BASE}/console/reports/{report['id']}/moderate", {"action": "hide"}, content_type=JSON)
    assert moderated.json()["status"] == ReportStatus.ACTIONED
    assert client.get(url).status_code == 404
    assert client.get(threads_url(community)).json()["count"] == 0
    assert staff.get(f"{BASE}/console/reports").json()["count"] == 0
    assert staff.get(f"{BASE}/console/reports", {"status": "actioned"}).json()["count"] == 1
    assert staff.get(f"{BASE}/console/threads/{thread.pk}").json()["is_hidden"] is True
    assert AuditLog.objects.filter(action="board.thread_hide", actor=operator, shop=community.shop).exists()
    restored = staff.put(f"{BASE}/console/threads/{thread.pk}/hidden", {"hidden": False}, content_type=JSON)
    assert restored.json()["is_hidden"] is False
    assert client.get(url).status_code == 200
    bad = staff.post(f"{BASE}/console/reports/{report['id']}/moderate", {"action": "nuke"}, content_type=JSON)
    assert bad.status_code == 422


def test_console_categories_flags_and_comments(community, member, other_member, operator):
    staff = api_client(operator)
    created = staff.post(
        f"{BASE}/console/communities/{community.pk}/categories", {"name": "问答"}, content_type=JSON
    ).json()
    renamed = staff.put(
        f"{BASE}/console/categories/{created['id']}", {"name": "问与答", "position": 3}, content_type=JSON
    ).json()
    assert (renamed["name"], renamed["position"]) == ("问与答", 3)
    assert [c["name"] for c in staff.get(f"{BASE}/console/communities/{community.pk}/categories").json()["items"]] == [
        "问与答"
    ]
    thread = actions.do_create_thread(member, community, category_id=created["id"], title="t", body="b")
    flags = staff.put(f"{BASE}/console/threads/{thread.pk}/flags", {"is_featured": True}, content_type=JSON).json()
    assert (flags["is_featured"], flags["is_pinned"]) == (True, False)
    comment = actions.do_comment(other_member, thread, "评论")
    hidden = staff.put(f"{BASE}/console/comments/{comment.pk}/hidden", {"hidden": True}, content_type=JSON).json()
    assert hidden["is_hidden"] is True
    listed = staff.get(f"{BASE}/console/threads/{thread.pk}/comments").json()
    assert [c["is_hidden"] for c in listed["items"]] == [True]
    assert api_client(member).get(f"{threads_url(community)}/{thread.pk}/comments").json()["count"] == 0
    assert staff.get(f"{BASE}/console/communities/{community.pk}/threads").json()["count"] == 1


def test_community_admins_set_flags_members_get_403(community, member, other_member):
    thread = actions.do_create_thread(member, community, category_id=None, title="t", body="b")
    url = f"{threads_url(community)}/{thread.pk}/flags"
    assert api_client(member).put(url, {"is_pinned": True}, content_type=JSON).status_code == 403
    CommunityMembership.objects.filter(user=other_member).update(role="admin")
    assert api_client(other_member).put(url, {"is_pinned": True}, content_type=JSON).json()["is_pinned"] is True


def test_non_members_get_404_and_signed_out_401(community, member, outsider, operator):
    thread = actions.do_create_thread(member, community, category_id=None, title="t", body="b")
    url = f"{threads_url(community)}/{thread.pk}"
    for client in (api_client(outsider), api_client(operator)):
        for path in [f"{BASE}/communities/{community.pk}/categories", threads_url(community), url, f"{url}/comments"]:
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.json()["code"] == "board_not_found"
        assert client.post(threads_url(community), {"title": "t", "body": "b"}, content_type=JSON).status_code == 404
        assert client.post(f"{url}/comments", {"body": "x"}, content_type=JSON).status_code == 404
        assert client.post(f"{url}/like/toggle").status_code == 404
        assert client.post(f"{url}/reports", {"reason": "x"}, content_type=JSON).status_code == 404
    assert Client().get(threads_url(community)).status_code == 401
    assert Thread.objects.count() == 1


def test_staff_of_another_shop_get_404_in_the_console_api(community, member, other_member, other_operator):
    thread = actions.do_create_thread(member, community, category_id=None, title="t", body="b")
    comment = actions.do_comment(other_member, thread, "c")
    report = actions.do_report(member, thread, "r")
    category = actions.do_create_category(community.shop, community, "问答", actor=None)
    other = api_client(other_operator)
    console = f"{BASE}/console"
    for path in [
        f"{console}/communities/{community.pk}/categories",
        f"{console}/communities/{community.pk}/settings",
        f"{console}/communities/{community.pk}/threads",
        f"{console}/threads/{thread.pk}",
        f"{console}/threads/{thread.pk}/comments",
    ]:
        assert other.get(path).status_code == 404, path
    writes = [
        ("post", f"{console}/communities/{community.pk}/categories", {"name": "x"}),
        ("put", f"{console}/categories/{category.pk}", {"name": "x"}),
        ("put", f"{console}/communities/{community.pk}/settings", {"max_promotional_threads_per_day": 5}),
        ("put", f"{console}/threads/{thread.pk}/flags", {"is_pinned": True}),
        ("put", f"{console}/threads/{thread.pk}/hidden", {"hidden": True}),
        ("put", f"{console}/comments/{comment.pk}/hidden", {"hidden": True}),
        ("post", f"{console}/reports/{report.pk}/moderate", {"action": "hide"}),
    ]
    for method, path, body in writes:
        assert getattr(other, method)(path, body, content_type=JSON).status_code == 404, path
    assert other.get(f"{console}/reports").json()["count"] == 0
    thread.refresh_from_db()
    comment.refresh_from_db()
    report.refresh_from_db()
    assert not thread.is_pinned
    assert not thread.is_hidden
    assert not comment.is_hidden
    assert report.status == ReportStatus.OPEN
