from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("orders/<str:number>/pay/", views.pay, name="pay"),
    path("orders/<str:number>/wechat-pay/", views.jsapi_cashier, name="jsapi_cashier"),
    path("sandbox-pay/v3/<path:rest>", views.sandbox_api, name="sandbox_api"),
    path("sandbox-pay/<str:prepay_id>/", views.sandbox_pay_page, name="sandbox_pay_page"),
    path("console/orders/<int:order_id>/confirm-cod/", views.console_confirm_cod, name="console_confirm_cod"),
    path("console/refunds/<int:refund_id>/approve/", views.console_approve_refund, name="console_approve_refund"),
    path("console/payments/wechat/", views.console_merchant, name="console_merchant"),
    path("console/payments/wechat/keys/", views.console_platform_key_add, name="console_platform_key_add"),
    path(
        "console/payments/wechat/keys/<int:key_id>/retire/",
        views.console_platform_key_retire,
        name="console_platform_key_retire",
    ),
]
