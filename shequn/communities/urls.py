from django.urls import path

from . import views

app_name = "communities"
urlpatterns = [
    path("c/", views.my_communities, name="my_communities"),
    path("c/join/<str:invite_code>/", views.join, name="join"),
    path("c/<int:community_id>/", views.community_home, name="community_home"),
    path("c/<int:community_id>/posts/<int:post_id>/", views.post_detail, name="post_detail"),
    path("c/<int:community_id>/invite.svg", views.invite_qr, name="invite_qr"),
    path("console/communities/", views.console_communities, name="console_communities"),
    path("console/communities/<int:community_id>/", views.console_community_detail, name="console_community_detail"),
    path(
        "console/communities/<int:community_id>/rotate-invite/",
        views.console_rotate_invite,
        name="console_rotate_invite",
    ),
    path("console/communities/<int:community_id>/posts/", views.console_post_create, name="console_post_create"),
    path("console/posts/<int:post_id>/publish/", views.console_post_publish, name="console_post_publish"),
    path("console/posts/<int:post_id>/delete/", views.console_post_delete, name="console_post_delete"),
]
