from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "shequn.courses"
    label = "courses"
    verbose_name = "课程"
