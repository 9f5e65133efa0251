from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CoursesConfig(AppConfig):
    name = "shequn.courses"
    label = "courses"
    verbose_name = gettext_lazy("课程")

    def ready(self) -> None:
        from shequn.catalog.kinds import ProductKind, register

        from .rules import CourseRules

        register(ProductKind.COURSE, CourseRules())
