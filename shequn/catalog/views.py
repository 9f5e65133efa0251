"""Member shop pages and console pages for the catalog. Thin: parse, call one action, render."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import InvalidInput
from shequn.core.pages import int_or_none
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_CATALOG
from shequn.shops.selectors import access_shop_by_slug, shop_directory

from . import actions, selectors
from .forms import ProductForm, SkuFormSet
from .models import Product

PAGE_SIZE = 20


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(items, size).get_page(request.GET.get("page"))


# --- members -----------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The site root: the one shop of a single-shop deployment, else a directory of shops."""
    shops = list(shop_directory()[:51])
    if len(shops) == 1:
        return redirect("catalog:shop_home", slug=shops[0].slug)
    return render(request, "catalog/home.html", {"shops": shops[:50]})


@require_GET
def shop_home(request: HttpRequest, slug: str) -> HttpResponse:
    shop = access_shop_by_slug(slug)
    query = (request.GET.get("q") or "").strip()[:60]
    category_id = int_or_none(request.GET.get("category"))
    collection_slug = (request.GET.get("collection") or "").strip()[:64] or None
    products = selectors.shelf_products(shop, query=query, category_id=category_id, collection_slug=collection_slug)
    filtering = bool(query or category_id or collection_slug)
    shelves = []
    if not filtering and (request.GET.get("page") or "1") == "1":
        shelves = selectors.collection_shelves(shop, 6)
    page_obj = _page(request, products)
    page_obj.object_list = list(page_obj.object_list)
    selectors.attach_shelf_details(shop, [*page_obj.object_list, *(p for _, shelf in shelves for p in shelf)])
    return render(
        request,
        "catalog/shop_home.html",
        {
            "shop": shop,
            "query": query,
            "category_id": category_id,
            "collection_slug": collection_slug,
            "categories": selectors.shop_categories(shop),
            "collections": [{"collection": collection, "products": products} for collection, products in shelves],
            "page_obj": page_obj,
            "filtering": filtering,
        },
    )


@require_GET
def product_detail(request: HttpRequest, slug: str, product_id: int) -> HttpResponse:
    shop = access_shop_by_slug(slug)
    product = selectors.access_shelf_product(shop, product_id)
    skus = selectors.active_skus(product)
    default_sku = next((sku for sku in skus if sku.stock > 0), skus[0] if skus else None)
    post_id = int_or_none(request.GET.get("post"))
    return render(
        request,
        "catalog/product_detail.html",
        {
            "shop": shop,
            "product": product,
            "skus": [{"sku": sku, "stock_label": selectors.stock_label(sku.stock)} for sku in skus],
            "default_sku": default_sku,
            "images": list(product.images.all()),
            "post_id": post_id,
            "article_id": int_or_none(request.GET.get("article")),
            "sold_out": not any(sku.stock > 0 for sku in skus),
        },
    )


# --- console -----------------------------------------------------------------------


