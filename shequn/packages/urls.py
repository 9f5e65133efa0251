from django.urls import path

from . import views

app_name = "packages"
urlpatterns = [
    path("packages/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("packages/mine/", views.mine, name="mine"),
    path("packages/mine/<int:package_id>/", views.mine_detail, name="mine_detail"),
    path("packages/mine/<int:package_id>/refund/", views.refund, name="refund"),
    path("packages/mine/<int:package_id>/gift/", views.send_as_gift, name="send_as_gift"),
    path("console/packages/", views.console_plans, name="console_plans"),
    path("console/packages/new/", views.console_create, name="console_create"),
    path("console/packages/<int:plan_id>/edit/", views.console_edit, name="console_edit"),
    path("console/packages/held/", views.console_held, name="console_held"),
    path("console/packages/held/<int:package_id>/", views.console_package, name="console_package"),
    path("console/packages/liabilities/", views.console_liabilities, name="console_liabilities"),
]
