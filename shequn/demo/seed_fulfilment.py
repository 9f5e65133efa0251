"""Demo fulfilment for the shop's succeeded group-buy campaigns: each leader confirmed the goods
(in full: no shortage refunds in the demo), and the first two members at each point picked up.

Idempotent: a campaign × leader already received is left alone, and pickups only top up to two
per point. Returns how many pickups it verified on this run.
"""

from typing import Any

from shequn.fulfilment import actions, selectors
from shequn.fulfilment.enums import TicketStatus
from shequn.fulfilment.models import GoodsReceipt, PickupTicket
from shequn.groupbuy.enums import CampaignStatus
from shequn.groupbuy.models import Campaign, CampaignLeader
from shequn.leaders.enums import LeaderStatus
from shequn.shops.models import Shop

PICKED_UP_PER_POINT = 2


def seed_fulfilment(shop: Shop, staff_user: Any) -> int:
    """``staff_user`` is accepted for symmetry with the other seeds; leaders act for their points."""
    verified = 0
    for campaign in Campaign.objects.filter(shop=shop, status=CampaignStatus.SUCCEEDED).order_by("id"):
        entries = CampaignLeader.objects.select_related("leader__user").filter(
            campaign=campaign, leader__status=LeaderStatus.ACTIVE, leader__pickup_point__isnull=False
        )
        for entry in entries.order_by("id"):
            leader = entry.leader
            if not GoodsReceipt.objects.filter(campaign=campaign, leader=leader).exists():
                expected = selectors.expected_units(campaign, leader)
                if not expected:
                    continue
                actions.receive_goods(
                    leader,
                    campaign.pk,
                    {sku_id: units for sku_id, (_, _, units) in expected.items()},
                    actor=leader.user,
                )
            tickets = PickupTicket.objects.filter(sign_up__campaign=campaign, pickup_point_id=leader.pickup_point_id)
            done = tickets.filter(status=TicketStatus.PICKED_UP).count()
            for ticket in tickets.filter(status=TicketStatus.OPEN).order_by("sign_up__sequence")[
                : max(0, PICKED_UP_PER_POINT - done)
            ]:
                actions.verify_code(leader, ticket.code, actor=leader.user)
                verified += 1
    return verified
