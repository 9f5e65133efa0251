from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path(
        "console/communities/<int:community_id>/figures/",
        views.console_community_figures,
        name="console_community_figures",
    ),
]
