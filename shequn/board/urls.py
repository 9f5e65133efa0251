from django.urls import path

from . import views

app_name = "board"
urlpatterns = [
    path("c/<int:community_id>/board/", views.board_home, name="board_home"),
    path("c/<int:community_id>/board/new/", views.thread_new, name="thread_new"),
    path("c/<int:community_id>/board/t/<int:thread_id>/", views.thread_detail, name="thread_detail"),
    path("c/<int:community_id>/board/t/<int:thread_id>/comments/", views.thread_comment, name="thread_comment"),
    path("c/<int:community_id>/board/t/<int:thread_id>/like/", views.thread_like, name="thread_like"),
    path("c/<int:community_id>/board/t/<int:thread_id>/report/", views.thread_report, name="thread_report"),
    path("c/<int:community_id>/board/t/<int:thread_id>/flags/", views.thread_flags, name="thread_flags"),
    path("console/board/", views.console_board, name="console_board"),
    path("console/board/reports/", views.console_reports, name="console_reports"),
    path("console/board/reports/<int:report_id>/", views.console_report_moderate, name="console_report_moderate"),
    path("console/board/communities/<int:community_id>/", views.console_community, name="console_community"),
    path(
        "console/board/communities/<int:community_id>/categories/",
        views.console_category_create,
        name="console_category_create",
    ),
    path(
        "console/board/communities/<int:community_id>/settings/",
        views.console_settings,
        name="console_settings",
    ),
    path("console/board/categories/<int:category_id>/", views.console_category_update, name="console_category_update"),
    path("console/board/threads/<int:thread_id>/", views.console_thread, name="console_thread"),
    path("console/board/threads/<int:thread_id>/flags/", views.console_thread_flags, name="console_thread_flags"),
    path("console/board/threads/<int:thread_id>/hidden/", views.console_thread_hidden, name="console_thread_hidden"),
    path(
        "console/board/comments/<int:comment_id>/hidden/", views.console_comment_hidden, name="console_comment_hidden"
    ),
]
