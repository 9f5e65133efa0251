"""Events for the demo: a free tasting day at the farm with RSVPs (some on the waitlist) and a
paid jam workshop with its ticket product, made through the events actions (audit rows, seat
counters and waitlist places moved by the actions themselves).

Skipped when the community already has these events, so a second seed changes nothing.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from shequn.accounts.models import User
from shequn.communities.enums import SubGroupKind
from shequn.communities.models import Community, CommunityMembership
from shequn.communities.selectors import current_q
from shequn.events import actions
from shequn.events.models import Event
from shequn.shops.models import Shop

SHANGHAI = ZoneInfo("Asia/Shanghai")
TASTING_DAY = "崇明农场品鉴日"
WORKSHOP = "手作果酱工坊"
TASTING_CAPACITY = 6
TASTING_RSVPS = 8  # two more than the seats: the last two wait


def _local_day_at(days_ahead: int, hour: int) -> datetime:
    day = timezone.localtime(timezone.now(), SHANGHAI).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)


def seed_events(shop: Shop, community: Community, staff_user: User) -> list[Event]:
    """Create (once) and publish the two demo events; returns them."""
    existing = list(Event.objects.filter(community=community, title__in=[TASTING_DAY, WORKSHOP]).order_by("id"))
    if existing:
        return existing
    tasting_starts = _local_day_at(6, 10)
    tasting = actions.do_create_event(
        shop,
        community,
        actions.EventInput(
            title=TASTING_DAY,
            venue="崇明有机农场",
            address="上海市崇明区港沿镇园艺村 88 号",
            description="跟着农场主走一遍菜园，现摘现尝当季蔬果，中午有农家午餐。请穿方便走路的鞋。",
            starts_at=tasting_starts,
            ends_at=tasting_starts + timedelta(hours=5),
            capacity=TASTING_CAPACITY,
            rsvp_deadline=tasting_starts - timedelta(days=1),
        ),
        actor=staff_user,
    )
    tasting = actions.do_publish_event(shop, tasting, actor=staff_user)
    members = [
        membership.user
        for membership in CommunityMembership.objects.filter(current_q(), community=community)
        .select_related("user")
        .order_by("id")[:TASTING_RSVPS]
    ]
    for member in members:
        actions.do_rsvp(member, tasting)

    chapter = community.sub_groups.filter(kind=SubGroupKind.CHAPTER, is_active=True).order_by("id").first()
    workshop_starts = _local_day_at(13, 14)
    workshop = actions.do_create_event(
        shop,
        community,
        actions.EventInput(
            title=WORKSHOP,
            venue="社区活动室",
            address="上海市浦东新区张江路 500 号 2 楼",
            description="用农场的草莓和蓝莓做两瓶果酱带回家，材料和玻璃瓶都已备好。",
            starts_at=workshop_starts,
            ends_at=workshop_starts + timedelta(hours=2),
            capacity=12,
            price_fen=6800,
            sub_group_id=chapter.pk if chapter else None,
        ),
        actor=staff_user,
    )
    workshop = actions.do_publish_event(shop, workshop, actor=staff_user)
    return [tasting, workshop]
