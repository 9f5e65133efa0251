from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.member_login, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("console/login/", views.console_login, name="console_login"),
    path("me/", views.me, name="me"),
    path("language/", views.set_language, name="set_language"),
    path("me/addresses/", views.address_list, name="addresses"),
    path("me/addresses/new/", views.address_new, name="address_new"),
    path("me/addresses/<int:address_id>/", views.address_edit, name="address_edit"),
    path("me/addresses/<int:address_id>/default/", views.address_set_default, name="address_set_default"),
    path("me/addresses/<int:address_id>/delete/", views.address_delete, name="address_delete"),
    path("regions/<str:code>/", views.regions, name="regions"),
]
