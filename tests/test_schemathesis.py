"""Schemathesis over the whole /api/v1 spec: no input the spec allows may crash the server or get
an answer the spec does not describe.

Every generated request is sent three times, as an anonymous caller, as a member (bearer token)
and as the owner of a shop (bearer token), against a shop with real objects behind the ids the
path parameters point at. A few examples per operation, derandomized, so the run is repeatable
and fits in the SQLite pass of ``make test``. Any failure is a bug to fix in the route or its
schema (declare the error it really returns, bound the input), not a case to exclude here.
"""

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from shequn.testing.accounts import bearer
from shequn.testing.catalog import make_product
from shequn.testing.community import make_member
from shequn.testing.factories import AddressFactory, CategoryFactory, CommunityFactory, PickupPointFactory, PostFactory
from shequn.testing.orders import make_shop, make_staff, paid_order

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 5

# What the API promises: no 5xx, only declared status codes, and bodies (and their content type)
# as the spec describes them. Schemathesis's other checks judge business answers (a 409 for an
# order that cannot be cancelled is not a defect) and are left out.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def world() -> dict[str, Any]:
    """A shop with an owner, a product on the shelf, a community with a member, and a paid order."""
    shop = make_shop()
    owner = make_staff(shop)
    CategoryFactory(shop=shop)
    product = make_product(shop)
    sku = product.skus.get()
    PickupPointFactory(shop=shop)
    community = CommunityFactory(shop=shop, invite_code="fuzz-join")
    member = make_member(community, "小王")
    AddressFactory(user=member)
    PostFactory(community=community)
    order = paid_order(member, sku)
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
            "product_id": product.pk,
            "sku_id": sku.pk,
            "number": order.number,
            "order_id": order.pk,
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
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    ),
).exclude(
    # Signing out revokes the very token the run calls with; the rest of the run would be 401s.
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
