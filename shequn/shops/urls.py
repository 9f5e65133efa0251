from django.urls import path

from . import views

app_name = "shops"
urlpatterns = [
    path("console/staff/", views.console_staff, name="console_staff"),
    path("console/staff/add/", views.console_staff_add, name="console_staff_add"),
    path("console/staff/<int:staff_id>/role/", views.console_staff_role, name="console_staff_role"),
    path("console/staff/<int:staff_id>/deactivate/", views.console_staff_deactivate, name="console_staff_deactivate"),
    path("console/audit/", views.console_audit, name="console_audit"),
    path("console/pickup-points/", views.console_pickup_points, name="console_pickup_points"),
    path(
        "console/pickup-points/<int:pickup_point_id>/",
        views.console_pickup_point_edit,
        name="console_pickup_point_edit",
    ),
    path(
        "console/pickup-points/<int:pickup_point_id>/active/",
        views.console_pickup_point_toggle,
        name="console_pickup_point_toggle",
    ),
    path("console/delivery-slots/", views.console_delivery_slots, name="console_delivery_slots"),
    path(
        "console/delivery-slots/required/",
        views.console_delivery_slots_required,
        name="console_delivery_slots_required",
    ),
    path("console/delivery-slots/<int:slot_id>/", views.console_delivery_slot_edit, name="console_delivery_slot_edit"),
    path(
        "console/delivery-slots/<int:slot_id>/open/",
        views.console_delivery_slot_open,
        name="console_delivery_slot_open",
    ),
    path("console/settings/", views.console_settings, name="console_settings"),
    path("console/switch-shop/", views.console_switch_shop, name="console_switch_shop"),
]
