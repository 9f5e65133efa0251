from django.urls import path

from . import views

app_name = "courses"
urlpatterns = [
    path("c/<int:community_id>/courses/", views.course_list, name="course_list"),
    path("c/<int:community_id>/courses/<int:course_id>/", views.course_detail, name="course_detail"),
    path("c/<int:community_id>/courses/<int:course_id>/enrol/", views.course_enrol, name="course_enrol"),
    path(
        "c/<int:community_id>/courses/<int:course_id>/lessons/<int:lesson_id>/",
        views.lesson_detail,
        name="lesson_detail",
    ),
    path(
        "c/<int:community_id>/courses/<int:course_id>/lessons/<int:lesson_id>/done/",
        views.lesson_done,
        name="lesson_done",
    ),
    path(
        "c/<int:community_id>/courses/<int:course_id>/lessons/<int:lesson_id>/audio/",
        views.lesson_audio,
        name="lesson_audio",
    ),
    path("console/courses/", views.console_courses, name="console_courses"),
    path("console/courses/new/", views.console_course_new, name="console_course_new"),
    path("console/courses/<int:course_id>/", views.console_course, name="console_course"),
    path("console/courses/<int:course_id>/delete/", views.console_course_delete, name="console_course_delete"),
    path("console/courses/<int:course_id>/lessons/new/", views.console_lesson_new, name="console_lesson_new"),
    path("console/courses/<int:course_id>/cohorts/", views.console_cohort_create, name="console_cohort_create"),
    path("console/courses/<int:course_id>/enrolments/", views.console_enrolments, name="console_enrolments"),
    path("console/courses/lessons/<int:lesson_id>/", views.console_lesson, name="console_lesson"),
    path("console/courses/lessons/<int:lesson_id>/move/", views.console_lesson_move, name="console_lesson_move"),
    path("console/courses/lessons/<int:lesson_id>/delete/", views.console_lesson_delete, name="console_lesson_delete"),
    path("console/courses/cohorts/<int:cohort_id>/", views.console_cohort_update, name="console_cohort_update"),
    path("console/courses/cohorts/<int:cohort_id>/delete/", views.console_cohort_delete, name="console_cohort_delete"),
]
