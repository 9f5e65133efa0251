"""URLconf used only when SHEQUN_BENCH_ENDPOINTS=1: the real site plus the naive reference endpoint."""

from django.urls import URLPattern, URLResolver, path

from shequn.demo import bench_views
from shequn.urls import urlpatterns as site_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/naive-order/", bench_views.naive_create_order, name="bench_naive_order"),
    *site_urlpatterns,
]
