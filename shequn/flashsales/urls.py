from django.urls import path

from . import views

app_name = "flashsales"
urlpatterns = [
    path("flash/", views.open_sales, name="open_sales"),
    path("flash/<int:sale_id>/", views.sale_page, name="sale"),
    path("flash/<int:sale_id>/reserve/", views.reserve_submit, name="reserve"),
    path("flash/items/<int:item_id>/buy/", views.buy_submit, name="buy"),
    path("flash/claims/<str:claim_id>/", views.claim_status, name="claim"),
    path("console/flash/", views.console_sales, name="console_sales"),
    path("console/flash/new/", views.console_create, name="console_create"),
    path("console/flash/<int:sale_id>/", views.console_sale, name="console_sale"),
    path("console/flash/<int:sale_id>/edit/", views.console_edit, name="console_edit"),
    path("console/flash/<int:sale_id>/counters/", views.console_counters, name="console_counters"),
    path("console/flash/<int:sale_id>/<str:move>/", views.console_move, name="console_move"),
]
