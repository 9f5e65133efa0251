from django.urls import path

from . import views

app_name = "redpackets"
urlpatterns = [
    path("redpackets/<int:packet_id>/", views.packet_page, name="packet"),
    path("redpackets/<int:packet_id>/grab/", views.grab_submit, name="grab"),
    path("console/redpackets/", views.console_packets, name="console_packets"),
    path("console/redpackets/new/", views.console_fund, name="console_fund"),
    path("console/redpackets/settings/", views.console_settings, name="console_settings"),
]
