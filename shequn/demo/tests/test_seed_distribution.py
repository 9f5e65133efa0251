"""seed_distribution: after seeding, the demo member's promoter centre and wallet show the frozen
and available commission the rules give, the operator's distribution page lists the applicant
and the rules, finance's queue lists the withdrawal; a second run creates nothing."""

import re

import pytest
from django.test import Client

from shequn.demo.seed_distribution import seed_distribution
from shequn.distribution.models import Binding, Commission, CommissionRule, Promoter, PromoterLevel, Visit
from shequn.notifications.models import Notification
from shequn.orders.models import Order
from shequn.shops.enums import StaffRole
from shequn.testing.factories import PickupPointFactory, UserFactory
from shequn.testing.orders import make_sku, make_staff
from shequn.wallets.models import Entry, LedgerTransaction, Withdrawal

# Payments complete in on_commit callbacks, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ["周晓燕", "吴建国", "郑丽华", "王海峰", "冯雅琴", "陈志强"]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown(html: str, name: str) -> list[str]:
    return re.findall(rf'data-testid="{name}"[^>]*>([^<]*)<', html)


@pytest.fixture
def demo(shop, operator, sandbox):
    PickupPointFactory.create(shop=shop)
    fish_head = make_sku(shop, price_fen=3980, stock=50, title="千岛湖有机鱼头（胖头鱼）", on_shelf=True, position=5)
    salmon = make_sku(shop, price_fen=6800, stock=50, title="挪威三文鱼刺身中段", on_shelf=True, position=0)
    make_sku(shop, price_fen=2000, stock=50, title="限购鱼籽", on_shelf=True, per_person_cap=1, position=1)
    members = [UserFactory.create(phone=f"1390000000{n + 1}", nickname=name) for n, name in enumerate(NAMES)]
    finance = make_staff(shop, StaffRole.FINANCE)
    return {"fish_head": fish_head, "salmon": salmon, "members": members, "finance": finance}


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Promoter,
            Binding,
            Visit,
            Commission,
            CommissionRule,
            PromoterLevel,
            Order,
            Withdrawal,
            LedgerTransaction,
            Entry,
            Notification,
        )
    )


def test_seed_distribution_fills_the_promoter_wallet_and_console_pages_once(shop, operator, demo):
    seeded = seed_distribution(shop, operator)
    assert seeded is not None
    a, b, pending, *customers = demo["members"]
    assert [p.user for p in seeded.promoters] == [a, b]
    assert (seeded.applicant.user, seeded.applicant.status) == (pending, "pending")
    assert Binding.objects.get(customer=b).promoter.user == a  # b came through a's link: a's team
    # Commissions by the rules: ¥5/件 ×2 on the fish head (settled), 10% of ¥68 to each tier-1
    # promoter and 3% of ¥68 to the upline at tier 2 (frozen).
    got = sorted(
        (c.promoter.user.phone, c.tier, c.amount_fen, c.status) for c in Commission.objects.select_related("promoter")
    )
    assert got == [
        (a.phone, 1, 680, "frozen"),
        (a.phone, 1, 1000, "settled"),
        (a.phone, 2, 204, "frozen"),
        (b.phone, 1, 680, "frozen"),
    ]
    assert sorted(Order.objects.values_list("user__phone", "status")) == [
        (customers[0].phone, "completed"),
        (customers[1].phone, "paid"),
        (customers[2].phone, "paid"),
    ]

    centre = login(a).get("/promoter/").content.decode()
    assert shown(centre, "promoter-status") == ["已通过"]
    assert shown(centre, "frozen") == ["¥8.84"]
    assert shown(centre, "available") == ["¥5.00"]  # ¥10.00 settled, ¥5.00 asked for
    assert (shown(centre, "visit-count"), shown(centre, "customer-count")) == (["3"], ["3"])
    assert "我的团队（二级）：吴*" in centre

    wallet = login(a).get("/wallet/").content.decode()
    assert shown(wallet, "balance-available") == ["¥5.00"]
    assert shown(wallet, "balance-frozen") == ["¥8.84"]
    assert shown(wallet, "balance-in-transit") == ["¥5.00"]

    console = login(operator).get("/console/distribution/").content.decode()
    pending_table = console.split('data-testid="pending-promoters"', 1)[1].split("</table>", 1)[0]
    assert pending_table.count('data-testid="approve-promoter"') == 1
    assert "郑*" in pending_table
    assert shown(console, "approved-count") == ["2"]
    assert sorted(zip(shown(console, "rule-tier1"), shown(console, "rule-tier2"), strict=True)) == [
        ("10%", "3%"),
        ("¥5.00/件", "¥1.00/件"),
    ]
    assert "金牌推广员" in console

    queue = login(demo["finance"]).get("/console/withdrawals/").content.decode()
    assert queue.count('data-testid="withdrawal-row"') == 1
    assert queue.count('data-testid="withdrawal-approve"') == 1
    row = queue.split('data-testid="withdrawal-row"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td>([^<]*)", row)  # number, applicant, amount, time, status
    assert (cells[1], cells[2], cells[4]) == ("周**", "¥5.00", "待审核")

    before = counts()
    again = seed_distribution(shop, operator)
    assert again is not None
    assert again.withdrawal == seeded.withdrawal
    assert counts() == before
