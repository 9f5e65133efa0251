from django.urls import path

from . import views

app_name = "content"
urlpatterns = [
    path("c/<int:community_id>/articles/", views.article_list, name="article_list"),
    path("c/<int:community_id>/articles/<int:article_id>/", views.article_detail, name="article_detail"),
    path("c/<int:community_id>/ask/", views.service_box, name="service_box"),
    path("console/content/", views.console_home, name="console_home"),
    path("console/content/communities/<int:community_id>/", views.console_community, name="console_community"),
    path(
        "console/content/communities/<int:community_id>/articles/new/",
        views.console_article_new,
        name="console_article_new",
    ),
    path("console/content/articles/<int:article_id>/", views.console_article_edit, name="console_article_edit"),
    path("console/content/articles/<int:article_id>/push/", views.console_article_push, name="console_article_push"),
    path("console/content/calendar/", views.console_calendar, name="console_calendar"),
    path("console/content/pushes/", views.console_push_jobs, name="console_push_jobs"),
    path(
        "console/content/communities/<int:community_id>/keywords/",
        views.console_keywords,
        name="console_keywords",
    ),
    path(
        "console/content/keywords/<int:rule_id>/",
        views.console_keyword_update,
        name="console_keyword_update",
    ),
    path(
        "console/content/keywords/<int:rule_id>/delete/",
        views.console_keyword_delete,
        name="console_keyword_delete",
    ),
    path(
        "console/content/communities/<int:community_id>/settings/",
        views.console_settings,
        name="console_settings",
    ),
]
