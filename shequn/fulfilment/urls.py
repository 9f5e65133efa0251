from django.urls import URLPattern

app_name = "fulfilment"
urlpatterns: list[URLPattern] = []
