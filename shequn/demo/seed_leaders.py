"""Demo group leaders (团长): two approved leaders for two estates' sub-groups of the first demo
community, and one application waiting in the console queue.

Everything goes through the leaders actions (validated, audited, members notified), so the
demo looks like an operator really approved them. Idempotent: a second run returns the same
three rows.
"""

from django.db import transaction

from shequn.accounts.models import User
from shequn.communities.models import Community, CommunityMembership, SubGroup
from shequn.communities.selectors import current_q
from shequn.leaders import actions
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.shops.models import Shop

# (point name, address, opening hours, latitude, longitude, capacity per day, commission bp, note)
POINTS = [
    (
        "东区 8 幢便利店",
        "杭州市滨江区江南大道 1088 号东区 8 幢底商",
        "每天 8:00-21:00",
        "30.208512",
        "120.211234",
        80,
        1000,
        "楼下开便利店，取货方便",
    ),
    (
        "西区物业驿站",
        "杭州市滨江区江南大道 1088 号西区物业楼 1 楼",
        "每天 9:00-20:00",
        "30.207731",
        "120.209876",
        60,
        800,
        "在物业驿站上班，白天都在",
    ),
    (
        "东区 3 幢 1 单元",
        "杭州市滨江区江南大道 1088 号东区 3 幢 1 单元 101",
        "每天 18:00-21:00",
        "",
        "",
        None,
        0,
        "下班后可以帮邻居收货",
    ),
]
DEMO_PHONES = ["13857100001", "13857100002", "13857100003"]


def _first_community(shop: Shop) -> Community:
    community = Community.objects.filter(shop=shop, is_active=True).order_by("id").first()
    if community is None:
        raise ValueError("seed the demo communities first")
    return community


def _estates(community: Community) -> list[SubGroup]:
    estates = list(SubGroup.objects.filter(community=community, is_active=True).order_by("id")[:2])
    if len(estates) < 2:
        raise ValueError("the first demo community needs two sub-groups (seed the sub-groups first)")
    return estates


def _candidate(community: Community, estate: SubGroup, taken: set[int]) -> User:
    """A current member of the community, preferably one of the estate's sub-group."""
    members = CommunityMembership.objects.filter(current_q(), community=community).exclude(user_id__in=taken)
    membership = members.filter(sub_group=estate).order_by("id").first() or members.order_by("id").first()
    if membership is None:
        raise ValueError("the first demo community needs at least three current members")
    return membership.user


def seed_leaders(shop: Shop, staff_user: User) -> list[Leader]:
    """Two active leaders (东区, 西区 of the first community) then one pending application."""
    community = _first_community(shop)
    existing = list(Leader.objects.filter(shop=shop, community=community).order_by("id")[:3])
    if len(existing) == 3:
        return existing
    estates = _estates(community)
    slots = [(estates[0], True), (estates[1], True), (estates[0], False)]
    leaders = existing
    taken = set(Leader.objects.filter(shop=shop).values_list("user_id", flat=True))
    with transaction.atomic():
        for index in range(len(existing), len(slots)):
            estate, approve = slots[index]
            name, address, hours, lat, lng, capacity, rate, note = POINTS[index]
            user = _candidate(community, estate, taken)
            taken.add(user.pk)
            leader = actions.do_apply(
                user,
                shop,
                community_id=community.pk,
                sub_group_id=estate.pk,
                note=note,
                point_name=name,
                point_address=address,
                opening_hours=hours,
                contact_phone=DEMO_PHONES[index],
                latitude=lat,
                longitude=lng,
                capacity_per_day=capacity,
            )
            if approve and leader.status == LeaderStatus.APPLIED:
                actions.do_approve(shop, leader, commission_rate_bp=rate, actor=staff_user)
            leaders.append(leader)
    return leaders
