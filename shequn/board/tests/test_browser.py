"""In Chromium: a member posts a thread on the board, another member comments and likes it,
and the author finds the comment (and the inbox message about it); a reported thread is
hidden from the console's moderation queue and leaves the board."""

import os

import pytest

from shequn.board import actions
from shequn.board.models import BoardCategory, Thread
from shequn.notifications.models import Notification
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")  # a folder to keep screenshots in, for a look


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"board-{name}.png"), full_page=True)


def test_a_member_posts_a_thread_and_another_member_comments(signed_in_page):
    shop = ShopFactory.create(slug="zhangjiang", name="张江鲜鱼农场")
    community = CommunityFactory.create(shop=shop, name="张江邻里群", invite_code="zhangjiang-2026")
    for position, name in enumerate(["求职", "招聘", "知识分享", "问答"]):
        BoardCategory.objects.create(shop=shop, community=community, name=name, position=position)
    author = UserFactory.create(nickname="小王")
    commenter = UserFactory.create(nickname="老李")
    for user in (author, commenter):
        MembershipFactory.create(community=community, user=user)

    page = signed_in_page(author)
    page.goto(f"/c/{community.pk}/board/")
    page.get_by_test_id("empty-board").wait_for()
    page.get_by_test_id("new-thread").click()
    # Submitting without a title keeps what was typed and says what is missing.
    page.get_by_label("分类").select_option(label="问答")
    page.get_by_label("内容").fill("周末想带孩子去，有推荐的吗？")
    page.get_by_test_id("submit-thread").click()
    page.get_by_text("请填写标题").wait_for()
    assert page.get_by_label("内容").input_value() == "周末想带孩子去，有推荐的吗？"
    shot(page, "form-errors")
    page.get_by_label("标题").fill("张江附近哪里可以钓鱼")
    page.get_by_test_id("submit-thread").click()
    page.get_by_test_id("thread-body").wait_for()
    assert page.get_by_test_id("thread-title").inner_text() == "张江附近哪里可以钓鱼"
    thread = Thread.objects.select_related("category").get()
    assert thread.author == author
    assert thread.category is not None
    assert thread.category.name == "问答"

    other = signed_in_page(commenter)
    other.goto(f"/c/{community.pk}/board/")
    other.get_by_test_id("category-link").filter(has_text="问答").click()
    other.get_by_test_id("thread-title").filter(has_text="张江附近哪里可以钓鱼").click()
    other.get_by_test_id("comment-input").fill("川杨河边周末人不多")
    other.get_by_test_id("comment-submit").click()
    other.get_by_text("评论成功").wait_for()
    assert other.get_by_test_id("comment-body").inner_text() == "川杨河边周末人不多"
    other.get_by_test_id("like-button").click()
    other.get_by_text("已赞").wait_for()
    assert other.get_by_test_id("like-count").inner_text() == "1"
    shot(other, "thread")

    page.reload()
    assert page.get_by_test_id("comment-body").inner_text() == "川杨河边周末人不多"
    assert page.get_by_test_id("like-count").inner_text() == "1"
    note = Notification.objects.get(user=author)
    assert note.title == "老李 评论了你的帖子"
    # Search finds it from the board home.
    page.goto(f"/c/{community.pk}/board/")
    page.get_by_label("搜索帖子").fill("钓鱼")
    page.get_by_label("搜索帖子").press("Enter")
    page.wait_for_url("**q=*")
    assert page.get_by_test_id("thread").count() == 1
    shot(page, "search")


def test_a_reported_thread_is_hidden_from_the_console_queue(signed_in_page):
    shop = ShopFactory.create(slug="binjiang", name="滨江鲜鱼农场")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    community = CommunityFactory.create(shop=shop, name="滨江邻里群", invite_code="binjiang-board")
    spammer, reporter = UserFactory.create(nickname="广告号"), UserFactory.create(nickname="热心邻居")
    for user in (spammer, reporter):
        MembershipFactory.create(community=community, user=user)
    thread = actions.do_create_thread(
        spammer, community, category_id=None, title="加微信领红包", body="快来", is_promotional=True
    )

    member = signed_in_page(reporter)
    member.goto(f"/c/{community.pk}/board/t/{thread.pk}/")
    member.get_by_test_id("report-thread").locator("summary").click()
    member.get_by_test_id("report-reason").fill("广告刷屏")
    member.get_by_test_id("report-submit").click()
    member.get_by_text("已收到你的举报").wait_for()

    console = signed_in_page(operator, viewport={"width": 1280, "height": 900}, is_mobile=False)
    console.goto("/console/board/")
    assert console.get_by_test_id("open-report-count").inner_text() == "1"
    console.get_by_test_id("moderation-link").click()
    row = console.get_by_test_id("report-row")
    assert "广告刷屏" in row.inner_text()
    shot(console, "console-queue")
    row.get_by_test_id("report-hide").click()
    console.get_by_text("已隐藏被举报的内容").wait_for()
    console.get_by_test_id("empty-queue").wait_for()

    member.goto(f"/c/{community.pk}/board/")
    member.get_by_test_id("empty-board").wait_for()
    shot(member, "after-hide")
