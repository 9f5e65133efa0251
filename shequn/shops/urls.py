from django.urls import path

app_name = "shops"
urlpatterns: list = []
_ = path
