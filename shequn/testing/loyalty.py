"""Helpers for tests of member cards and points: a shop's program and levels, points given."""

from typing import Any

from shequn.loyalty import actions, points
from shequn.loyalty.enums import PointsAccountKind
from shequn.loyalty.models import LoyaltyProgram, MemberCard, MemberLevel


def make_program(shop: Any, staff: Any, **fields: Any) -> LoyaltyProgram:
    """1 point per ¥1 paid; 100 points take ¥1 off, at most 20 % of the goods; yearly expiry."""
    values = {
        "is_open": True,
        "points_per_yuan": 1,
        "points_per_yuan_off": 100,
        "redeem_cap_percent": 20,
        "expire_yearly": True,
    } | fields
    return actions.save_program(shop, staff, actions.ProgramInput(**values))


def make_levels(shop: Any, staff: Any, sku: Any) -> tuple[MemberLevel, MemberLevel]:
    """普通会员 from ¥0; 银卡 from ¥100 with ¥30.00 for ``sku`` and free shipping."""
    normal = actions.save_level(shop, staff, actions.LevelInput(name="普通会员", growth_fen=0))
    silver = actions.save_level(shop, staff, actions.LevelInput(name="银卡", growth_fen=10000, free_shipping=True))
    actions.set_level_prices(shop, staff, silver.pk, {sku.pk: 3000})
    return normal, silver


def give_points(shop: Any, member: Any, count: int, reference: str = "") -> None:
    """``count`` available points for ``member`` (a test's starting balance, issued by the shop)."""
    reference = reference or f"test:give:{member.pk}:{points.balance(shop, PointsAccountKind.AVAILABLE, member)}"
    points.move(shop, reference, PointsAccountKind.ISSUED, PointsAccountKind.AVAILABLE, member, count)


def balances(shop: Any, member: Any) -> dict[str, int]:
    return points.member_balances(shop, member)


def level_of(member: Any) -> str | None:
    level = MemberCard.objects.select_related("level").get(user=member).level
    return level.name if level else None


def books_ok(shop: Any) -> bool:
    """The shop's points books: every movement sums to zero, balances match entries, none negative."""
    return points.books_balance(shop) == 0 and points.entries_match_balances(shop)
