import pytest

from shequn.catalog import actions, selectors
from shequn.catalog.actions import ProductInput, SkuInput
from shequn.catalog.models import Sku
from shequn.catalog.pinyin import pinyin_keys
from shequn.core.errors import InvalidInput
from shequn.core.models import AuditLog
from shequn.testing.catalog import image_upload, make_product

pytestmark = pytest.mark.django_db


def test_pinyin_keys():
    assert pinyin_keys("三文鱼刺身") == ("sanwenyucishen", "swycs")
    assert pinyin_keys("智利 三文鱼 500g") == ("zhilisanwenyu500g", "zlswy500g")


@pytest.mark.parametrize("query", ["sanwenyu", "swy", "三文鱼", "SanWenYu", "san wen yu", "刺身"])
def test_search_by_name_full_pinyin_and_initials(shop, operator, query):
    salmon = make_product(shop, "三文鱼刺身", actor=operator)
    make_product(shop, "北极甜虾", actor=operator)
    found = list(selectors.shelf_products(shop, query=query))
    assert found == [salmon]


def test_search_keys_are_stored_on_save_and_follow_title_changes(shop, operator):
    product = make_product(shop, "北极甜虾", actor=operator)
    assert (product.title_pinyin, product.title_initials) == ("beijitianxia", "bjtx")
    actions.do_update_product(shop, product, ProductInput(title="三文鱼刺身"), actor=operator)
    product.refresh_from_db()
    assert (product.title_pinyin, product.title_initials) == ("sanwenyucishen", "swycs")
    assert list(selectors.shelf_products(shop, query="swy")) == [product]


def test_search_does_not_cross_shops(shop, other_shop, operator):
    make_product(other_shop, "三文鱼刺身")
    assert list(selectors.shelf_products(shop, query="swy")) == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (SkuInput(spec="500g", price_fen=0), "售价必须大于 0"),
        (SkuInput(spec="500g", price_fen=-100), "售价必须大于 0"),
        (SkuInput(spec="500g", price_fen=3500, list_price_fen=3000), "划线价不能低于售价"),
        (SkuInput(spec="500g", price_fen=3500, member_price_fen=3600), "会员价不能高于售价"),
        (SkuInput(spec="500g", price_fen=3500, member_price_fen=0), "会员价必须大于 0"),
        (SkuInput(spec="", price_fen=3500), "请填写规格名称"),
        (SkuInput(spec="500g", price_fen=3500, stock=-1), "库存不能为负数"),
    ],
)
def test_sku_validation_messages(shop, operator, row, message):
    with pytest.raises(InvalidInput) as error:
        make_product(shop, skus=[row], on_shelf=False, actor=operator)
    assert message in error.value.message
    assert error.value.status == 422


def test_spec_must_be_unique_per_product(shop, operator):
    rows = [SkuInput(spec="500g", price_fen=3500), SkuInput(spec="500g", price_fen=3600)]
    with pytest.raises(InvalidInput) as error:
        make_product(shop, skus=rows, on_shelf=False, actor=operator)
    assert error.value.code == "duplicate_spec"
    assert "规格「500g」重复了" in error.value.message


def test_list_price_equal_and_member_price_equal_are_fine(shop, operator):
    product = make_product(
        shop, skus=[SkuInput(spec="1斤", price_fen=3500, list_price_fen=3500, member_price_fen=3500)], actor=operator
    )
    assert product.on_shelf


def test_title_required(shop, operator):
    with pytest.raises(InvalidInput, match="请填写商品名称"):
        make_product(shop, "  ", actor=operator)


def test_cannot_put_on_shelf_without_active_priced_sku(shop, operator):
    with pytest.raises(InvalidInput) as error:
        make_product(shop, skus=[], on_shelf=True, actor=operator)
    assert error.value.code == "no_active_sku"
    product = make_product(
        shop, "北极甜虾", skus=[SkuInput(spec="1斤", price_fen=100, is_active=False)], on_shelf=False
    )
    with pytest.raises(InvalidInput, match="至少需要一个启用且有售价的规格才能上架"):
        actions.do_set_shelf(shop, product, True, actor=operator)
    product.refresh_from_db()
    assert not product.on_shelf


