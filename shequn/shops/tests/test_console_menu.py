"""The console menu shows each staff member the pages their role may open, and only those."""

import re

import pytest

from shequn.shops.enums import StaffRole
from shequn.testing.orders import make_shop, make_staff

pytestmark = pytest.mark.django_db

# + 配送时段, 按时段拣货 (ADR 0007), 秒杀 (flash sales), 微信支付 (the owner's merchant keys), 红包, 抽奖, 优惠券,
# 套餐卡, 套餐卡兑换, 预付负债, 会员卡与积分, 储值充值 and 会员余额 (stored value, ADR 0021)
ALL_PAGES = 34


def nav(html: str) -> dict[str, str]:
    found = html.split('aria-label="控制台导航">')[1].split("</nav>")[0]
    return {label: href for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', found)}


def menu(client, user) -> dict[str, str]:
    client.force_login(user)
    response = client.get("/console/")
    assert response.status_code == 200
    return nav(response.content.decode())


@pytest.mark.parametrize("role", list(StaffRole))
def test_every_link_a_role_sees_opens(client, role):
    shop = make_shop()
    links = menu(client, make_staff(shop, role=role))
    assert links
    for label, href in links.items():
        response = client.get(href)
        assert response.status_code == 200, (role, label, href)
        assert nav(response.content.decode()) == links, (role, label)  # the same menu on every page


def test_each_role_sees_its_own_pages(client):
    shop = make_shop()
    owner = menu(client, make_staff(shop, role=StaffRole.OWNER))
    assert len(owner) == ALL_PAGES
    admin = menu(client, make_staff(shop, role=StaffRole.ADMIN))
    assert admin.keys() == owner.keys() - {"微信支付"}  # payment keys are the owner's alone
    finance = menu(client, make_staff(shop, role=StaffRole.FINANCE))
    assert {"提现审核", "订单", "售后", "操作日志", "会员余额"} <= finance.keys()
    assert not {"商品", "分销推广", "员工与角色", "店铺设置", "社群"} & finance.keys()
    operator = menu(client, make_staff(shop, role=StaffRole.OPERATOR))
    assert {"商品", "社群", "分销推广", "社区团购接龙", "团购履约"} <= operator.keys()
    # 红包 moves the shop's money: shop.manage, as 店铺设置.
    assert not {"提现审核", "员工与角色", "操作日志", "店铺设置", "红包"} & operator.keys()


def test_the_current_page_is_marked(client):
    shop = make_shop()
    client.force_login(make_staff(shop))
    page = client.get("/console/orders/").content.decode()
    assert '<a href="/console/orders/" aria-current="page">订单</a>' in page
