from django.urls import path

from . import views

app_name = "coupons"
urlpatterns = [
    path("coupons/", views.claim_centre, name="centre"),
    path("coupons/mine/", views.my_coupons, name="mine"),
    path("coupons/<int:template_id>/claim/", views.claim, name="claim"),
    path("console/coupons/", views.console_templates, name="console_templates"),
    path("console/coupons/new/", views.console_create, name="console_create"),
    path("console/coupons/<int:template_id>/", views.console_template, name="console_template"),
    path("console/coupons/<int:template_id>/edit/", views.console_edit, name="console_edit"),
    path("console/coupons/<int:template_id>/issue/", views.console_issue, name="console_issue"),
    path("console/coupons/<int:template_id>/post/", views.console_post_card, name="console_post_card"),
]
