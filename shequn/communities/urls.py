from django.urls import path

from . import views

app_name = "communities"
urlpatterns = [
    path("c/", views.my_communities, name="my_communities"),
    path("c/join/<str:invite_code>/", views.join, name="join"),
    path("c/discover/<slug:shop_slug>/", views.discover, name="discover"),
    path("c/<int:community_id>/", views.community_home, name="community_home"),
    path("c/<int:community_id>/posts/<int:post_id>/", views.post_detail, name="post_detail"),
    path("c/<int:community_id>/invite.svg", views.invite_qr, name="invite_qr"),
    path("c/<int:community_id>/poster/", views.my_poster, name="my_poster"),
    path("c/<int:community_id>/poster.png", views.my_poster_png, name="my_poster_png"),
    path("c/<int:community_id>/groups/", views.sub_groups, name="sub_groups"),
    path("c/<int:community_id>/manage/", views.manage_members, name="manage_members"),
    path("console/communities/<int:community_id>/members/", views.console_members, name="console_members"),
    path(
        "console/communities/<int:community_id>/members/<int:user_id>/sub-group-admin/",
        views.console_sub_group_admin,
        name="console_sub_group_admin",
    ),
    path(
        "console/communities/<int:community_id>/members/<int:user_id>/<slug:action>/",
        views.console_member_action,
        name="console_member_action",
    ),
    path("console/communities/<int:community_id>/tags/", views.console_tags, name="console_tags"),
    path("console/communities/<int:community_id>/channels/", views.console_channels, name="console_channels"),
    path("console/channels/<int:channel_id>/qr.svg", views.console_channel_qr, name="console_channel_qr"),
    path("console/channels/<int:channel_id>/poster.png", views.console_channel_poster, name="console_channel_poster"),
    path("console/communities/<int:community_id>/sub-groups/", views.console_sub_groups, name="console_sub_groups"),
    path("console/communities/<int:community_id>/membership/", views.console_membership, name="console_membership"),
    path("console/communities/<int:community_id>/windows/", views.console_window_add, name="console_window_add"),
    path("console/windows/<int:window_id>/delete/", views.console_window_delete, name="console_window_delete"),
    path(
        "console/communities/<int:community_id>/join-requests/",
        views.console_join_requests,
        name="console_join_requests",
    ),
    path(
        "console/join-requests/<int:request_id>/<slug:decision>/",
        views.console_join_request_decide,
        name="console_join_request_decide",
    ),
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
