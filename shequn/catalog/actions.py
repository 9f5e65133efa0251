"""Every catalog write. ``check_*`` validates (raising InvalidInput with a zh-hans message),
``do_*`` changes data and writes the audit log in the same transaction.

Stock is only ever changed by single-statement ``F()`` updates (never read-modify-save):
staff set/adjust it here, and orders reserve/release it through ``reserve_stock`` /
``release_stock``.
"""

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max, ProtectedError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shequn.core import audit
from shequn.core.errors import Conflict, InvalidInput, NotFound
from shequn.shops.models import Shop

from .enums import ALLOWED_IMAGE_FORMATS, MAX_IMAGE_BYTES, THUMBNAIL_QUALITY, THUMBNAIL_SIZE
from .kinds import ProductKind
from .models import Category, Collection, CollectionProduct, Product, ProductImage, Sku
from .pinyin import pinyin_keys
from .selectors import access_category, access_product
from .weights import MAX_PIECE_GRAMS, MAX_WEIGHT_PRICE_FEN, SkuPricing, estimated_piece_price


@dataclass
class SkuInput:
    """One SKU row as staff enter it. ``id`` is set for an existing SKU of the product."""

    spec: str
    price_fen: int
    list_price_fen: int | None = None
    member_price_fen: int | None = None
    stock: int = 0  # used for new SKUs only; existing stock changes through do_set_stock/do_adjust_stock
    weight_grams: int | None = None
    is_active: bool = True
    id: int | None = None
    # Sold by weight (see catalog.weights): price_fen is then computed from these two and
    # weight_grams (the estimated weight per piece).
    pricing: str = SkuPricing.PIECE
    weight_price_fen: int | None = None
    piece_name: str = ""


@dataclass
class ProductInput:
    title: str
    subtitle: str = ""
    description: str = ""
    category_id: int | None = None
    returnable: bool = True
    per_person_cap: int | None = None
    position: int = 0


def _invalid(message: str, code: str, **details: Any) -> InvalidInput:
    return InvalidInput(message, code=code, details=details or None)


# --- validation --------------------------------------------------------------------


def check_product_input(shop: Shop, data: ProductInput) -> Category | None:
    """Validate the product fields; returns the category (of this shop) if one was chosen."""
    data.title = (data.title or "").strip()
    if not data.title:
        raise _invalid(_("请填写商品名称"), "title_required", field="title")
    if len(data.title) > 120:
        raise _invalid(_("商品名称不能超过 120 个字"), "title_too_long", field="title")
    if len(data.subtitle or "") > 200:
        raise _invalid(_("副标题不能超过 200 个字"), "subtitle_too_long", field="subtitle")
    if data.per_person_cap is not None and data.per_person_cap < 1:
        raise _invalid(_("每人限购数量至少为 1（不限购请留空）"), "invalid_cap", field="per_person_cap")
    if data.position < 0:
        raise _invalid(_("排序不能为负数"), "invalid_position", field="position")
    return access_category(shop, data.category_id) if data.category_id else None


