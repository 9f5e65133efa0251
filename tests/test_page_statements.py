"""Member and console pages run the same number of SQL statements however much data the shop has
(issue 14, item 4): each page is rendered with a small and a three-times larger data set and must
make the same statements, and the count is pinned so a new query on these pages is a decision,
not an accident. Measure a changed count with `-k name -s`; the numbers printed are the new pins."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequn.catalog.actions import do_create_collection, do_set_collection_products
from shequn.coupons import actions as coupon_actions
from shequn.coupons.models import PostCoupon
from shequn.loyalty import actions as loyalty_actions
from shequn.orders.enums import Fulfilment
from shequn.packages import actions as package_actions
from shequn.packages import selectors as package_selectors
from shequn.payments.actions import start_payment
from shequn.testing.coupons import make_coupon_template
from shequn.testing.factories import CommunityFactory, MembershipFactory, PostFactory
from shequn.testing.loyalty import make_levels, make_program
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff, paid_order, place_order, staff_client
from shequn.testing.storedvalue import make_plan, paid_top_up

pytestmark = pytest.mark.django_db


class Shop:
    def __init__(self) -> None:
        self.shop = make_shop(slug="page-shop")
        self.community = CommunityFactory.create(shop=self.shop)
        self.member = make_member(nickname="看页面的人")
        MembershipFactory.create(community=self.community, user=self.member)
        self.console = staff_client(self.shop, role="owner")
        self.staff = make_staff(self.shop)
        self.browser = Client()
        self.browser.force_login(self.member)
        self.products: list[Any] = []
        make_program(self.shop, self.staff)
        make_levels(self.shop, self.staff, make_sku(self.shop, title="会员价商品"))
        loyalty_actions.open_card(self.member, self.shop)
        self.plan = make_plan(self.shop, principal_fen=100_000, bonus_fen=10_000)

    def grow(self, times: int) -> None:
        """Add ``times`` of each thing: products, collections of them (the shop home shows each),
        members, posts (each with a coupon card), orders (the member's and others'), coupons (the
        member holds one of each, and uses one on an order)."""
        for n in range(times):
            sku = make_sku(self.shop, title=f"商品{len(self.products)}")
            self.products.append(sku.product)
            number = len(self.products)
            collection = do_create_collection(self.shop, f"专题{number}", f"c{number}", actor=None)
            do_set_collection_products(self.shop, collection, [p.pk for p in self.products[-3:]], actor=None)
            other = make_member(nickname=f"成员{n}")
            MembershipFactory.create(community=self.community, user=other)
            post = PostFactory.create(community=self.community, body=f"第 {n} 条动态")
            template = make_coupon_template(self.shop, self.staff, name=f"券{number}", per_person_limit=2)
            PostCoupon.objects.create(post=post, template=template)
            coupon_actions.claim(self.member, template.pk)
            used = coupon_actions.claim(self.member, template.pk)
            paid_order(self.member, make_sku(self.shop, price_fen=20000), 1, coupon_id=used.pk)
            paid_order(self.member, sku, 1)
            paid_order(other, sku, 2)
            self._package(sku, other)
            loyalty_actions.open_card(other, self.shop)
            # Stored value: members top up; the member pays an order from the balance.
            paid_top_up(other, self.plan)
            paid_top_up(self.member, self.plan)
            start_payment(place_order(self.member, sku, 1), self.member, use_balance=True)

    def _package(self, item: Any, other: Any) -> None:
        """A package of ``item``: the member and ``other`` each buy one and redeem a portion."""
        plan = package_actions.do_save_plan(
            self.shop,
            package_actions.PlanInput(
                title=f"套餐{len(self.products)}",
                item_sku_id=item.pk,
                portions=10,
                price_fen=5000,
                validity_days=30,
                stock=9,
            ),
            actor=self.staff,
        )
        for buyer in (self.member, other):
            paid_order(buyer, plan.product.skus.get(), 1, fulfilment=Fulfilment.NONE)
            package = package_selectors.my_packages(buyer).get(plan=plan)
            address = buyer.addresses.first().pk
            package_actions.redeem(
                buyer, package, portions=1, fulfilment=Fulfilment.DELIVERY, channel="member", address_id=address
            )


def statements(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


# page: (who looks, its address, statements it makes)
PAGES = {
    "shop home": ("browser", lambda s: f"/s/{s.shop.slug}/", 11),
    "product": ("browser", lambda s: f"/s/{s.shop.slug}/p/{s.products[0].pk}/", 7),
    "community feed": ("browser", lambda s: f"/c/{s.community.pk}/", 9),  # + its posts' coupon cards
    "claim centre": ("browser", lambda s: "/coupons/", 5),
    "my coupons": ("browser", lambda s: "/coupons/mine/", 5),
    "my used coupons": ("browser", lambda s: "/coupons/mine/?tab=used", 5),
    "my orders": ("browser", lambda s: "/orders/", 6),
    "my data and account": ("browser", lambda s: "/me/data/", 9),  # + the balance a deletion forfeits
    "console dashboard": ("console", lambda s: "/console/", 13),  # + the first-run guide (one query)
    "console orders": ("console", lambda s: "/console/orders/", 11),
    "console products": ("console", lambda s: "/console/products/", 10),
    "console members": ("console", lambda s: f"/console/communities/{s.community.pk}/members/", 12),
    "console coupons": ("console", lambda s: "/console/coupons/", 7),
    "my packages": ("browser", lambda s: "/packages/mine/", 4),
    "my package": (
        "browser",
        lambda s: f"/packages/mine/{package_selectors.my_packages(s.member).earliest('pk').pk}/",
        8,
    ),
    "console packages": ("console", lambda s: "/console/packages/", 6),
    "console held packages": ("console", lambda s: "/console/packages/held/", 6),
    "console package liabilities": ("console", lambda s: "/console/packages/liabilities/", 8),
    # + the card, rules, points, levels, the level's prices and the points shop, one query each
    "member card": ("browser", lambda s: f"/s/{s.shop.slug}/card/", 10),
    "points history": ("browser", lambda s: f"/s/{s.shop.slug}/card/points/", 5),
    "console member cards": ("console", lambda s: "/console/loyalty/", 13),
    "my balance": ("browser", lambda s: "/stored-value/", 9),  # + per shop: balances, plans, history
    "console top-up plans": ("console", lambda s: "/console/stored-value/", 6),
    "console member balances": ("console", lambda s: "/console/stored-value/balances/", 8),
}


@pytest.mark.parametrize("page", PAGES)
def test_page_statements_do_not_grow_with_the_data(page):
    who, url_of, pinned = PAGES[page]
    data = Shop()
    data.grow(2)
    client = getattr(data, who)
    statements(client, url_of(data))  # warm per-process caches (site settings, permissions)
    small = statements(client, url_of(data))
    data.grow(4)
    large = statements(client, url_of(data))
    print(f"{page}: {small} -> {large}")
    assert large == small
    assert small == pinned