@console_view(MANAGE_CATALOG)
@require_GET
def console_products(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    query = (request.GET.get("q") or "").strip()[:60]
    category_id = int_or_none(request.GET.get("category"))
    shelf = request.GET.get("shelf") or ""
    on_shelf = {"on": True, "off": False}.get(shelf)
    products = selectors.console_products(shop, query=query, category_id=category_id, on_shelf=on_shelf)
    return render(
        request,
        "catalog/console/products.html",
        {
            "page_obj": _page(request, products),
            "query": query,
            "category_id": category_id,
            "shelf": shelf,
            "categories": selectors.shop_categories(shop),
        },
    )


def _product_form_page(request: HttpRequest, product: Product | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    categories = list(selectors.shop_categories(shop))
    status = 200
    if request.method == "POST":
        form = ProductForm(request.POST, categories=categories)
        formset = SkuFormSet(request.POST, prefix="sku")
        if form.is_valid() and formset.is_valid():
            try:
                rows = [row.to_input() for row in formset.forms if row.cleaned_data and not row.is_blank()]
                data = form.to_input()
                if product is None:
                    product = actions.do_create_product(
                        shop,
                        data,
                        rows,
                        on_shelf=request.POST.get("on_shelf") == "1",
                        actor=request.user,
                        ip=client_ip(request),
                    )
                    messages.success(request, _("已创建商品「%(title)s」") % {"title": product.title})
                else:
                    actions.do_update_product(shop, product, data, rows, actor=request.user, ip=client_ip(request))
                    messages.success(request, _("已保存"))
                return redirect("catalog:console_product_edit", product_id=product.pk)
            except (InvalidInput, forms.ValidationError) as error:
                form.add_error(None, getattr(error, "message", None) or "; ".join(error.messages))  # type: ignore[union-attr]
        status = 422
    elif product is not None:
        form = ProductForm(
            initial={
                "title": product.title,
                "subtitle": product.subtitle,
                "description": product.description,
                "category": product.category_id or "",
                "returnable": product.returnable,
                "per_person_cap": product.per_person_cap,
                "position": product.position,
            },
            categories=categories,
        )
        formset = SkuFormSet(
            prefix="sku",
            initial=[
                {
                    "id": sku.pk,
                    "spec": sku.spec,
                    "price": sku.price_fen,
                    "list_price": sku.list_price_fen,
                    "member_price": sku.member_price_fen,
                    "stock": sku.stock,
                    "weight_grams": sku.weight_grams,
                    "is_active": sku.is_active,
                    "pricing": sku.pricing,
                    "weight_price": sku.weight_price_fen,
                    "piece_name": sku.piece_name,
                }
                for sku in product.skus.all()
            ],
        )
    else:
        form = ProductForm(categories=categories)
        formset = SkuFormSet(prefix="sku")
    return render(
        request,
        "catalog/console/product_form.html",
        {
            "form": form,
            "formset": formset,
            "product": product,
            "images": list(product.images.all()) if product else [],
            "skus": list(product.skus.all()) if product else [],
            "collections": list(selectors.shop_collections(shop)),
        },
        status=status,
    )


@console_view(MANAGE_CATALOG)
def console_product_new(request: HttpRequest) -> HttpResponse:
    return _product_form_page(request, None)


@console_view(MANAGE_CATALOG)
def console_product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product = selectors.access_product(request.console_shop, product_id)  # type: ignore[attr-defined]
    return _product_form_page(request, product)


def _back_to_product(product_id: int) -> HttpResponse:
    return redirect("catalog:console_product_edit", product_id=product_id)


@console_view(MANAGE_CATALOG)
@require_POST
def console_product_shelf(request: HttpRequest, product_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    product = selectors.access_product(shop, product_id)
    on_shelf = request.POST.get("on_shelf") == "1"
    try:
        actions.do_set_shelf(shop, product, on_shelf, actor=request.user, ip=client_ip(request))
        messages.success(
            request, (_("「%(title)s」已上架") if on_shelf else _("「%(title)s」已下架")) % {"title": product.title}
        )
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect(request.POST.get("back") or reverse("catalog:console_product_edit", args=[product.pk]))


@console_view(MANAGE_CATALOG)
@require_POST
def console_product_delete(request: HttpRequest, product_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    product = selectors.access_product(shop, product_id)
    actions.do_delete_product(shop, product, actor=request.user, ip=client_ip(request))
    messages.success(request, _("已删除商品「%(title)s」") % {"title": product.title})
    return redirect("catalog:console_products")


@console_view(MANAGE_CATALOG)
@require_POST
def console_sku_stock(request: HttpRequest, sku_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    sku = selectors.access_sku(shop, sku_id)
    value = int_or_none(request.POST.get("value"))
    try:
        if value is None:
            raise InvalidInput(_("请输入整数数量"), code="invalid_quantity")
        if request.POST.get("mode") == "set":
            actions.do_set_stock(shop, sku, value, actor=request.user, ip=client_ip(request))
        else:
            actions.do_adjust_stock(
                shop, sku, value, actor=request.user, ip=client_ip(request), reason=request.POST.get("reason") or ""
            )
        messages.success(request, _("「%(spec)s」库存已更新为 %(stock)s") % {"spec": sku.spec, "stock": sku.stock})
    except InvalidInput as error:
        messages.error(request, error.message)
    return _back_to_product(sku.product_id)


@console_view(MANAGE_CATALOG)
@require_POST
def console_product_image_add(request: HttpRequest, product_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    product = selectors.access_product(shop, product_id)
    upload = request.FILES.get("image")
    try:
        if upload is None:
            raise InvalidInput(_("请选择要上传的图片"), code="image_required")
        actions.do_add_image(shop, product, upload, actor=request.user, ip=client_ip(request))
        messages.success(request, _("图片已上传"))
    except InvalidInput as error:
        messages.error(request, error.message)
    return _back_to_product(product.pk)


@console_view(MANAGE_CATALOG)
@require_POST
def console_product_image_delete(request: HttpRequest, image_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    image = selectors.access_image(shop, image_id)
    product_id = image.product_id
    actions.do_delete_image(shop, image, actor=request.user, ip=client_ip(request))
    messages.success(request, _("图片已删除"))
    return _back_to_product(product_id)


@console_view(MANAGE_CATALOG)
def console_categories(request: HttpRequest) -> HttpResponse:
    """Categories and collections on one page; this URL creates categories on POST."""
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            actions.do_create_category(
                shop,
                request.POST.get("name") or "",
                int_or_none(request.POST.get("position")) or 0,
                actor=request.user,
                ip=client_ip(request),
            )
            messages.success(request, _("分类已添加"))
        except InvalidInput as error:
            messages.error(request, error.message)
        return redirect("catalog:console_categories")
    collections = [
        {"collection": c, "count": c.collectionproduct_set.count()} for c in selectors.shop_collections(shop)
    ]
    return render(
        request,
        "catalog/console/categories.html",
        {"categories": selectors.shop_categories(shop), "collections": collections},
    )


@console_view(MANAGE_CATALOG)
@require_POST
def console_category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    category = selectors.access_category(shop, category_id)
    try:
        if request.POST.get("op") == "delete":
            actions.do_delete_category(shop, category, actor=request.user, ip=client_ip(request))
            messages.success(request, _("已删除分类「%(name)s」") % {"name": category.name})
        else:
            actions.do_update_category(
                shop,
                category,
                request.POST.get("name") or "",
                int_or_none(request.POST.get("position")) or 0,
                actor=request.user,
                ip=client_ip(request),
            )
            messages.success(request, _("分类已保存"))
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect("catalog:console_categories")


@console_view(MANAGE_CATALOG)
@require_POST
def console_collection_create(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    try:
        collection = actions.do_create_collection(
            shop,
            request.POST.get("name") or "",
            request.POST.get("slug") or "",
            int_or_none(request.POST.get("position")) or 0,
            actor=request.user,
            ip=client_ip(request),
        )
        messages.success(request, _("已创建专题「%(name)s」") % {"name": collection.name})
        return redirect("catalog:console_collection", collection_id=collection.pk)
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect("catalog:console_categories")


@console_view(MANAGE_CATALOG)
def console_collection(request: HttpRequest, collection_id: int) -> HttpResponse:
    """One collection: rename, delete, add/remove/reorder products."""
    shop = request.console_shop  # type: ignore[attr-defined]
    collection = selectors.access_collection(shop, collection_id)
    if request.method == "POST":
        op = request.POST.get("op") or "update"
        ip = client_ip(request)
        try:
            if op == "delete":
                actions.do_delete_collection(shop, collection, actor=request.user, ip=ip)
                messages.success(request, _("已删除专题「%(name)s」") % {"name": collection.name})
                return redirect("catalog:console_categories")
            product_id = int_or_none(request.POST.get("product_id"))
            if op == "update":
                actions.do_update_collection(
                    shop,
                    collection,
                    request.POST.get("name") or "",
                    request.POST.get("slug") or "",
                    int_or_none(request.POST.get("position")) or 0,
                    actor=request.user,
                    ip=ip,
                )
            elif op == "add" and product_id:
                actions.do_add_to_collection(
                    shop, collection, selectors.access_product(shop, product_id), actor=request.user, ip=ip
                )
            elif op == "remove" and product_id:
                actions.do_remove_from_collection(shop, collection, product_id, actor=request.user, ip=ip)
            elif op in {"up", "down"} and product_id:
                actions.do_move_in_collection(
                    shop, collection, product_id, -1 if op == "up" else 1, actor=request.user, ip=ip
                )
            messages.success(request, _("已保存"))
        except InvalidInput as error:
            messages.error(request, error.message)
        return redirect("catalog:console_collection", collection_id=collection.pk)
    members = list(selectors.collection_products(collection, on_shelf_only=False))
    member_ids = {p.pk for p in members}
    candidates = [p for p in selectors.console_products(shop) if p.pk not in member_ids]
    return render(
        request,
        "catalog/console/collection.html",
        {"collection": collection, "products": members, "candidates": candidates},
    )
