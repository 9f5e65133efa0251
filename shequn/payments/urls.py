from django.urls import path

app_name = "payments"
urlpatterns: list = []
_ = path
