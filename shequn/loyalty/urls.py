from django.urls import path

from . import views

app_name = "loyalty"
urlpatterns = [
    path("cards/", views.my_cards, name="my_cards"),
    path("s/<slug:shop_slug>/card/", views.card, name="card"),
    path("s/<slug:shop_slug>/card/open/", views.open_card, name="open"),
    path("s/<slug:shop_slug>/card/birthday/", views.set_birthday, name="birthday"),
    path("s/<slug:shop_slug>/card/qr.svg", views.card_qr, name="qr"),
    path("s/<slug:shop_slug>/card/shop/<int:points_shop_item_id>/", views.exchange, name="exchange"),
    path("s/<slug:shop_slug>/card/points/", views.points_history, name="points"),
    path("console/loyalty/", views.console_home, name="console_home"),
    path("console/loyalty/category-rate/", views.console_category_rate, name="console_category_rate"),
    path("console/loyalty/shop-items/", views.console_shop_item, name="console_shop_item"),
    path("console/loyalty/levels/new/", views.console_level_create, name="console_level_create"),
    path("console/loyalty/levels/<int:member_level_id>/", views.console_level, name="console_level"),
    path(
        "console/loyalty/levels/<int:member_level_id>/prices/", views.console_level_prices, name="console_level_prices"
    ),
    path(
        "console/loyalty/levels/<int:member_level_id>/delete/", views.console_level_delete, name="console_level_delete"
    ),
]
