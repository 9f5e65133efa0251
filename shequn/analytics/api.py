"""Analytics API: per-community figures for operators (X-Shop header)."""

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Router

from shequn.core.schemas import Count, Id, error_responses
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import VIEW_DASHBOARD

from . import selectors
from .schemas import CommunityFiguresOut

router = Router(tags=["analytics"])


def _sales(sales: selectors.Sales) -> dict[str, int]:
    return {**asdict(sales), "net_fen": sales.net_fen}


@router.get(
    "/communities/{community_id}/figures",
    response={200: CommunityFiguresOut, **error_responses(401, 403, 404, 422)},
)
def community_figures(request: HttpRequest, community_id: Id, days: Count = 30) -> Any:
    """Members, joins by channel, active members and sales of one community over 7, 30 or 90 days."""
    shop = api_console_shop(request, VIEW_DASHBOARD)
    community = selectors.access_community(shop, community_id)
    figures = selectors.community_figures(community, selectors.check_days(days))
    return {
        "community_id": community.pk,
        "days": figures.days,
        "since": figures.since,
        "members": figures.members,
        "former_members": figures.former_members,
        "joins": figures.joins,
        "joins_by_channel": [asdict(row) for row in figures.joins_by_channel],
        "active_members": figures.active_members,
        "sales": _sales(figures.sales),
        "from_posts": _sales(figures.from_posts),
        "from_articles": _sales(figures.from_articles),
        "fees": _sales(figures.fees),
        "top_articles": [asdict(row) for row in figures.top_articles],
    }
