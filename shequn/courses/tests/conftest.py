import pytest

from shequn.courses import actions
from shequn.courses.enums import CourseAccess, CourseStatus, LessonKind
from shequn.testing.community import api_client, community, make_members, member, other_member, outsider
from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)

__all__ = [
    "api_client",
    "community",
    "console_client",
    "login",
    "make_members",
    "member",
    "operator",
    "other_console_client",
    "other_member",
    "other_operator",
    "other_shop",
    "outsider",
    "shop",
]


def make_course(shop, community, operator, *, lessons=3, **fields):
    """A published members-only course (drip 1 day) with ``lessons`` text lessons 第1课…."""
    data = actions.CourseInput(
        community_id=community.pk,
        title=fields.pop("title", "21 天阅读训练"),
        status=fields.pop("status", CourseStatus.PUBLISHED),
        access=fields.pop("access", CourseAccess.MEMBERS_ONLY),
        **fields,
    )
    course = actions.do_create_course(shop, data, actor=operator)
    for number in range(1, lessons + 1):
        actions.do_create_lesson(
            shop,
            course,
            actions.LessonInput(title=f"第{number}讲", kind=LessonKind.TEXT, body=f"<p>正文{number}</p>"),
            actor=operator,
        )
    return course


@pytest.fixture
def course(shop, community, operator):
    return make_course(shop, community, operator)
