"""Console page: one community's figures for the last 7, 30 or 90 days."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shequn.core.pages import int_or_none
from shequn.shops.console import console_view
from shequn.shops.permissions import VIEW_DASHBOARD

from . import selectors


@console_view(VIEW_DASHBOARD)
@require_GET
def console_community_figures(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    days = selectors.check_days(int_or_none(request.GET.get("days")))
    figures = selectors.community_figures(community, days)
    return render(
        request,
        "analytics/community_figures.html",
        {"community": community, "figures": figures, "periods": selectors.PERIODS},
    )
