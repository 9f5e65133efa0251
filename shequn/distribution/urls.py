from django.urls import URLPattern, path

from . import views

app_name = "distribution"
urlpatterns: list[URLPattern] = [
    path("r/<str:code>/", views.landing, name="landing"),
    path("promoter/", views.promoter_home, name="promoter_home"),
    path("promoter/apply/<slug:slug>/", views.apply, name="apply"),
    path("promoter/poster/<str:code>/", views.poster, name="poster"),
    path("promoter/qr/<str:code>.svg", views.qr, name="qr"),
    path("console/distribution/", views.console_home, name="console_home"),
    path("console/distribution/settings/", views.console_settings, name="console_settings"),
    path("console/distribution/rules/", views.console_rule, name="console_rule"),
    path("console/distribution/rules/<int:rule_id>/delete/", views.console_rule_delete, name="console_rule_delete"),
    path("console/distribution/levels/", views.console_level, name="console_level"),
    path("console/distribution/levels/<int:level_id>/delete/", views.console_level_delete, name="console_level_delete"),
    path("console/distribution/promoters/<int:promoter_id>/decide/", views.console_decide, name="console_decide"),
]
