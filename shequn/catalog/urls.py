from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:slug>/", views.shop_home, name="shop_home"),
    path("s/<slug:slug>/p/<int:product_id>/", views.product_detail, name="product_detail"),
    path("console/products/", views.console_products, name="console_products"),
    path("console/products/new/", views.console_product_new, name="console_product_new"),
    path("console/products/<int:product_id>/", views.console_product_edit, name="console_product_edit"),
    path("console/products/<int:product_id>/shelf/", views.console_product_shelf, name="console_product_shelf"),
    path("console/products/<int:product_id>/delete/", views.console_product_delete, name="console_product_delete"),
    path(
        "console/products/<int:product_id>/images/", views.console_product_image_add, name="console_product_image_add"
    ),
    path(
        "console/product-images/<int:image_id>/delete/",
        views.console_product_image_delete,
        name="console_product_image_delete",
    ),
    path("console/skus/<int:sku_id>/stock/", views.console_sku_stock, name="console_sku_stock"),
    path("console/categories/", views.console_categories, name="console_categories"),
    path("console/categories/<int:category_id>/", views.console_category_edit, name="console_category_edit"),
    path("console/collections/new/", views.console_collection_create, name="console_collection_create"),
    path("console/collections/<int:collection_id>/", views.console_collection, name="console_collection"),
]
