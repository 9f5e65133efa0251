"""The operator-API shop resolver other apps use: path id, X-Shop header, or the only shop."""

import pytest
from django.test import RequestFactory

from shequn.core.errors import InvalidInput, NotFound, PermissionDenied
from shequn.shops import permissions
from shequn.shops.console import api_console_shop
from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _request(user, **headers):
    request = RequestFactory().get("/api/v1/x", headers=headers)
    request.user = user
    return request


def test_single_shop_needs_no_header():
    staff = StaffFactory.create(role=StaffRole.OPERATOR)
    assert api_console_shop(_request(staff.user), permissions.MANAGE_CATALOG) == staff.shop
    with pytest.raises(PermissionDenied):
        api_console_shop(_request(staff.user), permissions.MANAGE_STAFF)


def test_several_shops_need_a_choice_and_foreign_shops_are_404():
    first = StaffFactory.create(role=StaffRole.OWNER)
    second = StaffFactory.create(user=first.user, role=StaffRole.OWNER)
    foreign = ShopFactory.create()
    with pytest.raises(InvalidInput):
        api_console_shop(_request(first.user), permissions.VIEW_ORDERS)
    request = _request(first.user, **{"X-Shop": second.shop.slug})
    assert api_console_shop(request, permissions.VIEW_ORDERS) == second.shop
    assert api_console_shop(_request(first.user), permissions.VIEW_ORDERS, shop_id=first.shop.pk) == first.shop
    with pytest.raises(NotFound):
        api_console_shop(_request(first.user, **{"X-Shop": foreign.slug}), permissions.VIEW_ORDERS)
    with pytest.raises(NotFound):
        api_console_shop(_request(first.user), permissions.VIEW_ORDERS, shop_id=foreign.pk)
