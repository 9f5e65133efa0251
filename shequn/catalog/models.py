from django.db import models
from django.db.models import Q

from .kinds import ProductKind
from .weights import SkuPricing


class Category(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=64)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="unique_category_name_per_shop")]

    def __str__(self) -> str:
        return self.name


class Collection(models.Model):
    """A hand-picked list shown in the shop, e.g. 本周上新 or 热销."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=64)
    slug = models.SlugField(max_length=64)
    position = models.PositiveIntegerField(default=0)
    products: "models.ManyToManyField[Product, CollectionProduct]" = models.ManyToManyField(
        "Product", through="CollectionProduct", related_name="collections"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "slug"], name="unique_collection_slug_per_shop")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="products")
    title = models.CharField(max_length=120)
    # Goods are shelved and shipped; other kinds (a community fee, a course, a ticket) belong to
    # the app that created them and are bought from that app's pages (see catalog.kinds).
    kind = models.CharField(max_length=12, choices=ProductKind.choices, default=ProductKind.GOODS)
    # Full pinyin without tones ("sanwenyu") and initials ("swy") for search.
    title_pinyin = models.CharField(max_length=500, blank=True, db_index=True)
    title_initials = models.CharField(max_length=120, blank=True, db_index=True)
    subtitle = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    on_shelf = models.BooleanField(default=False)
    # Fresh/perishable goods are not returnable (消费者权益保护法 art. 25).
    returnable = models.BooleanField(default=True)
    # Most units one member may buy across all their orders (None = no cap).
    per_person_cap = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "-id"]
        indexes = [models.Index(fields=["shop", "on_shelf"])]

    def __str__(self) -> str:
        return self.title


class Sku(models.Model):
    """One buyable variant of a product, e.g. 三文鱼刺身 500g. Prices are integer fen."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    spec = models.CharField(max_length=64)  # the spec option, e.g. "500g" or "1 斤"
    price_fen = models.PositiveIntegerField()
    list_price_fen = models.PositiveIntegerField(null=True, blank=True)  # struck-through reference price
    member_price_fen = models.PositiveIntegerField(null=True, blank=True)  # for community members
    # Units available to sell; reserved (decremented) when an order is created.
    stock = models.PositiveIntegerField(default=0)
    # Net weight per piece; for a weight-priced SKU the *estimated* weight per piece.
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    # Sold by weight (see catalog.weights): price_fen is then the estimated price per piece,
    # computed from weight_price_fen (fen per 斤 or per 公斤) × weight_grams.
    pricing = models.CharField(max_length=5, choices=SkuPricing.choices, default=SkuPricing.PIECE)
    weight_price_fen = models.PositiveIntegerField(null=True, blank=True)
    piece_name = models.CharField(max_length=4, blank=True)  # what a piece is called: 条, 只; "" = 件
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "spec"], name="unique_sku_spec_per_product"),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="sku_price_positive"),
            models.CheckConstraint(
                condition=Q(pricing=SkuPricing.PIECE)
                | Q(
                    weight_price_fen__isnull=False,
                    weight_price_fen__gt=0,
                    weight_grams__isnull=False,
                    weight_grams__gt=0,
                ),
                name="sku_weighed_has_rate_and_weight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} {self.spec}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/%Y/%m/")
    thumbnail = models.ImageField(upload_to="products/thumbs/%Y/%m/", blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class CollectionProduct(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["collection", "product"], name="unique_product_per_collection")]