def check_sku_inputs(rows: Sequence[SkuInput]) -> None:
    """Prices in fen: price > 0, list price ≥ price, 0 < member price ≤ price; specs unique."""
    seen: set[str] = set()
    for index, row in enumerate(rows):
        row.spec = (row.spec or "").strip()
        if not row.spec:
            raise _invalid(
                _("第 %(value)s 个规格：请填写规格名称，如 500g") % {"value": index + 1},
                "spec_required",
                row=index,
                field="spec",
            )
        if len(row.spec) > 64:
            raise _invalid(
                _("规格「%(spec)s」太长，最多 64 个字") % {"spec": row.spec}, "spec_too_long", row=index, field="spec"
            )
        if row.spec in seen:
            raise _invalid(
                _("规格「%(spec)s」重复了，同一商品的规格不能相同") % {"spec": row.spec},
                "duplicate_spec",
                row=index,
                field="spec",
            )
        seen.add(row.spec)
        if row.pricing != SkuPricing.PIECE:
            _check_weighed_sku(index, row)
        else:
            row.weight_price_fen = None
            row.piece_name = ""
        if row.price_fen is None or row.price_fen <= 0:
            raise _invalid(
                _("规格「%(spec)s」：售价必须大于 0") % {"spec": row.spec},
                "price_not_positive",
                row=index,
                field="price_fen",
            )
        if row.list_price_fen is not None and row.list_price_fen < row.price_fen:
            raise _invalid(
                _("规格「%(spec)s」：划线价不能低于售价") % {"spec": row.spec},
                "list_price_below_price",
                row=index,
                field="list_price_fen",
            )
        if row.member_price_fen is not None:
            if row.member_price_fen <= 0:
                raise _invalid(
                    _("规格「%(spec)s」：会员价必须大于 0") % {"spec": row.spec},
                    "member_price_not_positive",
                    row=index,
                    field="member_price_fen",
                )
            if row.member_price_fen > row.price_fen:
                raise _invalid(
                    _("规格「%(spec)s」：会员价不能高于售价") % {"spec": row.spec},
                    "member_price_above_price",
                    row=index,
                    field="member_price_fen",
                )
        if row.stock is None or row.stock < 0:
            raise _invalid(
                _("规格「%(spec)s」：库存不能为负数") % {"spec": row.spec}, "negative_stock", row=index, field="stock"
            )
        if row.weight_grams is not None and row.weight_grams < 0:
            raise _invalid(
                _("规格「%(spec)s」：重量不能为负数") % {"spec": row.spec},
                "negative_weight",
                row=index,
                field="weight_grams",
            )


