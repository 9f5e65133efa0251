from django.urls import path

from . import views

app_name = "lotteries"
urlpatterns = [
    path("lotteries/<int:lottery_id>/", views.lottery_page, name="lottery"),
    path("lotteries/<int:lottery_id>/enter/", views.enter_submit, name="enter"),
    path("lotteries/<int:lottery_id>/spin/", views.spin_submit, name="spin"),
    path("lotteries/wins/<int:win_id>/claim/", views.claim_submit, name="claim"),
    path("console/lotteries/", views.console_lotteries, name="console_lotteries"),
    path("console/lotteries/new/", views.console_create, name="console_create"),
    path("console/lotteries/<int:lottery_id>/", views.console_lottery, name="console_lottery"),
    path("console/lotteries/<int:lottery_id>/edit/", views.console_edit, name="console_edit"),
    path("console/lotteries/<int:lottery_id>/<str:move>/", views.console_move, name="console_move"),
]
