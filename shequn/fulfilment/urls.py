from django.urls import path

from . import views

app_name = "fulfilment"
urlpatterns = [
    path("console/fulfilment/", views.console_fulfilment, name="console_fulfilment"),
    path("console/fulfilment/summary/", views.console_summary, name="console_summary"),
    path(
        "console/fulfilment/campaigns/<int:campaign_id>/leaders/<int:leader_id>/pick-list/",
        views.console_pick_list,
        name="console_pick_list",
    ),
    path("console/fulfilment/slots/", views.console_slot_pick_lists, name="console_slot_pick_lists"),
    path("console/fulfilment/slots/<int:slot_id>/", views.console_slot_pick_list, name="console_slot_pick_list"),
    path(
        "console/orders/<int:order_id>/lines/<int:line_id>/weight/",
        views.console_record_weight,
        name="console_record_weight",
    ),
    path("console/fulfilment/settlements/", views.console_settlements, name="console_settlements"),
    path("console/fulfilment/settlements/<int:settlement_id>/", views.console_settlement, name="console_settlement"),
    path("leader/pick-lists/", views.leader_pick_lists, name="leader_pick_lists"),
    path("leader/receive/", views.leader_receive, name="leader_receive"),
    path("leader/verify/", views.leader_verify, name="leader_verify"),
    path("leader/verify/<str:token>/", views.leader_verify_token, name="leader_verify_token"),
    path("leader/commission/", views.leader_commission, name="leader_commission"),
    path("groupbuy/orders/<str:number>/pickup/", views.my_pickup, name="my_pickup"),
]
