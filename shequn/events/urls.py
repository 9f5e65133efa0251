from django.urls import path

from . import views

app_name = "events"
urlpatterns = [
    path("c/<int:community_id>/events/", views.community_events, name="community_events"),
    path("c/<int:community_id>/events/<int:event_id>/", views.event_detail, name="event_detail"),
    path("c/<int:community_id>/events/<int:event_id>/rsvp/", views.event_rsvp, name="event_rsvp"),
    path("c/<int:community_id>/events/<int:event_id>/cancel/", views.event_cancel, name="event_cancel"),
    path("c/<int:community_id>/events/<int:event_id>/ticket.svg", views.ticket_qr, name="ticket_qr"),
    path("me/events/", views.my_events, name="my_events"),
    path("console/events/", views.console_events, name="console_events"),
    path("console/events/new/", views.console_event_new, name="console_event_new"),
    path("console/events/<int:event_id>/", views.console_event, name="console_event"),
    path("console/events/<int:event_id>/edit/", views.console_event_edit, name="console_event_edit"),
    path("console/events/<int:event_id>/publish/", views.console_event_publish, name="console_event_publish"),
    path("console/events/<int:event_id>/cancel/", views.console_event_cancel, name="console_event_cancel"),
    path("console/events/<int:event_id>/checkin/", views.console_checkin, name="console_checkin"),
    path("console/events/checkin/<str:token>/", views.console_checkin_token, name="console_checkin_token"),
]
