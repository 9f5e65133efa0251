from django.urls import path

from . import views

app_name = "gifts"
urlpatterns = [
    path("gifts/", views.mine, name="mine"),
    path("gifts/buy/", views.buy, name="buy"),
    path("gifts/claim/<str:token>/", views.claim, name="claim"),
]