def test_on_shelf_product_must_keep_an_active_sku(shop, operator):
    product = make_product(shop, actor=operator)
    sku = product.skus.get()
    with pytest.raises(InvalidInput, match="请先下架"):
        actions.do_update_product(
            shop,
            product,
            ProductInput(title=product.title),
            [SkuInput(id=sku.pk, spec="500g", price_fen=3500, is_active=False)],
            actor=operator,
        )
    assert Sku.objects.get(pk=sku.pk).is_active


def test_shelf_changes_are_audited(shop, operator):
    product = make_product(shop, on_shelf=False, actor=operator)
    actions.do_set_shelf(shop, product, True, actor=operator, ip="10.0.0.1")
    actions.do_set_shelf(shop, product, False, actor=operator, ip="10.0.0.1")
    logged = list(AuditLog.objects.filter(shop=shop).values_list("action", flat=True))
    assert logged[:2] == ["product.shelf_off", "product.shelf_on"]


def test_update_never_touches_stock_of_existing_skus(shop, operator):
    product = make_product(shop, actor=operator)
    sku = product.skus.get()
    Sku.objects.filter(pk=sku.pk).update(stock=7)  # an order reserved units meanwhile
    actions.do_update_product(
        shop,
        product,
        ProductInput(title=product.title),
        [SkuInput(id=sku.pk, spec="1斤", price_fen=3900, stock=999), SkuInput(spec="2斤", price_fen=7000, stock=5)],
        actor=operator,
    )
    sku.refresh_from_db()
    assert (sku.spec, sku.price_fen, sku.stock) == ("1斤", 3900, 7)
    assert product.skus.get(spec="2斤").stock == 5


def test_specs_can_be_swapped(shop, operator):
    product = make_product(
        shop, skus=[SkuInput(spec="500g", price_fen=3500), SkuInput(spec="1000g", price_fen=6500)], actor=operator
    )
    a, b = product.skus.order_by("position")
    actions.do_update_product(
        shop,
        product,
        ProductInput(title=product.title),
        [SkuInput(id=a.pk, spec="1000g", price_fen=6500), SkuInput(id=b.pk, spec="500g", price_fen=3500)],
        actor=operator,
    )
    assert dict(product.skus.values_list("pk", "spec")) == {a.pk: "1000g", b.pk: "500g"}


def test_stock_set_and_adjust_are_single_updates_and_audited(shop, operator, django_assert_num_queries):
    product = make_product(shop, actor=operator)
    sku = product.skus.get()
    actions.do_adjust_stock(shop, sku, 5, actor=operator, ip="10.1.2.3", reason="到货")
    assert sku.stock == 105
    actions.do_adjust_stock(shop, sku, -100, actor=operator, ip="10.1.2.3")
    assert sku.stock == 5
    with pytest.raises(InvalidInput, match="库存不足"):
        actions.do_adjust_stock(shop, sku, -6, actor=operator)
    actions.do_set_stock(shop, sku, 42, actor=operator, ip="10.1.2.3")
    assert Sku.objects.get(pk=sku.pk).stock == 42
    entries = list(AuditLog.objects.filter(shop=shop, action__startswith="sku.").order_by("id"))
    assert [(e.action, e.detail.get("delta", e.detail.get("stock"))) for e in entries] == [
        ("sku.stock_adjust", 5),
        ("sku.stock_adjust", -100),
        ("sku.stock_set", 42),
    ]
    assert all(e.actor == operator and e.ip == "10.1.2.3" and e.object_id == str(sku.pk) for e in entries)


