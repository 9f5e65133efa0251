"""In Chromium: staff write and publish an article with a product card and push enabled; a
member finds the push in the inbox, reads the article (sanitised, product card with price
and 购买) and the 购买 button leads to the product page tagged with the article."""

import pytest

from shequn.content.models import Article, PushJob
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import make_product
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_publish_an_article_with_a_product_card_and_a_member_reads_it_from_the_inbox(signed_in_page):
    shop = ShopFactory.create(slug="zhangjiang", name="张江鲜鱼农场")
    community = CommunityFactory.create(shop=shop, name="张江邻里群", invite_code="zhangjiang-content")
    product = make_product(shop, "挪威三文鱼刺身")
    member = UserFactory.create(nickname="小王")
    MembershipFactory.create(community=community, user=member)
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user

    console = signed_in_page(operator, viewport={"width": 1280, "height": 900}, is_mobile=False)
    console.goto("/console/content/")
    console.get_by_test_id("new-article").first.click()
    console.get_by_test_id("article-title-input").fill("本周三文鱼到货")
    console.get_by_test_id("article-body-input").fill(
        '<h2>新鲜到港</h2><p>今早空运<script>alert("x")</script></p><img src="x" onerror="alert(1)">'
    )
    console.get_by_label("挪威三文鱼刺身").check()
    console.get_by_test_id("article-status-select").select_option("published")
    console.get_by_test_id("article-push").check()
    console.get_by_test_id("article-save").click()
    console.get_by_text("文章已保存").wait_for()
    assert "已发布" in console.get_by_test_id("article-status").inner_text()
    article = Article.objects.get(title="本周三文鱼到货")
    console.goto("/console/content/pushes/")
    assert console.get_by_test_id("push-sent").inner_text() == "1"
    assert PushJob.objects.get(article=article).sent == 1

    page = signed_in_page(member)
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto("/inbox/")
    item = page.get_by_test_id("inbox-item").filter(has_text="本周三文鱼到货")
    item.wait_for()
    item.get_by_test_id("inbox-open").click()
    page.get_by_test_id("article-heading").wait_for()
    assert page.get_by_test_id("article-heading").inner_text() == "本周三文鱼到货"
    assert "新鲜到港" in page.get_by_test_id("article-body").inner_text()
    card = page.get_by_test_id("product-card")
    assert "挪威三文鱼刺身" in card.inner_text()
    assert "¥35.00" in card.get_by_test_id("card-price").inner_text()
    card.get_by_test_id("card-buy").click()
    page.wait_for_url(f"**/s/{shop.slug}/p/{product.pk}/?article={article.pk}")
    assert dialogs == []  # no script from the article body ever ran
