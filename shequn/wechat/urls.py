from django.urls import path

from . import views

app_name = "wechat"
urlpatterns = [
    path("wechat/oauth/start/", views.oauth_start, name="oauth_start"),
    path("wechat/oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("me/wechat/unbind/", views.unbind, name="unbind"),
]
