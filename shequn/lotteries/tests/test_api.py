"""The API as operators and members use it, and the independent verifier run on its published data."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from shequn.lotteries.models import Lottery
from shequn.testing.community import api_client, make_members

from .conftest import prize_coupon

pytestmark = pytest.mark.django_db

VERIFIER = Path(settings.BASE_DIR) / "scripts" / "verify_lottery.py"


def body(community, sku, **fields):
    start = timezone.now() + timedelta(minutes=5)
    values = {
        "title": "周年庆抽奖",
        "rules": "社群成员每人一次，开奖后公布种子与中奖名单。",
        "mode": "draw",
        "entry_condition": "community",
        "community_id": community.pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "draw_at": (start + timedelta(hours=1)).isoformat(),
        "claim_deadline": (start + timedelta(days=7)).isoformat(),
        "unclaimed_rule": "逾期未领取视为放弃。",
        "prizes": [
            {"name": "一等奖", "kind": "goods", "value_fen": 29900, "quantity": 1, "sku_id": sku.pk},
            {"name": "二等奖", "kind": "goods", "value_fen": 9900, "quantity": 3, "sku_id": sku.pk},
        ],
    }
    values.update(fields)
    return values


def run_verifier(published: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(VERIFIER), str(published)]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our script)


def post(client, path, data=None):
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def test_a_sharing_condition_is_refused_with_a_clear_message(console_client, community, sku):
    answer = post(console_client, "/api/v1/lotteries/console/lotteries", body(community, sku, entry_condition="share"))
    assert answer.status_code == 422
    assert answer.json()["code"] == "lottery_sharing_refused"
    assert "不能以分享、转发、发朋友圈或邀请好友为条件" in answer.json()["message"]
    assert not Lottery.objects.exists()


def test_published_draw_is_recomputed_by_the_independent_script(
    console_client, other_console_client, community, sku, tmp_path, django_capture_on_commit_callbacks
):
    created = post(console_client, "/api/v1/lotteries/console/lotteries", body(community, sku))
    assert created.status_code == 201
    lottery_id = created.json()["id"]
    assert Client().get(f"/api/v1/lotteries/{lottery_id}").status_code == 404  # a draft is not public
    assert post(other_console_client, f"/api/v1/lotteries/console/lotteries/{lottery_id}/publish").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        published = post(console_client, f"/api/v1/lotteries/console/lotteries/{lottery_id}/publish")
    assert published.json()["status"] == "published"
    seed_hash = Client().get(f"/api/v1/lotteries/{lottery_id}").json()["seed_hash"]
    lottery = Lottery.objects.get()
    assert lottery.draw_at is not None

    members = make_members(community, 9)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        numbers = [post(api_client(m), f"/api/v1/lotteries/{lottery_id}/entries").json()["number"] for m in members]
        frozen = console_client.put(
            f"/api/v1/lotteries/console/lotteries/{lottery_id}", json.dumps(body(community, sku)), "application/json"
        )
        early = post(console_client, f"/api/v1/lotteries/console/lotteries/{lottery_id}/draw")
    assert numbers == list(range(1, 10))
    assert (frozen.status_code, frozen.json()["code"]) == (409, "lottery_frozen")
    assert (early.status_code, early.json()["code"]) == (409, "lottery_draw_not_due")
    before = Client().get(f"/api/v1/lotteries/{lottery_id}/verification").json()
    assert (before["seed"], before["seed_hash"], before["winners"]) == (None, seed_hash, [])

    with time_machine.travel(lottery.draw_at + timedelta(seconds=5)):
        drawn = post(console_client, f"/api/v1/lotteries/console/lotteries/{lottery_id}/draw")
        figures = console_client.get(f"/api/v1/lotteries/console/lotteries/{lottery_id}/figures").json()
    assert drawn.json()["status"] == "drawn"
    assert (figures["entries"], figures["cost_fen"], [p["won"] for p in figures["prizes"]]) == (
        9,
        29900 + 3 * 9900,
        [1, 3],
    )
    data = Client().get(f"/api/v1/lotteries/{lottery_id}/verification").json()
    assert data["seed_hash"] == seed_hash
    assert len(data["winners"]) == 4
    assert all("*" in entry["name"] for entry in data["entries"])

    published_file = tmp_path / "lottery.json"
    published_file.write_text(json.dumps(data), encoding="utf-8")
    checked = run_verifier(published_file)
    assert (checked.returncode, checked.stdout.split(":")[0]) == (0, "OK")

    tampered = dict(data, winners=[{"number": w["number"] % 9 + 1, "position": w["position"]} for w in data["winners"]])
    published_file.write_text(json.dumps(tampered), encoding="utf-8")
    caught = run_verifier(published_file)
    assert caught.returncode == 1
    assert "differ from the recomputed" in caught.stdout


def test_a_coupon_prize_is_created_and_claimed_through_the_api(console_client, shop, operator, community, sku, commit):
    from shequn.coupons.models import MemberCoupon
    from shequn.lotteries import actions

    template = prize_coupon(shop)
    prize = {
        "name": "满100减20券",
        "kind": "coupon",
        "value_fen": 2000,
        "quantity": 1,
        "coupon_template_id": template.pk,
    }
    created = post(console_client, "/api/v1/lotteries/console/lotteries", body(community, sku, prizes=[prize]))
    assert created.status_code == 201
    lottery = Lottery.objects.get(pk=created.json()["id"])
    with commit():
        actions.publish_lottery(shop, operator, lottery.pk)
    lottery.refresh_from_db()
    member = make_members(community, 1)[0]
    client = api_client(member)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        assert post(client, f"/api/v1/lotteries/{lottery.pk}/entries").status_code == 200
    assert lottery.draw_at is not None
    with time_machine.travel(lottery.draw_at):
        actions.draw_lottery(lottery.pk)
        wins = client.get(f"/api/v1/lotteries/{lottery.pk}/wins").json()
        claimed = post(client, f"/api/v1/lotteries/wins/{wins[0]['id']}/claim")
    coupon = MemberCoupon.objects.get(user=member)
    assert wins[0]["kind"] == "coupon"
    assert claimed.status_code == 200
    assert (claimed.json()["status"], claimed.json()["coupon_id"]) == ("claimed", coupon.pk)
