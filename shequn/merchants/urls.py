from django.urls import path

from . import views

app_name = "merchants"
urlpatterns = [
    path("open-shop/", views.open_shop, name="open_shop"),
    path("platform/", views.platform_shops, name="platform_shops"),
    path("platform/shops/<int:shop_id>/", views.platform_shop, name="platform_shop"),
    path("platform/shops/<int:shop_id>/<str:move>/", views.platform_shop_status, name="platform_shop_status"),
    path("platform/applications/", views.platform_applications, name="platform_applications"),
    path(
        "platform/applications/<int:application_id>/approve/",
        views.platform_application_approve,
        name="platform_application_approve",
    ),
    path(
        "platform/applications/<int:application_id>/reject/",
        views.platform_application_reject,
        name="platform_application_reject",
    ),
    path("platform/audit/", views.platform_audit, name="platform_audit"),
]