def _check_weighed_sku(index: int, row: SkuInput) -> None:
    """A weight-priced SKU: a price per 斤/公斤 and an estimated weight per piece, both bounded;
    its price per piece is the estimate (rounded half up to the fen)."""
    if row.pricing not in SkuPricing.values:
        raise _invalid(
            _("规格「%(spec)s」：请选择计价方式") % {"spec": row.spec}, "invalid_pricing", row=index, field="pricing"
        )
    unit = _("斤") if row.pricing == SkuPricing.JIN else _("公斤")
    if row.weight_price_fen is None or row.weight_price_fen <= 0:
        raise _invalid(
            _("规格「%(spec)s」：按%(unit)s计价时请填写每%(unit)s单价，且大于 0") % {"spec": row.spec, "unit": unit},
            "weight_price_required",
            row=index,
            field="weight_price_fen",
        )
    if row.weight_price_fen > MAX_WEIGHT_PRICE_FEN:
        raise _invalid(
            _("规格「%(spec)s」：每%(unit)s单价太高了") % {"spec": row.spec, "unit": unit},
            "weight_price_too_high",
            row=index,
            field="weight_price_fen",
        )
    if row.weight_grams is None or row.weight_grams <= 0:
        raise _invalid(
            _("规格「%(spec)s」：按%(unit)s计价时请填写每件预估重量（克），且大于 0")
            % {"spec": row.spec, "unit": unit},
            "estimated_weight_required",
            row=index,
            field="weight_grams",
        )
    if row.weight_grams > MAX_PIECE_GRAMS:
        raise _invalid(
            _("规格「%(spec)s」：每件预估重量不能超过 %(value)s 公斤")
            % {"spec": row.spec, "value": MAX_PIECE_GRAMS // 1000},
            "estimated_weight_too_high",
            row=index,
            field="weight_grams",
        )
    if row.member_price_fen is not None:
        raise _invalid(
            _("规格「%(spec)s」：按重量计价的规格暂不支持会员价，请留空") % {"spec": row.spec},
            "weighed_member_price",
            row=index,
            field="member_price_fen",
        )
    row.piece_name = (row.piece_name or "").strip()
    if len(row.piece_name) > 4:
        raise _invalid(
            _("规格「%(spec)s」：件的叫法最多 4 个字，如 条") % {"spec": row.spec},
            "piece_name_too_long",
            row=index,
            field="piece_name",
        )
    row.price_fen = estimated_piece_price(row.pricing, row.weight_price_fen, row.weight_grams)
    if row.price_fen <= 0:
        raise _invalid(
            _("规格「%(spec)s」：预估每件价格不足 ¥0.01，请检查单价和重量") % {"spec": row.spec},
            "estimated_price_zero",
            row=index,
            field="weight_price_fen",
        )


def check_can_put_on_shelf(product: Product) -> None:
    """A product goes on shelf only with at least one active SKU that has a price."""
    if not Sku.objects.filter(product=product, is_active=True, price_fen__gt=0).exists():
        raise _invalid(_("至少需要一个启用且有售价的规格才能上架"), "no_active_sku")


# --- products ----------------------------------------------------------------------


def _apply_product_fields(product: Product, data: ProductInput, category: Category | None) -> None:
    product.title = data.title
    product.title_pinyin, product.title_initials = pinyin_keys(data.title)
    product.subtitle = data.subtitle or ""
    product.description = data.description or ""
    product.category = category
    product.returnable = data.returnable
    product.per_person_cap = data.per_person_cap
    product.position = data.position


def _sync_skus(shop: Shop, product: Product, rows: Sequence[SkuInput]) -> None:
    """Create new SKU rows, update existing ones (never their stock), deactivate the missing.

    SKUs are deactivated rather than deleted: order lines keep pointing at them.
    """
    existing = {sku.pk: sku for sku in Sku.objects.filter(product=product)}
    kept: set[int] = set()
    for position, row in enumerate(rows):
        if row.id is not None:
            if row.id not in existing:
                raise _invalid(_("规格不存在"), "sku_not_found", row=position)
            kept.add(row.id)
    try:
        with transaction.atomic():
            missing = [pk for pk in existing if pk not in kept]
            for pk in missing:
                try:
                    with transaction.atomic():
                        Sku.objects.filter(pk=pk).delete()
                except ProtectedError:  # ordered before: keep it for the order lines, retired
                    retired = existing[pk].spec
                    if "#停用" not in retired:
                        retired = f"{retired[:50]}#停用{pk}"
                    Sku.objects.filter(pk=pk).update(is_active=False, spec=retired)
            # Park the specs of kept rows first so that swapping two specs does not trip
            # the unique constraint half-way.
            for row in rows:
                if row.id is not None:
                    Sku.objects.filter(pk=row.id).update(spec=f"#{row.id}")
            for position, row in enumerate(rows):
                fields = {
                    "spec": row.spec,
                    "price_fen": row.price_fen,
                    "list_price_fen": row.list_price_fen,
                    "member_price_fen": row.member_price_fen,
                    "weight_grams": row.weight_grams,
                    "pricing": row.pricing,
                    "weight_price_fen": row.weight_price_fen,
                    "piece_name": row.piece_name,
                    "is_active": row.is_active,
                    "position": position,
                }
                if row.id is not None:
                    Sku.objects.filter(pk=row.id).update(**fields)
                else:
                    Sku.objects.create(shop=shop, product=product, stock=row.stock, **fields)
    except IntegrityError:
        raise _invalid(_("规格名称重复了，同一商品的规格不能相同"), "duplicate_spec") from None


def do_create_product(
    shop: Shop,
    data: ProductInput,
    skus: Sequence[SkuInput] = (),
    *,
    on_shelf: bool = False,
    actor: Any,
    ip: str | None = None,
) -> Product:
    category = check_product_input(shop, data)
    check_sku_inputs(skus)
    with transaction.atomic():
        product = Product(shop=shop)
        _apply_product_fields(product, data, category)
        product.save()
        _sync_skus(shop, product, [SkuInput(**{**row.__dict__, "id": None}) for row in skus])
        if on_shelf:
            check_can_put_on_shelf(product)
            product.on_shelf = True
            product.save(update_fields=["on_shelf"])
        audit.record(
            actor=actor,
            shop=shop,
            action="product.create",
            obj=product,
            ip=ip,
            skus=[row.spec for row in skus],
            on_shelf=product.on_shelf,
        )
    return product


def do_update_product(
    shop: Shop,
    product: Product,
    data: ProductInput,
    skus: Sequence[SkuInput] | None = None,
    *,
    actor: Any,
    ip: str | None = None,
) -> Product:
    """Update fields and (when given) the SKU rows. A product on shelf must keep an active SKU."""
    category = check_product_input(shop, data)
    if skus is not None:
        check_sku_inputs(skus)
    with transaction.atomic():
        product = access_product(shop, product.pk, for_update=True)
        _apply_product_fields(product, data, category)
        product.save()
        if skus is not None:
            _sync_skus(shop, product, skus)
        if product.on_shelf:
            try:
                check_can_put_on_shelf(product)
            except InvalidInput:
                raise _invalid(_("商品在架上时至少要保留一个启用且有售价的规格；请先下架"), "no_active_sku") from None
        audit.record(
            actor=actor,
            shop=shop,
            action="product.update",
            obj=product,
            ip=ip,
            skus=[row.spec for row in skus] if skus is not None else None,
        )
    return access_product(shop, product.pk)


def do_set_shelf(shop: Shop, product: Product, on_shelf: bool, *, actor: Any, ip: str | None = None) -> Product:
    with transaction.atomic():
        product = access_product(shop, product.pk, for_update=True)
        if on_shelf:
            check_can_put_on_shelf(product)
        if product.on_shelf != on_shelf:
            product.on_shelf = on_shelf
            product.save(update_fields=["on_shelf", "updated_at"])
            audit.record(
                actor=actor,
                shop=shop,
                action="product.shelf_on" if on_shelf else "product.shelf_off",
                obj=product,
                ip=ip,
            )
    return product


def do_delete_product(shop: Shop, product: Product, *, actor: Any, ip: str | None = None) -> None:
    """Delete a product nobody ordered; ordered products can only go off shelf."""
    with transaction.atomic():
        product = access_product(shop, product.pk, for_update=True)
        audit.record(actor=actor, shop=shop, action="product.delete", obj=product, ip=ip)
        try:
            with transaction.atomic():
                product.delete()
        except ProtectedError:
            raise Conflict(_("商品已有订单，不能删除，可以下架"), code="product_has_orders") from None


# --- stock -------------------------------------------------------------------------


def do_set_stock(shop: Shop, sku: Sku, stock: int, *, actor: Any, ip: str | None = None) -> Sku:
    """Set a SKU's stock to an absolute value (stocktaking) in one UPDATE."""
    if stock is None or stock < 0:
        raise _invalid(_("库存不能为负数"), "negative_stock", field="stock")
    with transaction.atomic():
        updated = Sku.objects.filter(shop=shop, pk=sku.pk).update(stock=stock)
        if not updated:
            raise _invalid(_("商品规格不存在"), "sku_not_found")
        audit.record(actor=actor, shop=shop, action="sku.stock_set", obj=sku, ip=ip, stock=stock)
    sku.refresh_from_db(fields=["stock"])
    return sku


MAX_STOCK = 2_147_483_647  # what Sku.stock (a PositiveIntegerField) holds


def do_adjust_stock(shop: Shop, sku: Sku, delta: int, *, actor: Any, ip: str | None = None, reason: str = "") -> Sku:
    """Add (or remove, when negative) units in one UPDATE; never below zero."""
    if not delta:
        raise _invalid(_("调整数量不能为 0"), "zero_adjustment", field="delta")
    with transaction.atomic():
        rows = Sku.objects.filter(shop=shop, pk=sku.pk)
        if delta < 0:
            rows = rows.filter(stock__gte=-delta)
            if not rows.update(stock=F("stock") + delta):
                raise _invalid(
                    _("库存不足，不能减少 %(value)s 件") % {"value": -delta}, "insufficient_stock", field="delta"
                )
        elif not rows.filter(stock__lte=MAX_STOCK - delta).update(stock=F("stock") + delta):
            raise _invalid(
                _("库存最多 %(most)s 件，不能再增加 %(delta)s 件") % {"most": f"{MAX_STOCK:,}", "delta": f"{delta:,}"},
                "stock_too_large",
                field="delta",
            )
        audit.record(
            actor=actor, shop=shop, action="sku.stock_adjust", obj=sku, ip=ip, delta=delta, reason=reason[:200]
        )
    sku.refresh_from_db(fields=["stock"])
    return sku


def reserve_stock(sku_id: int, quantity: int) -> bool:
    """Take ``quantity`` units if that many are left, in one UPDATE; False when sold out."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return bool(Sku.objects.filter(pk=sku_id, stock__gte=quantity).update(stock=F("stock") - quantity))


def release_stock(sku_id: int, quantity: int) -> None:
    """Give reserved units back (the caller makes sure this happens exactly once)."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    Sku.objects.filter(pk=sku_id).update(stock=F("stock") + quantity)


# --- images ------------------------------------------------------------------------


def thumbnail_jpeg(image: Image.Image) -> ContentFile:
    """The image turned upright and shrunk to fit THUMBNAIL_SIZE, as JPEG: every picture shown
    small (product thumbnails, shop logos) is stored this way."""
    picture = ImageOps.exif_transpose(image) or image
    picture = picture.convert("RGB")
    picture.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return ContentFile(buffer.getvalue())


def check_image_upload(upload: UploadedFile) -> Image.Image:
    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise _invalid(_("图片不能超过 10MB"), "image_too_large", field="image")
    try:
        upload.seek(0)
        probe = Image.open(upload)
        probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    except Image.DecompressionBombError:
        raise _invalid(_("图片尺寸太大，请压缩后再上传"), "image_too_large", field="image") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _invalid(_("无法识别的图片，请上传 JPG、PNG 或 WebP 图片"), "invalid_image", field="image") from None
    if image.format not in ALLOWED_IMAGE_FORMATS:
        raise _invalid(_("只支持 JPG、PNG、WebP 或 GIF 图片"), "unsupported_image", field="image")
    return image


def do_add_image(
    shop: Shop, product: Product, upload: UploadedFile, *, actor: Any, ip: str | None = None
) -> ProductImage:
    """Store the original and a 400px JPEG thumbnail made with Pillow."""
    image = check_image_upload(upload)
    product = access_product(shop, product.pk)
    stem = os.path.splitext(os.path.basename(upload.name or "image"))[0][:40] or "image"
    with transaction.atomic():
        position = (ProductImage.objects.filter(product=product).aggregate(top=Max("position"))["top"] or 0) + 1
        row = ProductImage(product=product, position=position)
        upload.seek(0)
        row.image.save(upload.name or f"{stem}.jpg", upload, save=False)
        row.thumbnail.save(f"{stem}-thumb.jpg", thumbnail_jpeg(image), save=False)
        row.save()
        audit.record(actor=actor, shop=shop, action="product.image_add", obj=product, ip=ip, image_id=row.pk)
    return row


def do_delete_image(shop: Shop, image: ProductImage, *, actor: Any, ip: str | None = None) -> None:
    with transaction.atomic():
        product = image.product
        if product.shop_id != shop.pk:
            raise _invalid(_("图片不存在"), "image_not_found")
        audit.record(actor=actor, shop=shop, action="product.image_delete", obj=product, ip=ip, image_id=image.pk)
        files = [image.image, image.thumbnail]
        image.delete()
    for file in files:
        if file:
            file.delete(save=False)


# --- categories and collections ----------------------------------------------------


def _check_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid(_("请填写%(what)s名称") % {"what": what}, "name_required", field="name")
    if len(name) > 64:
        raise _invalid(_("%(what)s名称不能超过 64 个字") % {"what": what}, "name_too_long", field="name")
    return name


def do_create_category(shop: Shop, name: str, position: int = 0, *, actor: Any, ip: str | None = None) -> Category:
    name = _check_name(name, _("分类"))
    try:
        with transaction.atomic():
            category = Category.objects.create(shop=shop, name=name, position=max(0, position))
            audit.record(actor=actor, shop=shop, action="category.create", obj=category, ip=ip)
    except IntegrityError:
        raise _invalid(_("分类「%(name)s」已存在") % {"name": name}, "duplicate_category", field="name") from None
    return category


def do_update_category(
    shop: Shop, category: Category, name: str, position: int, *, actor: Any, ip: str | None = None
) -> Category:
    name = _check_name(name, _("分类"))
    category = access_category(shop, category.pk)
    try:
        with transaction.atomic():
            category.name = name
            category.position = max(0, position)
            category.save()
            audit.record(actor=actor, shop=shop, action="category.update", obj=category, ip=ip)
    except IntegrityError:
        raise _invalid(_("分类「%(name)s」已存在") % {"name": name}, "duplicate_category", field="name") from None
    return category


def do_delete_category(shop: Shop, category: Category, *, actor: Any, ip: str | None = None) -> None:
    """Products of the category stay, without a category."""
    category = access_category(shop, category.pk)
    with transaction.atomic():
        audit.record(actor=actor, shop=shop, action="category.delete", obj=category, ip=ip)
        category.delete()


def _check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not slug or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in slug) or len(slug) > 64:
        raise _invalid(_("标识只能用字母、数字、- 和 _，如 new-arrivals"), "invalid_slug", field="slug")
    return slug


