"""Platform staff may look at content rows in the Django admin; operators use the console.

Article bodies are edited in the console (which sanitises them), so they are read-only here.
"""

from django.contrib import admin

from .models import Article, ContentSettings, KeywordRule, PushJob


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "community", "status", "publish_at", "published_at", "push_enabled"]
    list_filter = ["status", "push_enabled"]
    search_fields = ["title"]
    readonly_fields = ["body", "status", "published_at"]


@admin.register(PushJob)
class PushJobAdmin(admin.ModelAdmin):
    list_display = ["article", "community", "status", "total", "sent", "skipped_by_cap", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "total", "sent", "skipped_by_cap", "last_user_id", "heartbeat_at"]


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    list_display = ["keyword", "match_type", "community", "is_active"]
    list_filter = ["match_type", "is_active"]


@admin.register(ContentSettings)
class ContentSettingsAdmin(admin.ModelAdmin):
    list_display = ["community", "max_pushes_per_day"]
