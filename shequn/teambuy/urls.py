from django.urls import path

from . import views

app_name = "teambuy"
urlpatterns = [
    path("teambuy/offers/<int:offer_id>/", views.offer_page, name="offer"),
    path("teambuy/offers/<int:offer_id>/open/", views.open_team, name="open_team"),
    path("teambuy/teams/<int:team_id>/", views.team_page, name="team"),
    path("teambuy/teams/<int:team_id>/status/", views.team_status, name="team_status"),
    path("teambuy/teams/<int:team_id>/join/", views.join_team, name="join_team"),
    path("teambuy/teams/<int:team_id>/qr.svg", views.team_qr, name="team_qr"),
    path("teambuy/mine/", views.my_teams, name="my_teams"),
    path("console/teambuy/", views.console_offers, name="console_offers"),
    path("console/teambuy/new/", views.console_offer_new, name="console_offer_new"),
    path("console/teambuy/<int:offer_id>/", views.console_offer_edit, name="console_offer_edit"),
    path("console/teambuy/teams/", views.console_teams, name="console_teams"),
]
