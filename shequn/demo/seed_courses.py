"""Courses for the demo: a free members-only reading course (3 lessons, one a day) with two
members part-way through, and a paid 训练营 with its first cohort on sale, made through the
courses actions (audit rows, the catalog product and seat counters moved by the actions).

Skipped when the community already has these courses, so a second seed changes nothing.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from shequn.accounts.models import User
from shequn.communities.enums import MemberStatus
from shequn.communities.models import Community, CommunityMembership
from shequn.courses import actions
from shequn.courses.enums import CourseAccess, CourseStatus, LessonKind
from shequn.courses.models import Course
from shequn.shops.models import Shop

SHANGHAI = ZoneInfo("Asia/Shanghai")
FREE_COURSE = "三天学会挑选好食材"
CAMP = "21 天家常鱼料理训练营"
CAMP_PRICE_FEN = 19900
CAMP_CAPACITY = 30

FREE_LESSONS = [
    (
        "第一天：看懂时令",
        LessonKind.TEXT,
        "<h2>什么是时令</h2><p>当季的蔬果味道最好、价格最实惠。</p>"
        "<ul><li>春：春笋、荠菜</li><li>夏：番茄、黄瓜</li><li>秋：莲藕、板栗</li><li>冬：萝卜、白菜</li></ul>",
        "",
    ),
    (
        "第二天：鱼虾怎么挑",
        LessonKind.VIDEO,
        "<p>看眼睛、按鱼身、闻气味，三步挑到新鲜的鱼。</p>",
        "https://v.qq.com/x/page/demo-fish.html",
    ),
    (
        "第三天：冷藏与分装",
        LessonKind.TEXT,
        "<p>买回家的食材按“先进先出”分装，生熟分开，冷藏不超过 4°C。</p>",
        "",
    ),
]

CAMP_LESSONS = [
    ("开营：工具与食材", "<p>一把好刀、一块砧板；淡水鱼和海鱼的区别。</p>"),
    ("第一课：清蒸鲈鱼", "<p>水开再上锅，大火八分钟，出锅淋热油。</p>"),
    ("第二课：千岛湖鱼头汤", "<p>鱼头先煎后炖，汤色奶白的秘诀在于大火。</p>"),
]


def _local_day_at(days_ahead: int, hour: int) -> datetime:
    day = timezone.localtime(timezone.now(), SHANGHAI).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)


def seed_courses(shop: Shop, community: Community, staff_user: User) -> list[Course]:
    """Create (once) and publish the two demo courses; returns them."""
    existing = list(Course.objects.filter(community=community, title__in=[FREE_COURSE, CAMP]).order_by("id"))
    if existing:
        return existing

    free = actions.do_create_course(
        shop,
        actions.CourseInput(
            community_id=community.pk,
            title=FREE_COURSE,
            description="社群成员免费学习：每天解锁一课，学完点“标记完成”记录进度。",
            access=CourseAccess.MEMBERS_ONLY,
            drip_interval_days=1,
            status=CourseStatus.PUBLISHED,
        ),
        actor=staff_user,
    )
    for title, kind, body, video_url in FREE_LESSONS:
        actions.do_create_lesson(
            shop, free, actions.LessonInput(title=title, kind=kind, body=body, video_url=video_url), actor=staff_user
        )

    camp = actions.do_create_course(
        shop,
        actions.CourseInput(
            community_id=community.pk,
            title=CAMP,
            description="按期开营，老师带着做；开营后每天解锁一课，结营后课程内容仍可回看。",
            access=CourseAccess.PAID,
            price_fen=CAMP_PRICE_FEN,
            drip_interval_days=1,
            status=CourseStatus.PUBLISHED,
            position=1,
        ),
        actor=staff_user,
    )
    for title, body in CAMP_LESSONS:
        actions.do_create_lesson(shop, camp, actions.LessonInput(title=title, body=body), actor=staff_user)
    starts_at = _local_day_at(7, 20)
    actions.do_create_cohort(
        shop,
        camp,
        actions.CohortInput(
            name="第1期", starts_at=starts_at, ends_at=starts_at + timedelta(days=21), capacity=CAMP_CAPACITY
        ),
        actor=staff_user,
    )

    # Two members already study the free course; the first finished day 1.
    members = [
        membership.user
        for membership in CommunityMembership.objects.filter(community=community, status=MemberStatus.ACTIVE)
        .select_related("user")
        .order_by("id")[:2]
    ]
    first_lesson = free.lessons.order_by("position", "id").first()
    for index, user in enumerate(members):
        actions.do_enrol(user, free)
        if index == 0 and first_lesson is not None:
            actions.do_mark_done(user, free, first_lesson)
    return [free, camp]
