"""API shapes for the catalog. Money is integer fen in fields named *_fen."""

from typing import Literal

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Schema

from shequn.core.schemas import Count, Delta, Fen, Id, MultilineText, Text

from . import selectors
from .models import Category, Collection, Product, ProductImage, Sku
from .selectors import stock_label


def _media_url(file: object) -> str | None:
    return file.url if file else None  # type: ignore[attr-defined]


class CategoryOut(Schema):
    id: int
    name: str
    position: int

    @staticmethod
    def from_model(category: Category) -> "CategoryOut":
        return CategoryOut(id=category.pk, name=category.name, position=category.position)


class CollectionOut(Schema):
    id: int
    name: str
    slug: str
    position: int
    product_ids: list[int] = Field(default_factory=list)

    @staticmethod
    def from_model(collection: Collection, product_ids: list[int]) -> "CollectionOut":
        return CollectionOut(
            id=collection.pk,
            name=collection.name,
            slug=collection.slug,
            position=collection.position,
            product_ids=product_ids,
        )


class ImageOut(Schema):
    id: int
    url: str | None
    thumbnail_url: str | None

    @staticmethod
    def from_model(image: ProductImage) -> "ImageOut":
        return ImageOut(id=image.pk, url=_media_url(image.image), thumbnail_url=_media_url(image.thumbnail))


class SkuOut(Schema):
    id: int
    spec: str
    price_fen: int
    list_price_fen: int | None
    member_price_fen: int | None
    stock_label: str  # 有货 / 仅剩N件 / 已售罄
    in_stock: bool
    # Sold by weight: price_fen is the estimated price per piece (see catalog.weights).
    pricing: str = "piece"  # piece / jin / kg
    weight_price_fen: int | None = None  # per 斤 or per 公斤
    estimated_grams: int | None = None  # per piece, when sold by weight

    @staticmethod
    def from_model(sku: Sku) -> "SkuOut":
        return SkuOut(
            id=sku.pk,
            spec=sku.spec,
            price_fen=sku.price_fen,
            list_price_fen=sku.list_price_fen,
            member_price_fen=sku.member_price_fen,
            stock_label=stock_label(sku.stock),
            in_stock=sku.stock > 0,
            pricing=sku.pricing,
            weight_price_fen=sku.weight_price_fen,
            estimated_grams=sku.weight_grams if sku.pricing != "piece" else None,
        )


class ConsoleSkuOut(SkuOut):
    stock: int
    weight_grams: int | None
    is_active: bool
    position: int

    @staticmethod
    def from_model(sku: Sku) -> "ConsoleSkuOut":
        return ConsoleSkuOut(
            **SkuOut.from_model(sku).model_dump(),
            stock=sku.stock,
            weight_grams=sku.weight_grams,
            is_active=sku.is_active,
            position=sku.position,
        )


class ProductSummaryOut(Schema):
    id: int
    title: str
    subtitle: str
    category_id: int | None
    returnable: bool
    per_person_cap: int | None
    from_price_fen: int | None  # the cheapest active SKU
    member_price_fen: int | None
    thumbnail_url: str | None
    url: str

    @staticmethod
    def from_parts(product: Product, cheapest: Sku | None, cover: ProductImage | None) -> "ProductSummaryOut":
        """``cheapest`` and ``cover`` as ``selectors.attach_shelf_details`` or ``lowest_price_sku``
        and ``cover_image`` give them."""
        return ProductSummaryOut(
            id=product.pk,
            title=product.title,
            subtitle=product.subtitle,
            category_id=product.category_id,
            returnable=product.returnable,
            per_person_cap=product.per_person_cap,
            from_price_fen=cheapest.price_fen if cheapest else None,
            member_price_fen=cheapest.member_price_fen if cheapest else None,
            thumbnail_url=(_media_url(cover.thumbnail) or _media_url(cover.image)) if cover else None,
            url=f"{settings.SITE_URL}/s/{product.shop.slug}/p/{product.pk}/",
        )


class ProductOut(ProductSummaryOut):
    description: str
    returnable_note: str
    skus: list[SkuOut]
    images: list[ImageOut]

    @staticmethod
    def from_model(product: Product) -> "ProductOut":
        return ProductOut(
            **ProductSummaryOut.from_parts(
                product, selectors.lowest_price_sku(product), selectors.cover_image(product)
            ).model_dump(),
            description=product.description,
            returnable_note=_("支持七天无理由退货") if product.returnable else _("生鲜商品，不支持七天无理由退货"),
            skus=[SkuOut.from_model(sku) for sku in product.skus.all() if sku.is_active],
            images=[ImageOut.from_model(image) for image in product.images.all()],
        )


class ConsoleProductOut(Schema):
    id: int
    title: str
    title_pinyin: str
    title_initials: str
    subtitle: str
    description: str
    category_id: int | None
    on_shelf: bool
    returnable: bool
    per_person_cap: int | None
    position: int
    skus: list[ConsoleSkuOut]
    images: list[ImageOut]

    @staticmethod
    def from_model(product: Product) -> "ConsoleProductOut":
        return ConsoleProductOut(
            id=product.pk,
            title=product.title,
            title_pinyin=product.title_pinyin,
            title_initials=product.title_initials,
            subtitle=product.subtitle,
            description=product.description,
            category_id=product.category_id,
            on_shelf=product.on_shelf,
            returnable=product.returnable,
            per_person_cap=product.per_person_cap,
            position=product.position,
            skus=[ConsoleSkuOut.from_model(sku) for sku in product.skus.all()],
            images=[ImageOut.from_model(image) for image in product.images.all()],
        )


class SkuIn(Schema):
    id: Id | None = None  # an existing SKU of this product; omitted for a new one
    spec: Text = Field(..., max_length=64)
    price_fen: Fen
    list_price_fen: Fen | None = None
    member_price_fen: Fen | None = None
    stock: Count = 0  # new SKUs only; change existing stock with POST /console/skus/{id}/stock
    weight_grams: Count | None = None
    is_active: bool = True
    # Sold by weight: weight_grams is the estimated weight per piece and price_fen is
    # computed (the estimate at weight_price_fen per 斤/公斤, rounded half up).
    pricing: Literal["piece", "jin", "kg"] = "piece"
    weight_price_fen: Fen | None = None
    piece_name: Text = Field("", max_length=4)  # what a piece is called: 条, 只; "" = 件


class ProductIn(Schema):
    title: Text = Field(..., max_length=120)
    subtitle: Text = Field("", max_length=200)
    description: MultilineText = ""
    category_id: Id | None = None
    returnable: bool = True
    per_person_cap: Count | None = None
    position: Count = 0
    skus: list[SkuIn] | None = None  # on update: None leaves SKUs alone; a list replaces them
    on_shelf: bool = False  # on create only; use /shelf afterwards


class ShelfIn(Schema):
    on_shelf: bool


class StockIn(Schema):
    set_to: Count | None = None  # absolute stock (stocktaking)
    delta: Delta | None = None  # or add/remove units
    reason: MultilineText = Field("", max_length=200)


class CategoryIn(Schema):
    name: Text = Field(..., max_length=64)
    position: Count = 0


class CollectionIn(Schema):
    name: Text = Field(..., max_length=64)
    slug: Text = Field(..., max_length=64)
    position: Count = 0


class CollectionProductsIn(Schema):
    product_ids: list[Id]  # in display order
