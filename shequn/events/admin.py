"""Platform staff may look at events in the Django admin (read-only: seats and waitlist places
move only through the events actions); operators use the console."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Event, Registration


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["title", "shop", "community", "starts_at", "status", "capacity", "confirmed_count", "price_fen"]
    list_filter = ["status"]
    search_fields = ["title", "venue"]


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ["event", "user", "status", "position", "order_id", "checked_in_at", "created_at"]
    list_filter = ["status"]
    exclude = ["checkin_token"]  # the ticket's secret stays off screens that do not need it
