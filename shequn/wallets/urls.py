from django.urls import path

from . import views

app_name = "wallets"
urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("console/withdrawals/", views.console_withdrawals, name="console_withdrawals"),
    path("console/withdrawals/<int:withdrawal_id>/", views.console_withdrawal_decide, name="console_withdrawal_decide"),
    path("wallets/payouts/notify/", views.payout_notify, name="payout_notify"),
]
