"""Catalog API: public shop-front reads, and operator endpoints under /console/ scoped to the caller's shop."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from shequn.core.audit import client_ip
from shequn.core.errors import InvalidInput
from shequn.core.schemas import Id, Page, PageQuery, SearchText, Text, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_CATALOG
from shequn.shops.selectors import access_shop_by_slug

from . import actions, selectors
from .actions import ProductInput, SkuInput
from .schemas import (
    CategoryIn,
    CategoryOut,
    CollectionIn,
    CollectionOut,
    CollectionProductsIn,
    ConsoleProductOut,
    ConsoleSkuOut,
    ImageOut,
    ProductIn,
    ProductOut,
    ProductSummaryOut,
    ShelfIn,
    StockIn,
)

router = Router(tags=["catalog"])
console = Router(tags=["catalog console"])

# 403: the platform suspended or closed the shop (shop_suspended, shop_closed).
PUBLIC_ERRORS = error_responses(403, 404, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)


class ProductFilters(PageQuery):
    q: SearchText | None = None  # name, full pinyin ("sanwenyu") or initials ("swy")
    category_id: Id | None = None
    collection: Text | None = Field(None, max_length=64)  # a collection slug


class ConsoleProductFilters(PageQuery):
    q: SearchText | None = None
    category_id: Id | None = None
    on_shelf: bool | None = None


def _collection_out(collection: object, on_shelf_only: bool) -> CollectionOut:
    ids = [p.pk for p in selectors.collection_products(collection, on_shelf_only=on_shelf_only)]  # type: ignore[arg-type]
    return CollectionOut.from_model(collection, ids)  # type: ignore[arg-type]


# --- public shop front -------------------------------------------------------------


@router.get("/shops/{slug}/categories", response={200: list[CategoryOut], **PUBLIC_ERRORS}, auth=None)
def shop_categories(request: HttpRequest, slug: Text) -> list[CategoryOut]:
    shop = access_shop_by_slug(slug)
    return [CategoryOut.from_model(c) for c in selectors.shop_categories(shop)]


@router.get("/shops/{slug}/collections", response={200: list[CollectionOut], **PUBLIC_ERRORS}, auth=None)
def shop_collections(request: HttpRequest, slug: Text) -> list[CollectionOut]:
    shop = access_shop_by_slug(slug)
    return [_collection_out(c, on_shelf_only=True) for c in selectors.shop_collections(shop)]


@router.get("/shops/{slug}/products", response={200: Page[ProductSummaryOut], **PUBLIC_ERRORS}, auth=None)
def shop_products(request: HttpRequest, slug: Text, filters: Query[ProductFilters]) -> dict:
    shop = access_shop_by_slug(slug)
    products = selectors.shelf_products(
        shop, query=filters.q, category_id=filters.category_id, collection_slug=filters.collection
    )
    page = paginate(products, filters.page, filters.page_size)
    selectors.attach_shelf_details(shop, page["items"])
    page["items"] = [ProductSummaryOut.from_parts(p, p.from_sku, p.cover) for p in page["items"]]
    return page


@router.get("/shops/{slug}/products/{product_id}", response={200: ProductOut, **PUBLIC_ERRORS}, auth=None)
def shop_product(request: HttpRequest, slug: Text, product_id: Id) -> ProductOut:
    shop = access_shop_by_slug(slug)
    return ProductOut.from_model(selectors.access_shelf_product(shop, product_id))


# --- operator console ----------------------------------------------------------------


def _product_input(body: ProductIn) -> ProductInput:
    return ProductInput(
        title=body.title,
        subtitle=body.subtitle,
        description=body.description,
        category_id=body.category_id,
        returnable=body.returnable,
        per_person_cap=body.per_person_cap,
        position=body.position,
    )


def _sku_inputs(body: ProductIn) -> list[SkuInput] | None:
    if body.skus is None:
        return None
    return [SkuInput(**row.model_dump()) for row in body.skus]


@console.get("/products", response={200: Page[ConsoleProductOut], **CONSOLE_ERRORS})
def console_products(request: HttpRequest, filters: Query[ConsoleProductFilters]) -> dict:
    shop = api_console_shop(request, MANAGE_CATALOG)
    products = selectors.console_products(
        shop, query=filters.q, category_id=filters.category_id, on_shelf=filters.on_shelf
    )
    page = paginate(products, filters.page, filters.page_size)
    page["items"] = [ConsoleProductOut.from_model(p) for p in page["items"]]
    return page


@console.post("/products", response={201: ConsoleProductOut, **CONSOLE_ERRORS})
def console_create_product(request: HttpRequest, body: ProductIn) -> Status[ConsoleProductOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    product = actions.do_create_product(
        shop,
        _product_input(body),
        _sku_inputs(body) or [],
        on_shelf=body.on_shelf,
        actor=request.user,
        ip=client_ip(request),
    )
    return Status(201, ConsoleProductOut.from_model(selectors.access_product(shop, product.pk)))


@console.get("/products/{product_id}", response={200: ConsoleProductOut, **CONSOLE_ERRORS})
def console_product(request: HttpRequest, product_id: Id) -> ConsoleProductOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return ConsoleProductOut.from_model(selectors.access_product(shop, product_id))


@console.put("/products/{product_id}", response={200: ConsoleProductOut, **CONSOLE_ERRORS})
def console_update_product(request: HttpRequest, product_id: Id, body: ProductIn) -> ConsoleProductOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    product = selectors.access_product(shop, product_id)
    product = actions.do_update_product(
        shop, product, _product_input(body), _sku_inputs(body), actor=request.user, ip=client_ip(request)
    )
    return ConsoleProductOut.from_model(product)


@console.delete("/products/{product_id}", response={204: None, **error_responses(401, 403, 404, 409, 422)})
def console_delete_product(request: HttpRequest, product_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.do_delete_product(
        shop, selectors.access_product(shop, product_id), actor=request.user, ip=client_ip(request)
    )
    return Status(204, None)


@console.post("/products/{product_id}/shelf", response={200: ConsoleProductOut, **CONSOLE_ERRORS})
def console_set_shelf(request: HttpRequest, product_id: Id, body: ShelfIn) -> ConsoleProductOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    product = selectors.access_product(shop, product_id)
    actions.do_set_shelf(shop, product, body.on_shelf, actor=request.user, ip=client_ip(request))
    return ConsoleProductOut.from_model(selectors.access_product(shop, product_id))


@console.post("/products/{product_id}/images", response={201: ImageOut, **CONSOLE_ERRORS})
def console_add_image(request: HttpRequest, product_id: Id, image: File[UploadedFile]) -> Status[ImageOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    product = selectors.access_product(shop, product_id)
    row = actions.do_add_image(shop, product, image, actor=request.user, ip=client_ip(request))
    return Status(201, ImageOut.from_model(row))


@console.delete("/images/{image_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_image(request: HttpRequest, image_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.do_delete_image(shop, selectors.access_image(shop, image_id), actor=request.user, ip=client_ip(request))
    return Status(204, None)


@console.post("/skus/{sku_id}/stock", response={200: ConsoleSkuOut, **CONSOLE_ERRORS})
def console_stock(request: HttpRequest, sku_id: Id, body: StockIn) -> ConsoleSkuOut:
    """Set (``set_to``) or adjust (``delta``) a SKU's stock; exactly one of them."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    sku = selectors.access_sku(shop, sku_id)
    if (body.set_to is None) == (body.delta is None):
        raise InvalidInput(_("请只提供 set_to 或 delta 之一"), code="stock_mode_required")
    if body.set_to is not None:
        sku = actions.do_set_stock(shop, sku, body.set_to, actor=request.user, ip=client_ip(request))
    else:
        sku = actions.do_adjust_stock(
            shop, sku, body.delta or 0, actor=request.user, ip=client_ip(request), reason=body.reason
        )
    return ConsoleSkuOut.from_model(sku)


