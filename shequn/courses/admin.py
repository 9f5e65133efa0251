"""Platform staff may look at course rows in the Django admin; operators use the console."""

from django.contrib import admin

from .models import Cohort, Course, Enrolment, Lesson


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "community", "access", "price_fen", "status"]
    list_filter = ["access", "status"]
    search_fields = ["title"]
    raw_id_fields = ["shop", "community", "product", "created_by"]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position", "kind"]
    raw_id_fields = ["course"]
    readonly_fields = ["body"]  # the console sanitises bodies


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "starts_at", "ends_at", "capacity", "seats_taken"]
    raw_id_fields = ["course", "sku"]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["course", "user", "cohort", "source", "status", "enrolled_at"]
    list_filter = ["source", "status"]
    raw_id_fields = ["course", "user", "cohort"]
