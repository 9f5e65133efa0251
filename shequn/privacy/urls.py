from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("me/data/", views.my_data, name="my_data"),
    path("me/data/export/", views.export, name="export"),
    path("me/data/delete/code/", views.send_deletion_code, name="send_deletion_code"),
    path("me/data/delete/", views.delete_account, name="delete_account"),
    path("console/privacy/", views.console_requests, name="console_requests"),
]
