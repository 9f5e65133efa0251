from django.urls import path

from . import views

app_name = "groupbuy"
urlpatterns = [
    path("groupbuy/campaigns/", views.open_campaigns, name="open_campaigns"),
    path("groupbuy/campaigns/<int:campaign_id>/", views.campaign_page, name="campaign"),
    path("groupbuy/campaigns/<int:campaign_id>/list/", views.live_list_fragment, name="live_list"),
    path("groupbuy/campaigns/<int:campaign_id>/sign-up/", views.sign_up_submit, name="sign_up"),
    path("groupbuy/tickets/<str:ticket>/", views.ticket_page, name="ticket"),
    path("groupbuy/mine/", views.my_group_buys, name="mine"),
    path("groupbuy/mine/<int:sign_up_id>/change/", views.change_submit, name="change"),
    path("groupbuy/mine/<int:sign_up_id>/cancel/", views.cancel_submit, name="cancel"),
    path("leader/campaigns/", views.leader_campaigns, name="leader_campaigns"),
    path("leader/campaigns/new/", views.leader_create, name="leader_create"),
    path("leader/campaigns/<int:campaign_id>/", views.leader_campaign, name="leader_campaign"),
    path("console/groupbuy/", views.console_campaigns, name="console_campaigns"),
    path("console/groupbuy/new/", views.console_create, name="console_create"),
    path("console/groupbuy/<int:campaign_id>/", views.console_campaign, name="console_campaign"),
    path("console/groupbuy/<int:campaign_id>/edit/", views.console_edit, name="console_edit"),
    path("console/groupbuy/<int:campaign_id>/publish/", views.console_publish, name="console_publish"),
    path("console/groupbuy/<int:campaign_id>/cancel/", views.console_cancel, name="console_cancel"),
]
