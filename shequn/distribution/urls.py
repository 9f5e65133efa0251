from django.urls import URLPattern, path

from . import views

app_name = "distribution"
urlpatterns: list[URLPattern] = [
    path("r/<str:code>/", views.landing, name="landing"),
    path("promoter/", views.promoter_home, name="promoter_home"),
    path("promoter/apply/<slug:slug>/", views.apply, name="apply"),
    path("promoter/qr/<str:code>.svg", views.qr, name="qr"),
]
