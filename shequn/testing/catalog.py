"""Catalog helpers for tests: products made through the real actions, small generated images."""

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shequn.catalog.actions import ProductInput, SkuInput, do_create_product
from shequn.catalog.models import Product
from shequn.shops.models import Shop


def make_product(
    shop: Shop,
    title: str = "三文鱼刺身",
    *,
    skus: list[SkuInput] | None = None,
    on_shelf: bool = True,
    actor: Any = None,
    **fields: Any,
) -> Product:
    """A product with (by default) one 500g SKU at ¥35.00 and 100 in stock, on shelf."""
    if skus is None:
        skus = [SkuInput(spec="500g", price_fen=3500, list_price_fen=4500, member_price_fen=3200, stock=100)]
    return do_create_product(shop, ProductInput(title=title, **fields), skus, on_shelf=on_shelf, actor=actor)


def image_upload(name: str = "photo.png", size: tuple[int, int] = (1200, 800), fmt: str = "PNG") -> SimpleUploadedFile:
    """A real image made with Pillow, as an uploaded file."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (250, 128, 114)).save(buffer, format=fmt)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[fmt]
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def api_token_for(user: Any, token: str | None = None) -> dict[str, str]:
    """Headers authenticating ``user`` with a fresh bearer token."""
    from shequn.accounts.auth import hash_token
    from shequn.accounts.models import ApiToken

    token = token or f"test-token-{user.pk}"
    ApiToken.objects.create(user=user, token_hash=hash_token(token), name="tests")
    return {"Authorization": f"Bearer {token}"}


def make_weighed_product(
    shop: Shop,
    title: str = "整条鲈鱼",
    *,
    pricing: str = "jin",
    weight_price_fen: int = 3500,
    estimated_grams: int = 600,
    stock: int = 20,
    on_shelf: bool = True,
    actor: Any = None,
) -> Product:
    """A fresh fish sold by weight: ¥35.00/斤, about 1.2 斤 (600 g) a fish → ¥42.00 a fish."""
    sku = SkuInput(
        spec="整条",
        price_fen=0,  # computed from the price per 斤 and the estimated weight
        stock=stock,
        weight_grams=estimated_grams,
        pricing=pricing,
        weight_price_fen=weight_price_fen,
        piece_name="条",
    )
    return do_create_product(shop, ProductInput(title=title, returnable=False), [sku], on_shelf=on_shelf, actor=actor)
