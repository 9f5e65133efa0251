from django.urls import URLPattern

app_name = "distribution"
urlpatterns: list[URLPattern] = []
