from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    # Member pages.
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/<int:item_id>/", views.cart_update, name="cart_update"),
    path("cart/<int:item_id>/remove/", views.cart_remove, name="cart_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.my_orders, name="my_orders"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", views.cancel_order, name="cancel_order"),
    path("orders/<str:number>/lines/<int:line_id>/refund/", views.request_refund, name="request_refund"),
    path("after-sales/", views.my_refunds, name="my_refunds"),
    # Operator console.
    path("console/", views.console_dashboard, name="console_dashboard"),
    path("console/orders/", views.console_orders, name="console_orders"),
    path("console/orders/<int:order_id>/", views.console_order_detail, name="console_order_detail"),
    path("console/orders/<int:order_id>/ship/", views.console_ship, name="console_ship"),
    path("console/orders/<int:order_id>/ready/", views.console_mark_ready, name="console_mark_ready"),
    path("console/orders/<int:order_id>/picked-up/", views.console_mark_picked_up, name="console_mark_picked_up"),
    path("console/orders/<int:order_id>/delivered/", views.console_mark_delivered, name="console_mark_delivered"),
    path("console/orders/<int:order_id>/complete/", views.console_complete, name="console_complete"),
    path("console/orders/<int:order_id>/cancel/", views.console_cancel, name="console_cancel"),
    path("console/refunds/", views.console_refunds, name="console_refunds"),
    path("console/refunds/<int:refund_id>/reject/", views.console_reject_refund, name="console_reject_refund"),
]