def test_adjust_is_an_f_expression_update(shop, operator, django_assert_max_num_queries):
    sku = make_product(shop, actor=operator).skus.get()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        actions.do_adjust_stock(shop, sku, 3, actor=operator)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"stock" = ("catalog_sku"."stock" + ' in updates[0]


def test_reserve_and_release_stock(shop):
    sku = make_product(shop, skus=[SkuInput(spec="500g", price_fen=100, stock=3)]).skus.get()
    assert actions.reserve_stock(sku.pk, 2)
    assert not actions.reserve_stock(sku.pk, 2)
    actions.release_stock(sku.pk, 2)
    sku.refresh_from_db()
    assert sku.stock == 3


def test_image_upload_makes_a_400px_jpeg_thumbnail(shop, operator):
    from PIL import Image

    product = make_product(shop, actor=operator)
    image = actions.do_add_image(shop, product, image_upload(size=(1200, 800)), actor=operator, ip="10.0.0.9")
    assert image.image
    assert image.thumbnail
    with Image.open(image.thumbnail.path) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (400, 267)
    with Image.open(image.image.path) as original:
        assert original.size == (1200, 800)
    assert AuditLog.objects.filter(action="product.image_add", ip="10.0.0.9").exists()


def test_not_an_image_is_refused(shop, operator):
    from django.core.files.uploadedfile import SimpleUploadedFile

    product = make_product(shop, actor=operator)
    with pytest.raises(InvalidInput, match="无法识别的图片"):
        actions.do_add_image(shop, product, SimpleUploadedFile("x.jpg", b"not an image"), actor=operator)


def test_collections_keep_their_order(shop, operator):
    a = make_product(shop, "甲", actor=operator)
    b = make_product(shop, "乙", actor=operator)
    c = make_product(shop, "丙", actor=operator, on_shelf=False)
    collection = actions.do_create_collection(shop, "本周上新", "new", actor=operator)
    actions.do_set_collection_products(shop, collection, [b.pk, c.pk, a.pk], actor=operator)
    assert list(selectors.collection_products(collection)) == [b, a]
    actions.do_move_in_collection(shop, collection, a.pk, -1, actor=operator)
    assert list(selectors.collection_products(collection, on_shelf_only=False)) == [b, a, c]


def test_collection_shelves_show_each_collection_s_first_on_shelf_products_in_order(shop, operator):
    a, b, c, d = (make_product(shop, name, actor=operator) for name in "甲乙丙丁")
    off = make_product(shop, "下架", actor=operator, on_shelf=False)
    new = actions.do_create_collection(shop, "本周上新", "new", position=1, actor=operator)
    hot = actions.do_create_collection(shop, "热销", "hot", position=0, actor=operator)
    empty = actions.do_create_collection(shop, "空专题", "empty", actor=operator)
    actions.do_set_collection_products(shop, new, [d.pk, off.pk, b.pk, a.pk, c.pk], actor=operator)
    actions.do_set_collection_products(shop, hot, [c.pk, a.pk], actor=operator)
    actions.do_set_collection_products(shop, empty, [off.pk], actor=operator)

    shelves = selectors.collection_shelves(shop, 3)

    assert [(collection, products) for collection, products in shelves] == [(hot, [c, a]), (new, [d, b, a])]
    assert [sku.price_fen for sku in shelves[0][1][0].skus.all()] == [sku.price_fen for sku in c.skus.all()]


def test_collection_refuses_foreign_products(shop, other_shop, operator):
    from shequn.core.errors import NotFound

    foreign = make_product(other_shop)
    collection = actions.do_create_collection(shop, "热销", "hot", actor=operator)
    with pytest.raises(NotFound):
        actions.do_set_collection_products(shop, collection, [foreign.pk], actor=operator)


def test_duplicate_category_name(shop, operator):
    actions.do_create_category(shop, "冰鲜鱼", actor=operator)
    with pytest.raises(InvalidInput, match="分类「冰鲜鱼」已存在"):
        actions.do_create_category(shop, "冰鲜鱼", actor=operator)


def test_product_with_foreign_category_is_refused(shop, other_shop, operator):
    from shequn.core.errors import NotFound

    foreign = actions.do_create_category(other_shop, "冰鲜鱼", actor=None)
    with pytest.raises(NotFound):
        make_product(shop, category_id=foreign.pk, actor=operator)


def test_collection_actions_refuse_a_foreign_collection(shop, other_shop, operator):
    from shequn.core.errors import NotFound

    theirs = actions.do_create_collection(other_shop, "热销", "hot", actor=None)
    with pytest.raises(NotFound):
        actions.do_update_collection(shop, theirs, "x", "x", 0, actor=operator)
    with pytest.raises(NotFound):
        actions.do_delete_collection(shop, theirs, actor=operator)
    with pytest.raises(NotFound):
        actions.do_set_collection_products(shop, theirs, [], actor=operator)
