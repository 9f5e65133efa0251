"""URLconf used only when SHEQUN_BENCH_ENDPOINTS=1: the real site plus the naive reference endpoint."""

from django.urls import URLPattern, URLResolver, path

from shequn.demo import bench_views
from shequn.urls import urlpatterns as site_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/naive-order/", bench_views.naive_create_order, name="bench_naive_order"),
    path("bench/direct-sign-up/<int:campaign_id>/", bench_views.direct_sign_up, name="bench_direct_sign_up"),
    *site_urlpatterns,
]
