from django.urls import path

from . import views

app_name = "leaders"
urlpatterns = [
    path("leader/", views.home, name="home"),
    path("leader/apply/<slug:shop_slug>/", views.apply, name="apply"),
    path("leader/p/<int:leader_id>/", views.point, name="point"),
    path("console/leaders/", views.console_leaders, name="console_leaders"),
    path("console/leaders/<int:leader_id>/", views.console_leader, name="console_leader"),
    path("console/leaders/<int:leader_id>/approve/", views.console_approve, name="console_approve"),
    path("console/leaders/<int:leader_id>/reject/", views.console_reject, name="console_reject"),
    path("console/leaders/<int:leader_id>/suspend/", views.console_suspend, name="console_suspend"),
    path("console/leaders/<int:leader_id>/resume/", views.console_resume, name="console_resume"),
    path("console/leaders/<int:leader_id>/update/", views.console_update, name="console_update"),
]
