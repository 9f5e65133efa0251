"""Issue 3 isolation across every community app: content, board, courses, events, figures.

Shop A runs a paid community with a post, an article, a board thread, a members-only course
and an event. Non-members, members whose membership has expired, and staff of shop B get 404
for every one of them (pages and API; a foreign id looks exactly like a missing one), and
nothing of shop A changes. An active member of A reads them all (the same URLs answer 200),
so the 404s are about who asks, not about broken URLs.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shequn.accounts.actions import do_issue_token
from shequn.board.models import Thread
from shequn.communities import actions as community_actions
from shequn.communities.models import CommunityMembership
from shequn.content.actions import ArticleInput, do_create_article
from shequn.courses.actions import CourseInput, LessonInput, do_create_course, do_create_lesson
from shequn.courses.models import Course
from shequn.events.actions import EventInput, do_create_event, do_publish_event
from shequn.events.models import Event
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, PostFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_a():
    shop = ShopFactory.create(slug="shop-a")
    owner = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    community = CommunityFactory.create(shop=shop, name="会员俱乐部")
    community_actions.do_update_membership_settings(
        shop, community, join_policy="open", fee_fen=9900, validity_days=365, refund_days=3, actor=owner
    )
    member = UserFactory.create()
    CommunityMembership.objects.create(community=community, user=member, expires_at=timezone.now() + timedelta(days=30))
    expired = UserFactory.create()
    CommunityMembership.objects.create(community=community, user=expired, expires_at=timezone.now() - timedelta(days=1))
    post = PostFactory.create(community=community, author=owner, body="会员专享：今日三文鱼")
    article = do_create_article(
        shop, community, ArticleInput(title="会员专享文章", body="<p>秘方</p>", status="published"), actor=owner
    )
    thread = Thread.objects.create(shop=shop, community=community, author=member, title="会员专享帖", body="…")
    course = do_create_course(
        shop, CourseInput(community_id=community.pk, title="会员专享课", status="published"), actor=owner
    )
    lesson = do_create_lesson(shop, course, LessonInput(title="第一课", body="<p>开课</p>"), actor=owner)
    starts = timezone.now() + timedelta(days=7)
    event = do_create_event(
        shop,
        community,
        EventInput(
            title="会员品鉴日", venue="农场", starts_at=starts, ends_at=starts + timedelta(hours=3), capacity=20
        ),
        actor=owner,
    )
    do_publish_event(shop, event, actor=owner)
    return {"shop": shop, "owner": owner, "community": community, "member": member, "expired": expired,
            "post": post, "article": article, "thread": thread, "course": course, "lesson": lesson,
            "event": event}  # fmt: skip


def _member_urls(a) -> list[str]:
    c = a["community"].pk
    return [
        f"/c/{c}/posts/{a['post'].pk}/",
        f"/c/{c}/articles/",
        f"/c/{c}/articles/{a['article'].pk}/",
        f"/c/{c}/board/",
        f"/c/{c}/board/t/{a['thread'].pk}/",
        f"/c/{c}/courses/",
        f"/c/{c}/courses/{a['course'].pk}/",
        f"/c/{c}/events/",
        f"/c/{c}/events/{a['event'].pk}/",
        f"/api/v1/communities/{c}/posts",
        f"/api/v1/communities/{c}/posts/{a['post'].pk}",
        f"/api/v1/content/communities/{c}/articles",
        f"/api/v1/content/communities/{c}/articles/{a['article'].pk}",
        f"/api/v1/board/communities/{c}/threads",
        f"/api/v1/board/communities/{c}/threads/{a['thread'].pk}",
        f"/api/v1/courses/communities/{c}/courses",
        f"/api/v1/courses/communities/{c}/courses/{a['course'].pk}",
        f"/api/v1/events/communities/{c}/events",
        f"/api/v1/events/communities/{c}/events/{a['event'].pk}",
    ]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {do_issue_token(user, name='test').token}"})


def _get(user, url: str) -> int:
    return (_api(user) if url.startswith("/api/") else _client(user)).get(url).status_code


def test_an_active_member_reads_everything(shop_a):
    for url in _member_urls(shop_a):
        assert _get(shop_a["member"], url) == 200, url


@pytest.mark.parametrize("who", ["stranger", "expired", "other_shop_owner"])
def test_everyone_else_gets_404_for_members_only_content(shop_a, who):
    users = {
        "stranger": UserFactory.create(),
        "expired": shop_a["expired"],
        "other_shop_owner": StaffFactory.create(shop=ShopFactory.create(slug="shop-b"), role=StaffRole.OWNER).user,
    }
    for url in _member_urls(shop_a):
        assert _get(users[who], url) == 404, url


def test_staff_of_another_shop_see_nothing_in_the_console_or_operator_api(shop_a):
    a = shop_a
    staff_b = StaffFactory.create(shop=ShopFactory.create(slug="shop-b"), role=StaffRole.OWNER).user
    c = a["community"].pk
    pages = [
        f"/console/communities/{c}/members/",
        f"/console/communities/{c}/membership/",
        f"/console/communities/{c}/join-requests/",
        f"/console/communities/{c}/figures/",
        f"/console/content/communities/{c}/",
        f"/console/content/articles/{a['article'].pk}/",
        f"/console/board/communities/{c}/",
        f"/console/board/threads/{a['thread'].pk}/",
        f"/console/courses/{a['course'].pk}/",
        f"/console/courses/{a['course'].pk}/enrolments/",
        f"/console/courses/lessons/{a['lesson'].pk}/",
        f"/console/events/{a['event'].pk}/",
        f"/console/events/{a['event'].pk}/checkin/",
    ]
    for url in pages:
        assert _client(staff_b).get(url).status_code == 404, url
    api = [
        f"/api/v1/content/console/articles/{a['article'].pk}",
        f"/api/v1/board/console/threads/{a['thread'].pk}",
        f"/api/v1/courses/console/courses/{a['course'].pk}",
        f"/api/v1/courses/console/courses/{a['course'].pk}/enrolments",
        f"/api/v1/events/console/events/{a['event'].pk}",
        f"/api/v1/events/console/events/{a['event'].pk}/attendees",
        f"/api/v1/analytics/communities/{c}/figures",
    ]
    for url in api:
        assert _api(staff_b).get(url).status_code == 404, url
    writes = [
        (f"/api/v1/board/console/threads/{a['thread'].pk}/hidden", {"hidden": True}, "put"),
        (f"/api/v1/events/console/events/{a['event'].pk}/cancel", {"reason": "x"}, "post"),
        (f"/api/v1/courses/console/courses/{a['course'].pk}", {"community_id": c, "title": "被改了"}, "put"),
    ]
    for url, body, method in writes:
        response = getattr(_api(staff_b), method)(url, body, content_type="application/json")
        assert response.status_code == 404, (url, response.status_code, response.content[:200])
    # Nothing of shop A changed.
    assert Thread.objects.get(pk=a["thread"].pk).is_hidden is False
    assert Event.objects.get(pk=a["event"].pk).status == "published"
    assert Course.objects.get(pk=a["course"].pk).title == "会员专享课"
    # Their own lists show none of A's things.
    listing = _client(staff_b).get("/console/events/").content.decode()
    assert "会员品鉴日" not in listing
    assert "会员专享课" not in _client(staff_b).get("/console/courses/").content.decode()