def do_create_collection(
    shop: Shop, name: str, slug: str, position: int = 0, *, actor: Any, ip: str | None = None
) -> Collection:
    name = _check_name(name, _("专题"))
    slug = _check_slug(slug)
    try:
        with transaction.atomic():
            collection = Collection.objects.create(shop=shop, name=name, slug=slug, position=max(0, position))
            audit.record(actor=actor, shop=shop, action="collection.create", obj=collection, ip=ip)
    except IntegrityError:
        raise _invalid(
            _("标识「%(slug)s」已被其他专题使用") % {"slug": slug}, "duplicate_collection", field="slug"
        ) from None
    return collection


def _own_collection(shop: Shop, collection: Collection) -> None:
    if collection.shop_id != shop.pk:
        raise NotFound(_("专题不存在"), code="collection_not_found")


def do_update_collection(
    shop: Shop, collection: Collection, name: str, slug: str, position: int, *, actor: Any, ip: str | None = None
) -> Collection:
    _own_collection(shop, collection)
    name = _check_name(name, _("专题"))
    slug = _check_slug(slug)
    try:
        with transaction.atomic():
            collection.name, collection.slug, collection.position = name, slug, max(0, position)
            collection.save()
            audit.record(actor=actor, shop=shop, action="collection.update", obj=collection, ip=ip)
    except IntegrityError:
        raise _invalid(
            _("标识「%(slug)s」已被其他专题使用") % {"slug": slug}, "duplicate_collection", field="slug"
        ) from None
    return collection


