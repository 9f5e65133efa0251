"""The pages of packages: the package for sale, 我的套餐卡 with redemption and refund, and the
console (the package form, the counter, liabilities); another shop's staff see nothing."""

import pytest

from shequn.catalog.models import Sku
from shequn.orders.enums import PaymentMethod
from shequn.orders.models import Order
from shequn.packages.models import PackagePlan
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_shop, staff_client
from shequn.testing.two_shops import login

from .conftest import buy

pytestmark = pytest.mark.django_db


def test_the_console_creates_a_package_members_buy_redeem_and_refund(sandbox, commit, shop, operator, crayfish, member):
    console = login(operator)
    form = console.get("/console/packages/new/")
    assert form.status_code == 200
    created = console.post(
        "/console/packages/new/",
        {"title": "小龙虾 100 份套餐", "item": crayfish.pk, "portions": 100, "price": "8000", "shipping_included": "on",
         "validity_days": 365, "refund_rule": "pro_rata", "stock": 50, "on_sale": "on"},
    )  # fmt: skip
    assert created.status_code == 302, created.content.decode()
    plan = PackagePlan.objects.get(shop=shop)
    assert (plan.portions, plan.price_fen, Sku.objects.get(product=plan.product).stock) == (100, 800_000, 50)
    edit = console.get(f"/console/packages/{plan.pk}/edit/").content.decode()
    assert 'value="小龙虾 100 份套餐"' in edit
    listed = console.get("/console/packages/").content.decode()
    assert "小龙虾 100 份套餐" in listed
    assert "¥8,000.00" in listed

    page = login(member).get(f"/packages/{plan.pk}/").content.decode()
    assert "¥8,000.00" in page
    assert f"/checkout/?sku={Sku.objects.get(product=plan.product).pk}" in page
    package = buy(member, plan, commit)
    mine = login(member).get("/packages/mine/").content.decode()
    assert "剩 100/100 份" in mine
    redeemed = login(member).post(
        f"/packages/mine/{package.pk}/",
        {"portions": 2, "fulfilment": "delivery", "address": member.addresses.first().pk, "buyer_note": "少辣"},
    )
    assert redeemed.status_code == 302
    short = login(member).post(
        f"/packages/mine/{package.pk}/",
        {"portions": 99, "fulfilment": "delivery", "address": member.addresses.first().pk},
    )
    assert short.status_code == 422
    assert "剩余 98 份，不够兑换 99 份" in short.content.decode()

    point = PickupPointFactory.create(shop=shop)
    counter = console.post(f"/console/packages/held/{package.pk}/", {"portions": 1, "fulfilment": "pickup",
                                                                     "pickup_point": point.pk})  # fmt: skip
    assert counter.status_code == 302
    held = console.get(f"/console/packages/held/{package.pk}/").content.decode()
    assert "门店柜台" in held
    assert "会员自助" in held
    assert Order.objects.filter(user=member, payment_method=PaymentMethod.PREPAID).count() == 2
    report = console.get("/console/packages/liabilities/").content.decode()
    assert "¥7,760.00" in report  # 97 of 100 portions of ¥8,000

    with commit():
        refunded = login(member).post(f"/packages/mine/{package.pk}/refund/")
    assert refunded.status_code == 302
    after = login(member).get(f"/packages/mine/{package.pk}/").content.decode()
    assert "已退款" in after
    assert "¥0.00" in console.get("/console/packages/liabilities/").content.decode()


def test_another_shops_staff_and_members_see_nothing(sandbox, commit, plan, member):
    package = buy(member, plan, commit)
    stranger = staff_client(make_shop())
    assert stranger.get(f"/console/packages/held/{package.pk}/").status_code == 404
    assert stranger.get(f"/console/packages/{plan.pk}/edit/").status_code == 404
    assert "小龙虾" not in stranger.get("/console/packages/held/").content.decode()
    own = staff_client(plan.shop)
    last_four = member.phone[-4:]
    assert f'data-package-id="{package.pk}"' in own.get(f"/console/packages/held/?phone={last_four}").content.decode()
    assert f'data-package-id="{package.pk}"' not in own.get("/console/packages/held/?phone=99999").content.decode()
