"""Pages: a promoter link records the visit, binds the signed-in visitor and goes on to the page;
the promoter centre shows links, QR codes and frozen commission."""

import pytest
from django.test import Client

from shequn.distribution import actions
from shequn.distribution.models import Binding, Promoter, Visit
from shequn.testing.factories import UserFactory
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
    assert qr.content.startswith(b"<svg")


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
