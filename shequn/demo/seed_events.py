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
TASTING_DAY = "千岛湖渔场开放日"
WORKSHOP = "三文鱼刺身刀工课"
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
            venue="千岛湖鲜鱼农场",
            address="浙江省杭州市淳安县千岛湖镇渔港路 8 号",
            description="跟着渔场师傅看一网鱼怎么起水、怎么分拣，现场尝鲜，中午有鱼头宴。请穿方便走路的鞋。",
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
            venue="滨江社区活动室",
            address="浙江省杭州市滨江区江南大道 500 号 2 楼",
            description="渔场师傅手把手教你分切三文鱼，做一盘刺身带回家，刀具和食材都已备好。",
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
