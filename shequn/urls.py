from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from shequn.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("shequn.accounts.urls")),
    path("", include("shequn.wechat.urls")),
    path("", include("shequn.shops.urls")),
    path("", include("shequn.catalog.urls")),
    path("", include("shequn.communities.urls")),
    path("", include("shequn.board.urls")),
    path("", include("shequn.content.urls")),
    path("", include("shequn.courses.urls")),
    path("", include("shequn.events.urls")),
    path("", include("shequn.leaders.urls")),
    path("", include("shequn.orders.urls")),
    path("", include("shequn.payments.urls")),
    path("", include("shequn.storedvalue.urls")),
    path("", include("shequn.groupbuy.urls")),
    path("", include("shequn.fulfilment.urls")),
    path("", include("shequn.teambuy.urls")),
    path("", include("shequn.flashsales.urls")),
    path("", include("shequn.lotteries.urls")),
    path("", include("shequn.redpackets.urls")),
    path("", include("shequn.coupons.urls")),
    path("", include("shequn.packages.urls")),
    path("", include("shequn.gifts.urls")),
    path("", include("shequn.loyalty.urls")),
    path("", include("shequn.distribution.urls")),
    path("", include("shequn.wallets.urls")),
    path("", include("shequn.notifications.urls")),
    path("", include("shequn.analytics.urls")),
    path("", include("shequn.privacy.urls")),
    path("", include("shequn.merchants.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
