"""Platform staff read the log of every data request in the Django admin (the platform console's
fallback); it is an audit trail, so nobody edits or deletes its rows there."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import DataRequest


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "member_masked", "kind", "export_format", "outcome", "note"]
    list_filter = ["kind", "outcome"]
    search_fields = ["member_masked"]
    fields = readonly_fields = ("created_at", "member_masked", "kind", "export_format", "outcome", "note", "shops")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
