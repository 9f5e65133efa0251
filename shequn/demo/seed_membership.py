"""Paid membership for the demo: one demo community becomes a paid one (¥99 for 365 days, full
refund within 3 days, a recruitment window open now for 30 days) and an invitation-only leaders'
community is added, both through the communities actions (audit rows, the fee product).

Existing members of the paid community keep their membership; three of them get an expiry so
the console's expiry filter and "my communities" have something to show (one expiring within
the week, one later, one expired and now a former member). A second seed changes nothing.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from shequn.accounts.models import User
from shequn.communities import actions
from shequn.communities.enums import JoinPolicy, MemberStatus
from shequn.communities.models import Community, CommunityMembership
from shequn.communities.selectors import current_q
from shequn.shops.models import Shop

PAID_INVITE_CODE = "demo-xiaoshan"  # 千岛湖鲜鱼·萧山宝妈群
LEADERS_NAME = "千岛湖鲜鱼·团长核心群"
LEADERS_INVITE_CODE = "demo-leaders"
FEE_FEN = 9900
VALIDITY_DAYS = 365
REFUND_DAYS = 3
WINDOW_DAYS = 30
LEADERS = 5


def _paid_community(shop: Shop) -> Community:
    """The demo community to make paid: 萧山宝妈群 when present, else the shop's last community."""
    communities = Community.objects.filter(shop=shop).order_by("id")
    found = communities.filter(invite_code=PAID_INVITE_CODE).first() or communities.last()
    if found is None:
        raise ValueError("seed the demo communities first")
    return found


def seed_membership(shop: Shop, staff_user: User) -> tuple[Community, Community]:
    """Make one demo community paid and add the invitation-only one (once); returns both."""
    paid = _paid_community(shop)
    leaders = Community.objects.filter(shop=shop, invite_code=LEADERS_INVITE_CODE).first()
    if paid.is_paid and leaders is not None:
        return paid, leaders
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        if not paid.is_paid:
            actions.do_update_membership_settings(
                shop,
                paid,
                join_policy=JoinPolicy.OPEN,
                fee_fen=FEE_FEN,
                validity_days=VALIDITY_DAYS,
                refund_days=REFUND_DAYS,
                renewal_reminder_days=7,
                actor=staff_user,
            )
            actions.do_add_window(shop, paid, now, now + timedelta(days=WINDOW_DAYS), "年度会员招募", actor=staff_user)
            _expiries(paid, now)
        if leaders is None:
            leaders = actions.do_create_community(
                shop, LEADERS_NAME, "各小区团长交流群，仅限成员邀请加入。", actor=staff_user
            )
            Community.objects.filter(pk=leaders.pk).update(invite_code=LEADERS_INVITE_CODE)
            leaders.refresh_from_db()
            actions.do_update_membership_settings(
                shop, leaders, join_policy=JoinPolicy.INVITE_ONLY, fee_fen=0, actor=staff_user
            )
            first = Community.objects.filter(shop=shop).exclude(pk__in=[paid.pk, leaders.pk]).order_by("id").first()
            if first is not None:
                users = [
                    membership.user_id
                    for membership in CommunityMembership.objects.filter(current_q(), community=first).order_by("id")[
                        :LEADERS
                    ]
                ]
                CommunityMembership.objects.bulk_create(
                    CommunityMembership(community=leaders, user_id=user_id) for user_id in users
                )
    return paid, leaders


def _expiries(community: Community, now: datetime) -> None:
    members = list(CommunityMembership.objects.filter(current_q(), community=community).order_by("id")[:3])
    plans = [
        (timedelta(days=5), MemberStatus.ACTIVE),
        (timedelta(days=40), MemberStatus.ACTIVE),
        (timedelta(days=-2), MemberStatus.FORMER),
    ]
    for membership, (offset, status) in zip(members, plans, strict=False):
        CommunityMembership.objects.filter(pk=membership.pk).update(expires_at=now + offset, status=status)
