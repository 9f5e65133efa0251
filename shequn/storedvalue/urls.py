from django.urls import path

from . import views

app_name = "storedvalue"
urlpatterns = [
    path("stored-value/", views.balance, name="balance"),
    path("stored-value/<int:shop_id>/principal-refund/", views.principal_refund, name="principal_refund"),
    path("console/stored-value/", views.console_plans, name="console_plans"),
    path("console/stored-value/<int:plan_id>/active/", views.console_plan_active, name="console_plan_active"),
    path("console/stored-value/balances/", views.console_balances, name="console_balances"),
]
