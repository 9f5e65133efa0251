"""Pages: a promoter link records the visit, binds the signed-in visitor and goes on to the page;
the promoter centre shows links, QR codes and frozen commission."""

import pytest
from django.test import Client
from django.utils import timezone

from shequn.catalog.models import ProductImage
from shequn.content.models import Article
from shequn.distribution import actions
from shequn.distribution.models import Binding, DistributionSettings, Promoter, Visit
from shequn.testing.catalog import image_upload
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, SkuFactory, UserFactory
from shequn.testing.orders import make_sku
from shequn.testing.two_shops import login

from .helpers import approved_promoter

pytestmark = pytest.mark.django_db


def test_a_link_records_the_visit_binds_and_redirects(shop):
    promoter = approved_promoter(shop)
    product = make_sku(shop, title="三文鱼").product
    target = f"/s/{shop.slug}/p/{product.pk}/"
    visitor = UserFactory.create()
    response = login(visitor).get(f"/r/{promoter.code}/", {"to": target}, HTTP_USER_AGENT="Mobile")
    assert (response.status_code, response["Location"]) == (302, target)
    assert Binding.objects.get(customer=visitor).promoter_id == promoter.pk
    anonymous = Client().get(f"/r/{promoter.code}/", {"to": "https://evil.example/"})
    assert anonymous["Location"] == f"/s/{shop.slug}/"
    assert Visit.objects.filter(promoter=promoter).count() == 2
    own = login(promoter.user).get(f"/r/{promoter.code}/", {"to": target})
    assert own.status_code == 302
    assert Binding.objects.filter(customer=promoter.user).count() == 0


def test_the_promoter_centre_lists_share_links_with_qr(shop):
    promoter = approved_promoter(shop)
    make_sku(shop, title="三文鱼")
    client = login(promoter.user)
    page = client.get("/promoter/")
    assert page.status_code == 200
    html = page.content.decode()
    assert promoter.code in html
    assert html.count('data-testid="share-link"') == 2  # the shop home and one product
    assert "¥0.00" in html
    qr = client.get(f"/promoter/qr/{promoter.code}.svg", {"to": f"/s/{shop.slug}/"})
    assert (qr.status_code, qr["Content-Type"]) == (200, "image/svg+xml")
    assert qr.content.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')  # renders in an <img>


def test_a_member_applies_from_the_page_for_free(shop, operator):
    actions.do_update_settings(operator, shop, {"auto_approve": True})
    member = UserFactory.create()
    client = login(member)
    assert 'data-testid="apply-button"' in client.get("/promoter/", {"shop": shop.slug}).content.decode()
    response = client.post(f"/promoter/apply/{shop.slug}/")
    assert response.status_code == 302
    assert Promoter.objects.get(user=member).status == "approved"
    assert client.get("/promoter/").content.decode().count('data-testid="share-link"') == 1


def test_a_visitor_signed_out_is_bound_when_they_sign_in(shop):
    promoter = approved_promoter(shop)
    visitor = UserFactory.create()
    client = Client()
    client.get(f"/r/{promoter.code}/", {"to": f"/s/{shop.slug}/"})
    assert Binding.objects.count() == 0
    client.force_login(visitor)
    assert Binding.objects.get(customer=visitor).promoter_id == promoter.pk


def test_the_promoter_centre_shows_the_team_masked(shop):
    upper = approved_promoter(shop)
    lower = approved_promoter(shop, nickname="张三")
    actions.do_bind(upper, lower.user)
    html = login(upper.user).get("/promoter/").content.decode()
    assert "我的团队（二级）：张*" in html


def test_the_promoter_opens_a_product_poster_with_title_price_qr_and_link(shop):
    promoter = approved_promoter(shop, nickname="阿甲")
    sku = make_sku(shop, title="挪威三文鱼礼盒", price_fen=3590)
    target = f"/s/{shop.slug}/p/{sku.product.pk}/"
    client = login(promoter.user)
    centre = client.get("/promoter/").content.decode()
    assert f'href="/promoter/poster/{promoter.code}/?to={target}" data-testid="share-poster"' in centre
    page = client.get(f"/promoter/poster/{promoter.code}/", {"to": target})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="poster-shop">{shop.name}<' in html
    assert 'data-testid="poster-title">挪威三文鱼礼盒<' in html
    assert 'data-testid="poster-price">¥35.90<' in html
    assert 'data-testid="poster-promoter">阿* 推荐<' in html
    assert f'src="/promoter/qr/{promoter.code}.svg?to={target}"' in html
    assert f'value="http://testserver/r/{promoter.code}/?to=%2Fs%2F{shop.slug}%2Fp%2F{sku.product.pk}%2F"' in html
    assert "长按保存图片或截图分享" in html
    assert 'data-testid="poster-image"' not in html  # no photo yet

    ProductImage.objects.create(product=sku.product, image=image_upload("salmon.png"))
    SkuFactory.create(product=sku.product, spec="1kg", price_fen=6590)
    html = client.get(f"/promoter/poster/{promoter.code}/", {"to": target}).content.decode()
    image = ProductImage.objects.get(product=sku.product)
    assert f'src="{image.image.url}" alt="挪威三文鱼礼盒" data-testid="poster-image"' in html
    assert 'data-testid="poster-price">¥35.90 起<' in html  # the lowest of two prices


