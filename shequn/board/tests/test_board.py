"""The members' board through actions and pages: posting, the promotional limit, muting,
likes, comments with notifications, reports and moderation, search, members-only access."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shequn.board import actions, selectors
from shequn.board.enums import ReportStatus
from shequn.board.errors import BoardNotFound, MemberMuted, PromotionLimitReached
from shequn.board.models import BoardSettings, Thread, ThreadLike
from shequn.communities import actions as community_actions
from shequn.communities.enums import MemberRole, MemberStatus
from shequn.communities.models import CommunityMembership
from shequn.core.errors import RateLimited
from shequn.core.models import AuditLog
from shequn.notifications.models import Notification
from shequn.testing.factories import CommunityFactory, MembershipFactory, UserFactory

from .conftest import login

pytestmark = pytest.mark.django_db


def post(user, community, title="出一台二手冰箱", body="九成新，自提", category=None, promo=False):
    return actions.do_create_thread(
        user, community, category_id=category.pk if category else None, title=title, body=body, is_promotional=promo
    )


def board_url(community):
    return f"/c/{community.pk}/board/"


def thread_url(thread):
    return f"/c/{thread.community_id}/board/t/{thread.pk}/"


# --- muting ------------------------------------------------------------------------


def test_muted_member_cannot_post_or_comment(community, member, other_member, operator, categories):
    thread = post(other_member, community, category=categories["问答"])
    membership = CommunityMembership.objects.get(community=community, user=member)
    community_actions.do_mute(community, membership, timezone.now() + timedelta(days=1), actor=operator)

    with pytest.raises(MemberMuted):
        post(member, community, category=categories["问答"])
    with pytest.raises(MemberMuted):
        actions.do_comment(member, thread, "我也想要")

    client = login(member)
    page = client.get(f"/c/{community.pk}/board/new/")
    assert page.status_code == 200
    assert "你已被禁言" in page.content.decode()
    response = client.post(
        f"/c/{community.pk}/board/new/", {"category": categories["问答"].pk, "title": "标题", "body": "内容"}
    )
    assert response.status_code == 403
    assert "你已被禁言" in response.content.decode()
    response = client.post(thread_url(thread) + "comments/", {"body": "我也想要"})
    assert response.status_code == 403
    assert Thread.objects.filter(author=member).count() == 0
    assert thread.comments.count() == 0
    # Muted members still read the board.
    assert client.get(board_url(community)).status_code == 200
    assert client.get(thread_url(thread)).status_code == 200

    community_actions.do_unmute(community, membership, actor=operator)
    assert post(member, community, category=categories["问答"]).author == member


# --- the promotional limit ---------------------------------------------------------


def test_promotional_limit_refuses_the_next_promo_post_with_a_clear_message(community, member, categories):
    category = categories["招聘"]
    first = post(member, community, title="本店招聘店员", category=category, promo=True)
    assert first.is_promotional
    with pytest.raises(PromotionLimitReached) as refused:
        post(member, community, title="再发一条推广", category=category, promo=True)
    assert refused.value.message == "每位成员每天最多发 1 条推广帖，你今天的推广名额已用完，请明天再发"
    assert refused.value.status == 429
    # Ordinary threads are not limited.
    for n in range(3):
        post(member, community, title=f"普通帖 {n}", category=category)
    assert Thread.objects.filter(author=member, is_promotional=True).count() == 1
    assert Thread.objects.filter(author=member, is_promotional=False).count() == 3

    # The limit is per member and per community.
    other = UserFactory.create()
    MembershipFactory.create(community=community, user=other)
    assert post(other, community, category=category, promo=True).is_promotional
    second_community = CommunityFactory.create(shop=community.shop)
    MembershipFactory.create(community=second_community, user=member)
    assert post(member, second_community, promo=True).is_promotional


def test_promotional_limit_is_a_per_community_setting_and_resets_the_next_day(
    community, member, operator, categories, time_machine
):
    time_machine.move_to("2026-06-01 09:00:00+08:00", tick=False)
    actions.do_update_board_settings(community.shop, community, max_promotional_threads_per_day=2, actor=operator)
    assert BoardSettings.objects.get(community=community).max_promotional_threads_per_day == 2
    post(member, community, category=categories["招聘"], promo=True)
    post(member, community, category=categories["招聘"], promo=True)
    with pytest.raises(PromotionLimitReached, match="每天最多发 2 条推广帖"):
        post(member, community, category=categories["招聘"], promo=True)
    # A hidden promo thread still counts: hiding is not a way around the limit.
    thread = Thread.objects.filter(author=member).earliest("id")
    actions.do_set_thread_hidden(community.shop, thread, True, actor=operator)
    with pytest.raises(PromotionLimitReached):
        post(member, community, category=categories["招聘"], promo=True)
    # Just after midnight in Shanghai a new day starts.
    time_machine.move_to("2026-06-02 00:00:01+08:00", tick=False)
    assert post(member, community, category=categories["招聘"], promo=True).is_promotional
    assert AuditLog.objects.filter(action="board.settings_update", shop=community.shop).exists()


def test_new_thread_form_shows_the_limit_and_keeps_the_input(community, member, categories):
    post(member, community, category=categories["招聘"], promo=True)
    client = login(member)
    form = {"category": categories["招聘"].pk, "title": "第二条推广", "body": "欢迎来店", "is_promotional": "1"}
    response = client.post(f"/c/{community.pk}/board/new/", form)
    assert response.status_code == 429
    html = response.content.decode()
    assert "每位成员每天最多发 1 条推广帖" in html
    assert 'value="第二条推广"' in html
    assert "欢迎来店</textarea>" in html
    # Missing fields are named, and what was typed stays.
    response = client.post(f"/c/{community.pk}/board/new/", {"title": "", "body": "只有内容"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "请选择分类" in html
    assert "请填写标题" in html
    assert "只有内容</textarea>" in html
    # Without the checkbox the same thread goes through.
    response = client.post(f"/c/{community.pk}/board/new/", {**form, "is_promotional": ""})
    thread = Thread.objects.get(title="第二条推广")
    assert response.status_code == 302
    assert response["Location"] == thread_url(thread)
    assert not thread.is_promotional


def test_flood_guard_slows_a_member_posting_many_threads(community, member, other_member, time_machine):
    time_machine.move_to("2026-06-01 09:00:00+08:00", tick=False)
    for n in range(actions.THREADS_PER_WINDOW):
        post(member, community, title=f"帖子{n}")
    with pytest.raises(RateLimited):
        post(member, community, title="太多了")
    assert post(other_member, community, title="别人不受影响").author == other_member
    time_machine.move_to("2026-06-01 09:11:00+08:00", tick=False)
    assert post(member, community, title="过一会儿再发").author == member


# --- likes -------------------------------------------------------------------------


def test_likes_toggle_and_count_exactly_under_repeated_clicks(community, member, other_member):
    thread = post(member, community)
    for _ in range(5):  # odd number of taps: liked
        actions.do_toggle_like(other_member, thread)
    assert actions.do_set_like(other_member, thread, True) == (True, 1)  # liking again changes nothing
    actions.do_toggle_like(member, thread)
    thread.refresh_from_db()
    assert thread.like_count == 2 == ThreadLike.objects.filter(thread=thread).count()

    client = login(other_member)
    for _ in range(4):  # even number of taps on the page: back where it was
        assert client.post(thread_url(thread) + "like/").status_code == 302
    thread.refresh_from_db()
    assert thread.like_count == 2
    client.post(thread_url(thread) + "like/")
    thread.refresh_from_db()
    assert thread.like_count == 1 == ThreadLike.objects.filter(thread=thread).count()
    assert actions.do_set_like(other_member, thread, False) == (False, 1)  # unliking twice changes nothing
    page = login(member).get(thread_url(thread)).content.decode()
    assert 'data-testid="like-count">1<' in page
    assert "已赞" in page


# --- comments and notifications ------------------------------------------------------


def test_comment_notifies_the_author_but_not_for_own_comments(community, member, other_member):
    thread = post(member, community, title="求推荐张江的牙医")
    response = login(other_member).post(thread_url(thread) + "comments/", {"body": "张江路的那家不错"})
    assert response.status_code == 302
    note = Notification.objects.get(user=member)
    assert note.kind == "board.comment"
    assert note.title == "老李 评论了你的帖子"
    assert note.link == thread_url(thread)
    actions.do_comment(member, thread, "谢谢！")
    assert Notification.objects.filter(user=member).count() == 1
    assert not Notification.objects.filter(user=other_member).exists()
    thread.refresh_from_db()
    assert thread.comment_count == 2
    page = login(member).get(thread_url(thread)).content.decode()
    assert "张江路的那家不错" in page
    assert "谢谢！" in page


def test_an_empty_comment_is_refused_and_the_page_says_so(community, member):
    thread = post(member, community)
    response = login(member).post(thread_url(thread) + "comments/", {"body": "   "})
    assert response.status_code == 422
    assert "请填写评论内容" in response.content.decode()


def test_bodies_are_plain_text_escaped_on_output(community, member):
    thread = post(member, community, title="<b>标题</b>", body='<script>alert("x")</script>\n第二行')
    actions.do_comment(member, thread, "<img src=x onerror=alert(1)>")
    html = login(member).get(thread_url(thread)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html
    assert "<b>标题</b>" not in html
    assert "<script>alert" not in login(member).get(board_url(community)).content.decode()


# --- reports and moderation -----------------------------------------------------------


def test_a_report_reaches_the_queue_and_hiding_removes_the_thread(
    community, member, other_member, console_client, operator
):
    spam = post(other_member, community, title="加微信领红包", body="快来")
    client = login(member)
    response = client.post(thread_url(spam) + "report/", {"reason": "广告"})
    assert response.status_code == 302
    client.post(thread_url(spam) + "report/", {"reason": "广告"})  # a second tap files nothing new
    queue = console_client.get("/console/board/reports/")
    assert queue.status_code == 200
    html = queue.content.decode()
    assert html.count('data-testid="report-row"') == 1
    assert "加微信领红包" in html
    assert "广告" in html
    report = selectors.moderation_queue(community.shop).get()

    response = console_client.post(
        f"/console/board/reports/{report.pk}/", {"action": "hide"}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.resolved_by) == (ReportStatus.ACTIONED, operator)
    assert "加微信领红包" not in client.get(board_url(community)).content.decode()
    assert client.get(thread_url(spam)).status_code == 404
    entry = AuditLog.objects.get(action="board.thread_hide")
    assert (entry.actor, entry.shop, entry.ip, entry.object_id) == (
        operator,
        community.shop,
        "203.0.113.7",
        str(spam.pk),
    )
    assert 'data-testid="report-row"' not in console_client.get("/console/board/reports/").content.decode()

    # Restoring puts it back.
    console_client.post(f"/console/board/threads/{spam.pk}/hidden/", {"hidden": "0"})
    assert client.get(thread_url(spam)).status_code == 200
    assert AuditLog.objects.filter(action="board.thread_restore", actor=operator).exists()


def test_reported_comment_is_hidden_or_the_report_dismissed(community, member, other_member, console_client, operator):
    thread = post(member, community)
    rude = actions.do_comment(other_member, thread, "骂人的话")
    fine = actions.do_comment(other_member, thread, "正常评论")
    login(member).post(thread_url(thread) + "report/", {"reason": "辱骂", "comment_id": rude.pk})
    login(member).post(thread_url(thread) + "report/", {"reason": "看不惯", "comment_id": fine.pk})
    rude_report, fine_report = selectors.moderation_queue(community.shop)
    assert (rude_report.comment, fine_report.comment) == (rude, fine)

    console_client.post(f"/console/board/reports/{rude_report.pk}/", {"action": "hide"})
    console_client.post(f"/console/board/reports/{fine_report.pk}/", {"action": "dismiss"})
    thread.refresh_from_db()
    assert thread.comment_count == 1
    html = login(member).get(thread_url(thread)).content.decode()
    assert "骂人的话" not in html
    assert "正常评论" in html
    fine_report.refresh_from_db()
    assert fine_report.status == ReportStatus.DISMISSED
    assert {e.action for e in AuditLog.objects.filter(actor=operator)} >= {"board.comment_hide", "board.report_dismiss"}
    # Hiding twice does not count twice.
    actions.do_set_comment_hidden(community.shop, rude, True, actor=operator)
    thread.refresh_from_db()
    assert thread.comment_count == 1


def test_a_report_needs_a_reason(community, member):
    thread = post(member, community)
    response = login(member).post(thread_url(thread) + "report/", {"reason": " "}, follow=True)
    assert "请填写举报理由" in response.content.decode()
    assert not selectors.moderation_queue(community.shop).exists()


# --- pin, feature, categories ------------------------------------------------------------


def test_staff_pin_and_feature_and_pinned_threads_come_first(community, member, console_client, operator):
    older = post(member, community, title="旧帖")
    post(member, community, title="新帖")
    console_client.post(f"/console/board/threads/{older.pk}/flags/", {"is_pinned": "1"})
    console_client.post(f"/console/board/threads/{older.pk}/flags/", {"is_featured": "1"})
    older.refresh_from_db()
    assert older.is_pinned
    assert older.is_featured
    assert [t.title for t in selectors.board_threads(community)] == ["旧帖", "新帖"]
    html = login(member).get(board_url(community)).content.decode()
    assert html.index("旧帖") < html.index("新帖")
    assert html.count('data-testid="featured-badge"') == 1
    assert html.count('data-testid="pinned-badge"') == 1
    assert AuditLog.objects.filter(action="board.thread_flags", actor=operator).count() == 2
    detail = console_client.get(f"/console/board/threads/{older.pk}/").content.decode()
    assert "取消置顶" in detail
    assert "取消精华" in detail


def test_community_admins_pin_and_feature_but_members_cannot(community, member, other_member):
    thread = post(member, community)
    response = login(member).post(thread_url(thread) + "flags/", {"is_featured": "1"})
    assert response.status_code == 403
    CommunityMembership.objects.filter(community=community, user=other_member).update(role=MemberRole.ADMIN)
    assert 'data-testid="moderator-flags"' in login(other_member).get(thread_url(thread)).content.decode()
    login(other_member).post(thread_url(thread) + "flags/", {"is_featured": "1", "is_pinned": "1"})
    thread.refresh_from_db()
    assert thread.is_featured
    assert thread.is_pinned
    assert AuditLog.objects.filter(action="board.thread_flags", actor=other_member, shop=community.shop).exists()


def test_console_manages_categories_in_order(community, console_client, member):
    for name in ["问答", "求职"]:
        console_client.post(f"/console/board/communities/{community.pk}/categories/", {"name": name})
    response = console_client.post(
        f"/console/board/communities/{community.pk}/categories/", {"name": "问答"}, follow=True
    )
    assert "已有名为「问答」的分类" in response.content.decode()
    first, second = selectors.community_categories(community)
    assert [first.name, second.name] == ["问答", "求职"]
    console_client.post(f"/console/board/categories/{second.pk}/", {"name": "求职", "position": "0", "is_active": "1"})
    console_client.post(f"/console/board/categories/{first.pk}/", {"name": "问答", "position": "5", "is_active": "1"})
    assert [c.name for c in selectors.active_categories(community)] == ["求职", "问答"]
    console_client.post(f"/console/board/categories/{first.pk}/", {"name": "问答", "position": "5"})  # retire
    assert [c.name for c in selectors.active_categories(community)] == ["求职"]
    html = login(member).get(board_url(community)).content.decode()
    assert "求职" in html
    assert ">问答<" not in html
    assert AuditLog.objects.filter(action="board.category_create").count() == 2
    console = console_client.get(f"/console/board/communities/{community.pk}/").content.decode()
    assert console.count('data-testid="category-row"') == 2
    assert 'data-testid="promo-limit"' in console
    assert "张江三文鱼群" in console_client.get("/console/board/").content.decode()


# --- search ------------------------------------------------------------------------------


def test_search_by_title_or_body_and_category_filter(community, member, categories):
    post(member, community, title="招聘前端工程师", body="张江，五险一金", category=categories["招聘"])
    post(member, community, title="找工作", body="三年前端经验", category=categories["求职"])
    post(member, community, title="Python 入门分享", body="零基础", category=categories["知识分享"])
    client = login(member)

    def titles(query):
        html = client.get(board_url(community), query).content.decode()
        return [t for t in ["招聘前端工程师", "找工作", "Python 入门分享"] if t in html]

    assert titles({"q": "前端"}) == ["招聘前端工程师", "找工作"]  # title or body
    assert titles({"q": "python"}) == ["Python 入门分享"]  # case-insensitive
    assert titles({"category": categories["求职"].pk}) == ["找工作"]
    assert titles({"q": "前端", "category": categories["招聘"].pk}) == ["招聘前端工程师"]
    assert titles({"q": "没有这个词"}) == []
    Thread.objects.filter(title="找工作").update(is_featured=True)
    assert titles({"featured": "1"}) == ["找工作"]
    assert "没有找到相关帖子" in client.get(board_url(community), {"q": "没有这个词"}).content.decode()


def test_board_paginates(community, member):
    for n in range(25):
        Thread.objects.create(shop=community.shop, community=community, author=member, title=f"帖子{n:02d}", body="x")
    client = login(member)
    first = client.get(board_url(community)).content.decode()
    assert first.count('data-testid="thread"') == 20
    second = client.get(board_url(community), {"page": 2}).content.decode()
    assert second.count('data-testid="thread"') == 5
    assert "帖子00" in second


# --- members only, tenants -----------------------------------------------------------------


def test_non_members_get_404_on_the_board_and_its_threads(community, member, outsider, operator):
    thread = post(member, community)
    client = login(outsider)
    urls = [board_url(community), f"/c/{community.pk}/board/new/", thread_url(thread)]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for url in ["comments/", "like/", "report/", "flags/"]:
        assert client.post(thread_url(thread) + url, {"body": "x", "reason": "x"}).status_code == 404, url
    assert client.post(f"/c/{community.pk}/board/new/", {"title": "x", "body": "x"}).status_code == 404
    # Staff of the shop are not members either: the console is their way in.
    assert login(operator).get(board_url(community)).status_code == 404
    # Signed out: the sign-in page.
    assert Client().get(board_url(community)).status_code == 302
    # A removed member loses access too.
    CommunityMembership.objects.filter(user=member).update(status=MemberStatus.REMOVED)
    assert login(member).get(thread_url(thread)).status_code == 404
    with pytest.raises(BoardNotFound):
        post(member, community)
    assert not Thread.objects.exclude(pk=thread.pk).exists()


def test_staff_of_another_shop_see_nothing_in_the_console(community, member, other_member, other_console_client):
    thread = post(member, community)
    comment = actions.do_comment(other_member, thread, "评论")
    report = actions.do_report(member, thread, "广告")
    category = actions.do_create_category(community.shop, community, "问答", actor=None)
    reads = [
        f"/console/board/communities/{community.pk}/",
        f"/console/board/threads/{thread.pk}/",
    ]
    for url in reads:
        assert other_console_client.get(url).status_code == 404, url
    writes = [
        (f"/console/board/communities/{community.pk}/categories/", {"name": "外店分类"}),
        (f"/console/board/communities/{community.pk}/settings/", {"max_promotional_threads_per_day": "9"}),
        (f"/console/board/categories/{category.pk}/", {"name": "改名", "is_active": "1"}),
        (f"/console/board/threads/{thread.pk}/flags/", {"is_pinned": "1"}),
        (f"/console/board/threads/{thread.pk}/hidden/", {"hidden": "1"}),
        (f"/console/board/comments/{comment.pk}/hidden/", {"hidden": "1"}),
        (f"/console/board/reports/{report.pk}/", {"action": "hide"}),
    ]
    for url, data in writes:
        assert other_console_client.post(url, data).status_code == 404, url
    queue = other_console_client.get("/console/board/reports/").content.decode()
    assert 'data-testid="report-row"' not in queue
    assert "张江三文鱼群" not in other_console_client.get("/console/board/").content.decode()
    thread.refresh_from_db()
    comment.refresh_from_db()
    report.refresh_from_db()
    category.refresh_from_db()
    assert not (thread.is_pinned)
    assert not (thread.is_hidden)
    assert not comment.is_hidden
    assert report.status == ReportStatus.OPEN
    assert category.name == "问答"
    assert not BoardSettings.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="board.").exclude(action="board.category_create").exists()
