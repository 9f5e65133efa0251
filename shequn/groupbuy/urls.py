from django.urls import URLPattern

app_name = "groupbuy"
urlpatterns: list[URLPattern] = []
