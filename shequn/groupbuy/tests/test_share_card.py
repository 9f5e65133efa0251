"""A 接龙 campaign shared inside WeChat shows a card: its title, description, the shop's logo, its link."""

import pytest
from django.test import Client

from shequn.testing.catalog import image_upload
from shequn.testing.wechat import WECHAT_USER_AGENT, share_card, wechat

from .conftest import join

__all__ = ["wechat"]

pytestmark = pytest.mark.django_db


def test_campaign_page_in_wechat_carries_its_share_card(world, wechat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world.shop.logo = image_upload("logo.png", (200, 200))
    world.shop.save(update_fields=["logo"])
    campaign = world.open_campaign(description="周六到团长家自提，<b>当天现切</b>")
    member = join(world.community, "小李", world.east)
    browser = Client(HTTP_USER_AGENT=WECHAT_USER_AGENT)
    browser.force_login(member)

    card = share_card(browser.get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode())

    assert card is not None
    assert card["share"] == {
        "title": "三文鱼周末接龙",
        "desc": "周六到团长家自提，当天现切",
        "link": f"http://testserver/groupbuy/campaigns/{campaign.pk}/",
        "imgUrl": f"http://testserver{world.shop.logo.url}",
    }
    assert card["config"]["signature"]
