"""Platform staff may look at board rows in the Django admin; operators use the console."""

from django.contrib import admin

from .models import BoardCategory, BoardSettings, Report, Thread


@admin.register(BoardCategory)
class BoardCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "position", "is_active"]
    list_filter = ["is_active"]


@admin.register(BoardSettings)
class BoardSettingsAdmin(admin.ModelAdmin):
    list_display = ["community", "max_promotional_threads_per_day"]


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["title", "community", "author", "is_promotional", "is_pinned", "is_featured", "is_hidden"]
    list_filter = ["is_promotional", "is_pinned", "is_featured", "is_hidden"]
    search_fields = ["title"]
    raw_id_fields = ["author", "community", "category", "shop"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["reason", "thread", "comment", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["thread", "comment", "reporter", "resolved_by", "community", "shop"]