def do_delete_collection(shop: Shop, collection: Collection, *, actor: Any, ip: str | None = None) -> None:
    _own_collection(shop, collection)
    with transaction.atomic():
        audit.record(actor=actor, shop=shop, action="collection.delete", obj=collection, ip=ip)
        collection.delete()


def do_set_collection_products(
    shop: Shop, collection: Collection, product_ids: Sequence[int], *, actor: Any, ip: str | None = None
) -> Collection:
    """Replace the collection's products; their order is the order of ``product_ids``."""
    _own_collection(shop, collection)
    ordered = list(dict.fromkeys(int(pk) for pk in product_ids))
    for pk in ordered:
        access_product(shop, pk)  # foreign ids look absent
    with transaction.atomic():
        CollectionProduct.objects.filter(collection=collection).delete()
        CollectionProduct.objects.bulk_create(
            CollectionProduct(collection=collection, product_id=pk, position=index) for index, pk in enumerate(ordered)
        )
        audit.record(actor=actor, shop=shop, action="collection.set_products", obj=collection, ip=ip, products=ordered)
    return collection


def do_add_to_collection(
    shop: Shop, collection: Collection, product: Product, *, actor: Any, ip: str | None = None
) -> None:
    product = access_product(shop, product.pk)
    ids = list(CollectionProduct.objects.filter(collection=collection).values_list("product_id", flat=True))
    if product.pk not in ids:
        do_set_collection_products(shop, collection, [*ids, product.pk], actor=actor, ip=ip)


