"""Reads for the catalog.

Console reads go through ``access_*(shop, id)``: an id of another shop raises NotFound (404),
exactly like a missing one. Member reads only ever see on-shelf products.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.translation import gettext as _

from shequn.core.errors import NotFound
from shequn.shops.models import Shop

from .enums import LOW_STOCK_THRESHOLD
from .kinds import ProductKind
from .models import Category, Collection, Product, ProductImage, Sku
from .pinyin import normalise_query


def _skus_and_images() -> tuple[Prefetch, Prefetch]:
    return (
        Prefetch("skus", queryset=Sku.objects.order_by("position", "id")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )


def _with_details(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.select_related("category", "shop").prefetch_related(*_skus_and_images())


def attach_shelf_details(shop: Shop, products: Iterable[Product]) -> None:
    """Give shop-front products (``shelf_products``, ``collection_shelves``) what a product tile
    shows, worked out once here rather than in the template: ``cover`` (the first image),
    ``from_sku`` (the cheapest active SKU), ``several_skus``, ``url`` (its page) and ``shop``
    (the caller's: no join). Post cards (``communities.selectors.attach_post_cards``) use it too.
    Two queries for all the lists of a page together, read into plain lists: a prefetch into
    ``product.skus.all()`` builds a queryset per product, which cost more than the queries (about
    15 ms for 32 products, measured), and even a ``to_attr`` prefetch's own work was a tenth of the
    shop home's CPU time."""
    products = list(products)
    if not products:
        return
    # One reverse() for all the links (about 100 µs each, measured): the id is the last segment.
    before_id, after_id = reverse("catalog:product_detail", args=[shop.slug, 0]).rsplit("/0/", 1)
    ids = {product.pk for product in products}
    skus: dict[int, list[Sku]] = defaultdict(list)
    for sku in Sku.objects.filter(product_id__in=ids).order_by("position", "id"):
        skus[sku.product_id].append(sku)
    covers: dict[int, ProductImage] = {}
    for image in ProductImage.objects.filter(product_id__in=ids).order_by("position", "id"):
        covers.setdefault(image.product_id, image)
    for product in products:
        product.shop = shop
        product.from_sku = cheapest_sku(skus[product.pk])  # type: ignore[attr-defined]
        product.cover = covers.get(product.pk)  # type: ignore[attr-defined]
        product.several_skus = len(skus[product.pk]) > 1  # type: ignore[attr-defined]
        product.url = f"{before_id}/{product.pk}/{after_id}"  # type: ignore[attr-defined]


def search_products(products: QuerySet[Product], query: str | None) -> QuerySet[Product]:
    """Match the title, its full pinyin ("sanwenyu") or its initials ("swy")."""
    text = (query or "").strip()
    if not text:
        return products
    condition = Q(title__icontains=text)
    key = normalise_query(text)
    if key:
        condition |= Q(title_pinyin__contains=key) | Q(title_initials__contains=key)
    return products.filter(condition)


# --- console (staff of one shop) ---------------------------------------------------


def console_products(
    shop: Shop,
    *,
    query: str | None = None,
    category_id: int | None = None,
    on_shelf: bool | None = None,
) -> QuerySet[Product]:
    products = goods(shop)
    products = search_products(products, query)
    if category_id:
        products = products.filter(category_id=category_id)
    if on_shelf is not None:
        products = products.filter(on_shelf=on_shelf)
    return _with_details(products).order_by("position", "-id")


def goods(shop: Shop) -> QuerySet[Product]:
    """The shop's goods: what the catalog console manages and the shop front shows.

    Products of other kinds (a community fee, a course, a ticket) are managed by their app.
    """
    return Product.objects.filter(shop=shop, kind=ProductKind.GOODS)


def card_products(shop: Shop) -> QuerySet[Product]:
    """Products staff may put on a card in a post or an article: on-shelf goods of this shop."""
    return goods(shop).filter(on_shelf=True).order_by("position", "-id")


def access_product(shop: Shop, product_id: int, *, for_update: bool = False) -> Product:
    products = goods(shop).filter(pk=product_id)
    if for_update:
        products = products.select_for_update()
    product = _with_details(products).first() if not for_update else products.first()
    if product is None:
        raise NotFound(_("商品不存在"), code="product_not_found")
    return product


def access_sku(shop: Shop, sku_id: int) -> Sku:
    sku = Sku.objects.select_related("product").filter(shop=shop, pk=sku_id).first()
    if sku is None:
        raise NotFound(_("商品规格不存在"), code="sku_not_found")
    return sku


def access_image(shop: Shop, image_id: int) -> ProductImage:
    image = ProductImage.objects.select_related("product").filter(product__shop=shop, pk=image_id).first()
    if image is None:
        raise NotFound(_("图片不存在"), code="image_not_found")
    return image


def access_category(shop: Shop, category_id: int) -> Category:
    category = Category.objects.filter(shop=shop, pk=category_id).first()
    if category is None:
        raise NotFound(_("分类不存在"), code="category_not_found")
    return category


def access_collection(shop: Shop, collection_id: int) -> Collection:
    collection = Collection.objects.filter(shop=shop, pk=collection_id).first()
    if collection is None:
        raise NotFound(_("专题不存在"), code="collection_not_found")
    return collection


def shop_categories(shop: Shop) -> QuerySet[Category]:
    return Category.objects.filter(shop=shop).order_by("position", "id")


def shop_collections(shop: Shop) -> QuerySet[Collection]:
    return Collection.objects.filter(shop=shop).order_by("position", "id")


def collection_products(collection: Collection, *, on_shelf_only: bool = True) -> QuerySet[Product]:
    """The products of a collection in the collection's own order."""
    products = Product.objects.filter(shop_id=collection.shop_id, collectionproduct__collection=collection)
    if on_shelf_only:
        products = products.filter(on_shelf=True)
    return _with_details(products).order_by("collectionproduct__position", "collectionproduct__id")


def collection_shelves(shop: Shop, size: int) -> list[tuple[Collection, list[Product]]]:
    """The shop front's collections, each with its first ``size`` on-shelf products in the
    collection's order (``collection_products``); collections with none are left out. Two
    queries however many collections there are: one window-ranked query takes every collection's
    first products at once. Their SKUs and images: ``attach_shelf_details``."""
    collections = list(shop_collections(shop))
    if not collections:
        return []
    ranked = (
        Product.objects.filter(shop=shop, on_shelf=True, collectionproduct__collection__in=collections)
        .annotate(
            shelf_collection_id=F("collectionproduct__collection_id"),
            shelf_rank=Window(
                RowNumber(),
                partition_by=F("collectionproduct__collection_id"),
                order_by=[F("collectionproduct__position"), F("collectionproduct__id")],
            ),
        )
        .filter(shelf_rank__lte=size)
        .order_by("shelf_rank")
    )
    shelves: dict[int, list[Product]] = {collection.pk: [] for collection in collections}
    for product in ranked:
        shelves[product.shelf_collection_id].append(product)
    return [(collection, shelves[collection.pk]) for collection in collections if shelves[collection.pk]]


# --- members (the shop front) ------------------------------------------------------


def shelf_products(
    shop: Shop,
    *,
    query: str | None = None,
    category_id: int | None = None,
    collection_slug: str | None = None,
) -> QuerySet[Product]:
    """On-shelf products of ``shop`` for the shop front, optionally searched and filtered; their
    SKUs and images, once the page is cut: ``attach_shelf_details``."""
    products = goods(shop).filter(on_shelf=True)
    products = search_products(products, query)
    if category_id:
        products = products.filter(category_id=category_id)
    if collection_slug:
        products = products.filter(collectionproduct__collection__slug=collection_slug)
    return products.order_by("position", "-id")


def access_shelf_product(shop: Shop, product_id: int) -> Product:
    """A product as members see it: off-shelf and foreign products do not exist."""
    product = _with_details(goods(shop).filter(pk=product_id, on_shelf=True)).first()
    if product is None:
        raise NotFound(_("商品不存在或已下架"), code="product_not_found")
    return product


def access_buyable_sku(sku_id: int, *, shop: Shop | None = None) -> Sku:
    """An active SKU of an on-shelf product (for the cart); NotFound otherwise."""
    skus = Sku.objects.select_related("product", "shop").filter(pk=sku_id, is_active=True, product__on_shelf=True)
    if shop is not None:
        skus = skus.filter(shop=shop)
    sku = skus.first()
    if sku is None:
        raise NotFound(_("商品不存在或已下架"), code="sku_not_found")
    return sku


def active_skus(product: Product) -> list[Sku]:
    return [sku for sku in product.skus.all() if sku.is_active]


def stock_label(stock: int) -> str:
    """有货 / 仅剩N件 / 已售罄, as shown to members (exact stock is not shown when plentiful)."""
    if stock <= 0:
        return _("已售罄")
    if stock <= LOW_STOCK_THRESHOLD:
        return _("仅剩%(stock)s件") % {"stock": stock}
    return _("有货")


def cheapest_sku(skus: Iterable[Sku]) -> Sku | None:
    """The active SKU a product's price is shown "from": the cheapest, then the first."""
    active = [sku for sku in skus if sku.is_active]
    return min(active, key=lambda sku: (sku.price_fen, sku.position, sku.pk)) if active else None


def lowest_price_sku(product: Product) -> Sku | None:
    return cheapest_sku(product.skus.all())


def cover_image(product: Product) -> ProductImage | None:
    images = list(product.images.all())
    return images[0] if images else None
