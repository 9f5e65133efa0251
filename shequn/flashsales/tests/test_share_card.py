"""A flash sale shared inside WeChat shows a card: its title, description, the shop's logo, its link."""

import pytest
from django.test import Client

from shequn.flashsales.models import FlashSale
from shequn.testing.catalog import image_upload
from shequn.testing.wechat import WECHAT_USER_AGENT, share_card, wechat

from .conftest import buyer

__all__ = ["wechat"]

pytestmark = pytest.mark.django_db


def test_sale_page_in_wechat_carries_its_share_card(running, wechat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    running.shop.logo = image_upload("logo.png", (200, 200))
    running.shop.save(update_fields=["logo"])
    FlashSale.objects.filter(pk=running.pk).update(description="整点开抢，每人限购一台")
    browser = Client(HTTP_USER_AGENT=WECHAT_USER_AGENT)
    browser.force_login(buyer())

    card = share_card(browser.get(f"/flash/{running.pk}/").content.decode())

    assert card is not None
    assert card["share"] == {
        "title": "周五手机秒杀",
        "desc": "整点开抢，每人限购一台",
        "link": f"http://testserver/flash/{running.pk}/",
        "imgUrl": f"http://testserver{running.shop.logo.url}",
    }
    assert card["config"]["signature"]
