import pytest
from django.test import Client

from shequn.courses import actions
from shequn.courses.enums import CourseAccess, CourseStatus, LessonKind
from shequn.testing.accounts import bearer
from shequn.testing.factories import CommunityFactory, MembershipFactory, UserFactory
from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)

__all__ = ["console_client", "login", "operator", "other_console_client", "other_operator", "other_shop", "shop"]


@pytest.fixture
def community(shop):
    return CommunityFactory.create(shop=shop, name="张江读书会", invite_code="join-reading")


@pytest.fixture
def member(community):
    user = UserFactory.create(nickname="小王")
    MembershipFactory.create(community=community, user=user)
    return user


@pytest.fixture
def other_member(community):
    user = UserFactory.create(nickname="老李")
    MembershipFactory.create(community=community, user=user)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory.create(nickname="路人")


def api_client(user) -> Client:
    return Client(headers=bearer(user))


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