def test_posters_for_the_shop_home_a_community_and_an_article(shop):
    promoter = approved_promoter(shop)
    community = CommunityFactory.create(shop=shop, name="三文鱼爱好者")
    article = Article.objects.create(
        shop=shop, community=community, title="三文鱼的十种吃法", status="published", published_at=timezone.now()
    )
    client = login(promoter.user)
    for target, title in [
        (f"/s/{shop.slug}/", shop.name),
        (f"/c/join/{community.invite_code}/", "三文鱼爱好者"),
        (f"/c/{community.pk}/articles/{article.pk}/", "三文鱼的十种吃法"),
    ]:
        html = client.get(f"/promoter/poster/{promoter.code}/", {"to": target}).content.decode()
        assert f'data-testid="poster-title">{title}<' in html
        assert 'data-testid="poster-price"' not in html
        # The shop's name is not printed twice on the home's poster.
        assert ('data-testid="poster-shop"' in html) is (title != shop.name)


def test_only_the_promoter_opens_their_poster(shop):
    promoter = approved_promoter(shop)
    target = f"/s/{shop.slug}/"
    assert login(UserFactory.create()).get(f"/promoter/poster/{promoter.code}/", {"to": target}).status_code == 404
    signed_out = Client().get(f"/promoter/poster/{promoter.code}/", {"to": target})
    assert (signed_out.status_code, signed_out["Location"].startswith("/login/")) == (302, True)
    Promoter.objects.filter(pk=promoter.pk).update(status="pending")
    assert login(promoter.user).get(f"/promoter/poster/{promoter.code}/", {"to": target}).status_code == 404


def test_a_poster_for_an_unsafe_or_foreign_target_is_refused(shop, other_shop):
    promoter = approved_promoter(shop)
    foreign = make_sku(other_shop, title="别家商品").product
    off_shelf = make_sku(shop, title="下架商品", on_shelf=False).product
    client = login(promoter.user)
    for target in [
        "https://evil.example/",
        "//evil.example/s/salmon/",
        "/s/salmon/p/../../admin/",
        f"/s/{other_shop.slug}/p/{foreign.pk}/",
        f"/s/{shop.slug}/p/{foreign.pk}/",
        f"/s/{shop.slug}/p/{off_shelf.pk}/",
        "/console/",
        "",
    ]:
        response = client.get(f"/promoter/poster/{promoter.code}/", {"to": target})
        assert response.status_code == 422, target
        assert "不能为这个页面生成海报" in response.content.decode()


def test_a_pending_applicant_is_told_to_wait_and_a_rejected_one_may_apply_again(shop, operator):
    member = UserFactory.create()
    promoter = actions.do_apply(member, shop)
    client = login(member)
    html = client.get("/promoter/").content.decode()
    assert 'data-testid="promoter-status">待审核<' in html
    assert "申请已提交，店铺审核通过后这里会出现你的推广链接和海报。" in html
    assert 'data-testid="reapply-button"' not in html
    actions.do_decide(operator, shop, promoter, approve=False)
    html = client.get("/promoter/").content.decode()
    assert 'data-testid="promoter-status">已拒绝<' in html
    assert "店铺未通过你的申请。你可以再次申请（免费，无需购买）。" in html
    client.post(f"/promoter/apply/{shop.slug}/")
    assert Promoter.objects.get(pk=promoter.pk).status == "pending"
    assert 'data-testid="reapply-button"' not in client.get("/promoter/").content.decode()


def test_the_promoter_centre_offers_the_shops_a_member_belongs_to(shop, other_shop, operator):
    member = UserFactory.create()
    client = login(member)
    assert "加入店铺的社群后即可在这里免费申请，无需购买。" in client.get("/promoter/").content.decode()
    MembershipFactory.create(user=member, community=CommunityFactory.create(shop=shop))
    MembershipFactory.create(user=member, community=CommunityFactory.create(shop=other_shop))
    ShopFactory.create(name="不相干的店")
    DistributionSettings.objects.create(shop=other_shop, enabled=False)  # promotion closed there
    html = client.get("/promoter/").content.decode()
    assert html.count('data-testid="shop-to-promote"') == 1
    assert f'action="/promoter/apply/{shop.slug}/"' in html
    assert "不相干的店" not in html
    client.post(f"/promoter/apply/{shop.slug}/")
    assert Promoter.objects.get(user=member).status == "pending"
    html = client.get("/promoter/").content.decode()
    assert 'data-testid="shop-to-promote"' not in html
    assert 'data-testid="promoter-status">待审核<' in html
