from django.urls import URLPattern

app_name = "teambuy"
urlpatterns: list[URLPattern] = []
