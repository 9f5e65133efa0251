"""Schemathesis over the whole /api/v1 spec: no input the spec allows may crash the server or get
an answer the spec does not describe.

Every generated request is sent three times, as an anonymous caller, as a member (bearer token)
and as the owner of a shop (bearer token), against a shop with real objects behind the ids the
path parameters point at. Per operation: Schemathesis's coverage phase (the boundary values of
every parameter: the largest id, the longest text …) and ten fuzzed examples, derandomized, so
the run is repeatable and fits in the SQLite pass of ``make test`` (about a minute and a half on
two cores). Any failure is a bug to fix in the route or its schema (declare the error it really
returns, bound the input), not a case to exclude here.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from shequn.board import actions as board_actions
from shequn.content import actions as content_actions
from shequn.courses import actions as course_actions
from shequn.events import actions as event_actions
from shequn.gifts import actions as gift_actions
from shequn.packages import actions as package_actions
from shequn.packages import selectors as package_selectors
from shequn.redpackets import actions as redpacket_actions
from shequn.teambuy.models import TeamOffer
from shequn.testing.accounts import bearer
from shequn.testing.catalog import make_product
from shequn.testing.community import make_member
from shequn.testing.factories import AddressFactory, CategoryFactory, CommunityFactory, PickupPointFactory, PostFactory
from shequn.testing.orders import make_shop, make_staff, paid_order

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 10

# What the API promises: no 5xx, only declared status codes, and bodies (and their content type)
# as the spec describes them. Schemathesis's other checks judge business answers (a 409 for an
# order that cannot be cancelled is not a defect) and are left out.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Schemathesis calls the WSGI app itself, not through Django's test client, so the
    end-of-request close_old_connections would close the connection that holds the test's
    transaction (on PostgreSQL; SQLite's in-memory test database ignores it). Django's test
    client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world() -> dict[str, Any]:
    """A shop with an owner, and one of each thing its routes act on, made through the real actions."""
    shop = make_shop()
    owner = make_staff(shop)
    category = CategoryFactory(shop=shop)
    product = make_product(shop)
    sku = product.skus.get()
    PickupPointFactory(shop=shop)
    community = CommunityFactory(shop=shop, invite_code="fuzz-join")
    member = make_member(community, "小王")
    address = AddressFactory(user=member)
    post = PostFactory(community=community)
    order = paid_order(member, sku)
    thread = board_actions.do_create_thread(member, community, category_id=None, title="哪天到货", body="想问问")
    article = content_actions.do_create_article(
        shop,
        community,
        content_actions.ArticleInput(title="三文鱼怎么吃", body="<p>切片</p>", status="published"),
        actor=owner,
    )
    course = course_actions.do_create_course(
        shop,
        course_actions.CourseInput(community_id=community.pk, title="21 天阅读训练", status="published"),
        actor=owner,
    )
    lesson = course_actions.do_create_lesson(
        shop, course, course_actions.LessonInput(title="第1讲", kind="text", body="<p>正文</p>"), actor=owner
    )
    starts_at = timezone.now() + timedelta(days=3)
    event = event_actions.do_create_event(
        shop,
        community,
        event_actions.EventInput(
            title="农场品鉴日",
            venue="崇明有机农场",
            address="上海市崇明区港沿镇 88 号",
            description="品尝当季蔬果",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=4),
            capacity=5,
            price_fen=0,
        ),
        actor=owner,
    )
    event_actions.do_publish_event(shop, event, actor=owner)
    packet = redpacket_actions.fund_packet(
        shop,
        owner,
        redpacket_actions.PacketInput(
            title="新年红包",
            total_fen=1000,
            count=5,
            split="random",
            audience="community",
            community_id=community.pk,
            starts_at=timezone.now() - timedelta(minutes=1),
            expires_at=timezone.now() + timedelta(days=1),
        ),
    )
    offer = TeamOffer.objects.create(
        shop=shop,
        sku=sku,
        title="有机鱼头 3 人团",
        team_size=3,
        team_price_fen=2990,
        time_limit_hours=24,
        starts_at=timezone.now() - timedelta(minutes=1),
    )
    plan = package_actions.do_save_plan(
        shop,
        package_actions.PlanInput(
            title="小龙虾套餐", item_sku_id=sku.pk, portions=10, price_fen=5000, validity_days=30, stock=5
        ),
        actor=owner,
    )
    plan_sku = plan.product.skus.get()
    paid_order(member, plan_sku, fulfilment="none")
    package = package_selectors.my_packages(member).get()
    gift = gift_actions.do_buy(owner, plan_sku.pk, payment_method="sandbox")
    return {
        "member_headers": bearer(member),
        "staff_headers": bearer(owner),
        # Path parameters point at these objects, so the run reaches past the 404s.
        "path": {
            "slug": shop.slug,
            "shop_slug": shop.slug,
            "shop_id": shop.pk,
            "community_id": community.pk,
            "invite_code": community.invite_code,
            "user_id": member.pk,
            "category_id": category.pk,
            "product_id": product.pk,
            "sku_id": sku.pk,
            "address_id": address.pk,
            "post_id": post.pk,
            "number": order.number,
            "order_id": order.pk,
            "thread_id": thread.pk,
            "article_id": article.pk,
            "course_id": course.pk,
            "lesson_id": lesson.pk,
            "event_id": event.pk,
            "offer_id": offer.pk,
            "packet_id": packet.pk,
            "plan_id": plan.pk,
            "package_id": package.pk,
            "token": gift.token,
        },
    }


schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    get_wsgi_application(),
    config=schemathesis.config.SchemathesisConfig.from_dict(
        {
            "generation": {
                "mode": "positive",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                # Auth is sent explicitly below, for each of the three callers.
                "with-security-parameters": False,
            },
            "phases": {"coverage": {"enabled": True}, "stateful": {"enabled": False}},
        }
    ),
).exclude(
    # Signing out (DELETE tokens/current, tokens/{id}) revokes the very token the run calls with:
    # every later example of the operation would meet a 401 and test nothing.
    method="DELETE",
    path_regex=r"^/api/v1/accounts/tokens/",
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_keeps_its_spec(case: Any, world: dict[str, Any]) -> None:
    for name, value in world["path"].items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    for headers in ({}, world["member_headers"], world["staff_headers"]):
        case.call_and_validate(headers=headers, checks=CHECKS)