def do_remove_from_collection(
    shop: Shop, collection: Collection, product_id: int, *, actor: Any, ip: str | None = None
) -> None:
    ids = list(CollectionProduct.objects.filter(collection=collection).values_list("product_id", flat=True))
    if product_id in ids:
        do_set_collection_products(shop, collection, [pk for pk in ids if pk != product_id], actor=actor, ip=ip)


def do_move_in_collection(
    shop: Shop, collection: Collection, product_id: int, offset: int, *, actor: Any, ip: str | None = None
) -> None:
    """Move a product up (offset -1) or down (+1) in the collection."""
    ids = list(CollectionProduct.objects.filter(collection=collection).values_list("product_id", flat=True))
    if product_id not in ids:
        return
    index = ids.index(product_id)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    do_set_collection_products(shop, collection, ids, actor=actor, ip=ip)


# --- products of other kinds (a community fee, a course, a ticket) ----------------------


def save_kind_product(
    shop: Shop,
    kind: str,
    title: str,
    prices: Sequence[tuple[str, int, int]],
    *,
    product: Product | None = None,
    on_shelf: bool = True,
) -> Product:
    """Create or update the product an app sells for one of its objects (see ``catalog.kinds``).

    ``prices`` are ``(spec, price_fen, stock)`` rows, matched by spec; rows not given are
    switched off (kept for the orders that hold them). The caller audits its own change and
    runs this inside its transaction. Prices are validated like any SKU's.
    """
    if kind == ProductKind.GOODS or kind not in ProductKind.values:
        raise ValueError(f"save_kind_product is for non-goods kinds, not {kind!r}")
    rows = [SkuInput(spec=spec, price_fen=price, stock=stock) for spec, price, stock in prices]
    check_sku_inputs(rows)
    if product is None:
        product = Product.objects.create(shop=shop, kind=kind, title=title[:120], on_shelf=False)
    elif product.shop_id != shop.pk or product.kind != kind:
        raise ValueError("the product belongs to another shop or kind")
    existing = {sku.spec: sku for sku in Sku.objects.filter(product=product)}
    for position, row in enumerate(rows):
        sku = existing.pop(row.spec, None)
        if sku is None:
            Sku.objects.create(
                shop=shop, product=product, spec=row.spec, price_fen=row.price_fen, stock=row.stock, position=position
            )
        else:
            Sku.objects.filter(pk=sku.pk).update(
                price_fen=row.price_fen, stock=row.stock, is_active=True, position=position
            )
    Sku.objects.filter(pk__in=[sku.pk for sku in existing.values()]).update(is_active=False)
    Product.objects.filter(pk=product.pk).update(title=title[:120], on_shelf=on_shelf and bool(rows))
    product.refresh_from_db()
    return product
