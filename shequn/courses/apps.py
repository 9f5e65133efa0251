from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "shequn.courses"
    label = "courses"
    verbose_name = "课程"

    def ready(self) -> None:
        from shequn.catalog.kinds import ProductKind, register

        from .rules import CourseRules

        register(ProductKind.COURSE, CourseRules())