@console.get("/categories", response={200: list[CategoryOut], **CONSOLE_ERRORS})
def console_categories(request: HttpRequest) -> list[CategoryOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return [CategoryOut.from_model(c) for c in selectors.shop_categories(shop)]


@console.post("/categories", response={201: CategoryOut, **CONSOLE_ERRORS})
def console_create_category(request: HttpRequest, body: CategoryIn) -> Status[CategoryOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    category = actions.do_create_category(shop, body.name, body.position, actor=request.user, ip=client_ip(request))
    return Status(201, CategoryOut.from_model(category))


@console.put("/categories/{category_id}", response={200: CategoryOut, **CONSOLE_ERRORS})
def console_update_category(request: HttpRequest, category_id: Id, body: CategoryIn) -> CategoryOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    category = selectors.access_category(shop, category_id)
    category = actions.do_update_category(
        shop, category, body.name, body.position, actor=request.user, ip=client_ip(request)
    )
    return CategoryOut.from_model(category)


@console.delete("/categories/{category_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_category(request: HttpRequest, category_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    category = selectors.access_category(shop, category_id)
    actions.do_delete_category(shop, category, actor=request.user, ip=client_ip(request))
    return Status(204, None)


@console.get("/collections", response={200: list[CollectionOut], **CONSOLE_ERRORS})
def console_collections(request: HttpRequest) -> list[CollectionOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return [_collection_out(c, on_shelf_only=False) for c in selectors.shop_collections(shop)]


@console.post("/collections", response={201: CollectionOut, **CONSOLE_ERRORS})
def console_create_collection(request: HttpRequest, body: CollectionIn) -> Status[CollectionOut]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    collection = actions.do_create_collection(
        shop, body.name, body.slug, body.position, actor=request.user, ip=client_ip(request)
    )
    return Status(201, _collection_out(collection, on_shelf_only=False))


@console.put("/collections/{collection_id}", response={200: CollectionOut, **CONSOLE_ERRORS})
def console_update_collection(request: HttpRequest, collection_id: Id, body: CollectionIn) -> CollectionOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    collection = selectors.access_collection(shop, collection_id)
    actions.do_update_collection(
        shop, collection, body.name, body.slug, body.position, actor=request.user, ip=client_ip(request)
    )
    return _collection_out(collection, on_shelf_only=False)


@console.put("/collections/{collection_id}/products", response={200: CollectionOut, **CONSOLE_ERRORS})
def console_collection_products(request: HttpRequest, collection_id: Id, body: CollectionProductsIn) -> CollectionOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    collection = selectors.access_collection(shop, collection_id)
    actions.do_set_collection_products(shop, collection, body.product_ids, actor=request.user, ip=client_ip(request))
    return _collection_out(collection, on_shelf_only=False)


@console.delete("/collections/{collection_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_collection(request: HttpRequest, collection_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    collection = selectors.access_collection(shop, collection_id)
    actions.do_delete_collection(shop, collection, actor=request.user, ip=client_ip(request))
    return Status(204, None)


router.add_router("/console", console)
