"""Platform staff may look at leader rows in the Django admin; operators use the console."""

from django.contrib import admin

from .models import Leader


@admin.register(Leader)
class LeaderAdmin(admin.ModelAdmin):
    list_display = ["point_name", "user", "shop", "community", "sub_group", "status", "commission_rate_bp"]
    list_filter = ["status"]
    search_fields = ["point_name", "point_address", "user__nickname"]
    raw_id_fields = ["user", "community", "sub_group", "pickup_point", "decided_by"]
