"""Races only a real engine shows (PostgreSQL pass), with the in-process gate shared by threads.

- 60 members spin a wheel whose one prize (stock 5) is hit by every draw: exactly 5 wins, 60
  spins, stock 0; one member tapping 8 times at once spins exactly once.
- 40 members enter a timed draw at once (one of them tapping 6 times): 40 entries numbered 1…40
  without a gap; two draws racing write the winners once.
- A winner tapping 领取 8 times at once on a red-packet prize and on a coupon prize: one credit, one
  coupon.
"""

from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import time_machine

from shequn.lotteries import actions, draw
from shequn.lotteries.actions import PrizeInput
from shequn.lotteries.models import Entry, Prize, Spin, Win
from shequn.testing.community import make_members
from shequn.testing.postgres import run_at_once

from .conftest import draw_input, prize_coupon, published, wheel_input

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def spin_once(member: Any, lottery_id: int) -> str:
    return actions.spin(member, lottery_id).claim_id


def test_a_crowd_at_the_wheel_never_wins_more_than_the_stock(shop, operator, community, sku, commit):
    prize = PrizeInput(name="礼盒", kind="goods", value_fen=29900, quantity=5, sku_id=sku.pk, odds_ppm=draw.ODDS_SCALE)
    lottery = published(shop, operator, wheel_input(community, sku, prizes=[prize]), commit)
    members = make_members(community, 60)
    tapper = members[0]
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        spinners = members[1:] + [tapper] * 8
        outcomes = run_at_once([partial(spin_once, member, lottery.pk) for member in spinners])
        actions.materialise_spins(idle_ms=0)  # anything a waiting caller gave up on
    refusals = Counter(o for o in outcomes if o.startswith("lottery_"))
    assert refusals == {"lottery_no_spins_left": 7}
    assert Spin.objects.count() == 60
    assert Spin.objects.filter(user=tapper).count() == 1
    assert Win.objects.count() == 5
    assert Prize.objects.get().left == 0


def test_a_crowd_entering_gets_gap_free_numbers_and_one_draw(shop, operator, community, sku, commit):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    members = make_members(community, 40)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        entrants = members + [members[0]] * 5
        run_at_once([partial(actions.enter, member, lottery.pk) for member in entrants])
    assert sorted(Entry.objects.values_list("number", flat=True)) == list(range(1, 41))
    assert lottery.draw_at is not None
    with time_machine.travel(lottery.draw_at + timedelta(seconds=1)):
        drew = run_at_once([lambda: actions.draw_lottery(lottery.pk) for _ in range(4)])
    assert drew == [False, False, False, True]
    assert Win.objects.count() == 3


def test_a_winner_tapping_claim_at_once_gets_one_red_packet_and_one_coupon(shop, operator, community, sku, commit):
    from shequn.coupons.models import MemberCoupon
    from shequn.wallets import ledger
    from shequn.wallets.enums import AccountKind
    from shequn.wallets.models import LedgerTransaction

    template = prize_coupon(shop, per_person_limit=5)
    winner = make_members(community, 1)[0]
    for prize in (
        PrizeInput(name="现金红包", kind="red_packet", value_fen=666, quantity=1),
        PrizeInput(name="优惠券", kind="coupon", value_fen=2000, quantity=1, coupon_template_id=template.pk),
    ):
        lottery = published(shop, operator, draw_input(community, sku, prizes=[prize]), commit)
        assert lottery.draw_at is not None
        with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
            actions.enter(winner, lottery.pk)
        with time_machine.travel(lottery.draw_at):
            actions.draw_lottery(lottery.pk)
    wins = list(Win.objects.filter(user=winner).order_by("pk"))
    assert len(wins) == 2
    outcomes = run_at_once([partial(actions.claim_prize, winner, win.pk) for win in wins for _tap in range(8)])
    assert Counter(o for o in outcomes if isinstance(o, str)) == {"lottery_prize_claimed": 14}
    assert ledger.balance(shop, AccountKind.SPENDABLE, winner) == 666
    assert LedgerTransaction.objects.filter(reference__startswith="lottery:prize:").count() == 1
    assert MemberCoupon.objects.filter(user=winner).count() == 1
