"""WeChat subscribe messages (订阅通知 of the official account): sent only with the member's consent,
once per event, retried with growing waits, consent withdrawn on 43101, the access token fetched
again once when refused — all against shequn.wechat's fake of api.weixin.qq.com."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from huey.contrib.djhuey import HUEY

from shequn.notifications import actions
from shequn.notifications.enums import SubscribeMessageStatus
from shequn.notifications.models import Notification, SubscribeConsent, SubscribeMessage
from shequn.testing.orders import make_member, make_shop, make_sku, paid_order
from shequn.testing.payments import run_scheduled_tasks
from shequn.testing.wechat import TEMPLATES, bind_wechat, wechat, wechat_subscribe
from shequn.wechat.fake import FAKE

__all__ = ["wechat", "wechat_subscribe"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(wechat_subscribe):
    user = make_member()
    user.openid = bind_wechat(user, "小林")  # signed in through WeChat once
    return user


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def report(user, results):
    """The page posts what the wx-open-subscribe tag's success event reported, as the member's request."""
    client = Client()
    client.force_login(user)
    response = client.post("/api/v1/notifications/subscriptions", {"results": results}, content_type="application/json")
    assert response.status_code == 200, response.content
    return {item["template"]: item["accepted"] for item in response.json()["items"]}


def accept(user, *template_keys):
    """The member accepts in WeChat's dialog: WeChat counts one message allowed, the page tells us."""
    for key in template_keys:
        FAKE.accept_subscription(user.openid, TEMPLATES[key])
    return report(user, {TEMPLATES[key]: "accept" for key in template_keys})


def retries():
    """The scheduled sends (placing an order schedules its unpaid-order close too)."""
    return [task for task in HUEY.scheduled() if task.name.endswith("send_subscribe_message_task")]


def pay(user, commit, **kwargs):
    with commit():
        return paid_order(user, make_sku(make_shop()), **kwargs)


def test_an_accepted_template_sends_the_paid_message_once(member, wechat_subscribe, commit):
    assert accept(member, "order_paid")["order_paid"] is True

    order = pay(member, commit)

    (sent,) = wechat_subscribe.sent
    assert sent["touser"] == member.openid
    assert sent["template_id"] == TEMPLATES["order_paid"]
    assert sent["page"] == f"{settings.SITE_URL}/orders/{order.number}/"
    assert sent["data"]["thing1"]["value"] == "支付成功"
    assert SubscribeMessage.objects.get(user=member).status == SubscribeMessageStatus.SENT
    # The same event delivered again (the channel runs twice, the task runs twice): nothing more is sent.
    notification = Notification.objects.get(user=member, kind="order.paid")
    wechat_subscribe.accept_subscription(member.openid, TEMPLATES["order_paid"])
    with commit():
        actions.queue_subscribe_message(notification)
        actions.send_subscribe_message(SubscribeMessage.objects.get(user=member).pk)
    assert len(wechat_subscribe.sent) == 1
    assert SubscribeMessage.objects.filter(user=member).count() == 1


def test_without_consent_or_after_opting_out_nothing_is_sent(member, wechat_subscribe, commit):
    wechat_subscribe.accept_subscription(member.openid, TEMPLATES["order_paid"], times=5)
    pay(member, commit)
    assert wechat_subscribe.sent == []  # WeChat would allow it, but the member never told us so

    accept(member, "order_paid")
    client = Client()
    client.force_login(member)
    items = client.post("/api/v1/notifications/subscriptions/order_paid/opt-out").json()["items"]
    assert {item["template"]: item["accepted"] for item in items}["order_paid"] is False
    pay(member, commit)

    assert wechat_subscribe.sent == []
    assert not SubscribeMessage.objects.exists()
    assert Notification.objects.filter(user=member, kind="order.paid").count() == 2  # the inbox still has them


def test_a_member_without_a_wechat_binding_gets_nothing_queued(wechat_subscribe, commit):
    phone_only = make_member()
    report(phone_only, {TEMPLATES["order_paid"]: "accept"})

    pay(phone_only, commit)

    assert not SubscribeMessage.objects.exists()
    assert wechat_subscribe.sent == []


def test_a_failed_send_is_retried_with_growing_waits_then_succeeds(member, wechat_subscribe, commit):
    accept(member, "order_paid")
    wechat_subscribe.fail_sends(-1, 45009)  # system busy, then the daily limit

    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False):
        pay(member, commit)
        message = SubscribeMessage.objects.get(user=member)
        assert (message.status, message.errcode, message.attempts) == (SubscribeMessageStatus.PENDING, -1, 1)
        (retry,) = retries()
        assert retry.eta == datetime(2026, 12, 7, 12, 0, 30)
        run_scheduled_tasks(rounds=1)
        message.refresh_from_db()
        assert (message.status, message.errcode, message.attempts) == (SubscribeMessageStatus.PENDING, 45009, 2)
        (second_retry,) = retries()
        assert second_retry.eta == datetime(2026, 12, 7, 12, 2)

    run_scheduled_tasks()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (SubscribeMessageStatus.SENT, 3)
    assert len(wechat_subscribe.sent) == 1


def test_it_gives_up_after_the_last_retry(member, wechat_subscribe, commit):
    accept(member, "order_paid")
    wechat_subscribe.fail_sends(*[-1] * 10)

    pay(member, commit)
    run_scheduled_tasks()

    message = SubscribeMessage.objects.get(user=member)
    assert message.status == SubscribeMessageStatus.FAILED
    assert message.attempts == len(actions.SUBSCRIBE_RETRY_SECONDS) + 1
    assert wechat_subscribe.sent == []


def test_43101_withdraws_the_consent(member, wechat_subscribe, commit):
    accept(member, "order_paid")
    pay(member, commit)  # uses up the one message that "accept" allowed
    assert len(wechat_subscribe.sent) == 1

    pay(member, commit)  # our record still says yes, WeChat holds nothing more: 43101

    second = SubscribeMessage.objects.filter(user=member).latest("id")
    assert (second.status, second.errcode) == (SubscribeMessageStatus.SKIPPED, 43101)
    consent = SubscribeConsent.objects.get(user=member, template="order_paid")
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_reason == "refused_43101"
    assert retries() == []  # not retried
    pay(member, commit)
    assert SubscribeMessage.objects.filter(user=member).count() == 2  # no more messages queued


def test_a_refused_access_token_is_fetched_again_once_and_the_send_retried(member, wechat_subscribe, commit):
    accept(member, "order_paid")
    wechat_subscribe.accept_subscription(member.openid, TEMPLATES["order_paid"])
    pay(member, commit)
    assert wechat_subscribe.calls.count("/cgi-bin/token") == 1

    wechat_subscribe.revoke_tokens()  # e.g. the AppSecret was reset
    pay(member, commit)

    assert wechat_subscribe.calls.count("/cgi-bin/token") == 2
    assert len(wechat_subscribe.sent) == 2
    assert set(SubscribeMessage.objects.values_list("status", flat=True)) == {SubscribeMessageStatus.SENT}


def test_consent_answers_for_unknown_templates_are_ignored_and_rejections_withdraw(member):
    accepted = report(member, {TEMPLATES["refund_done"]: "accept", "NOT_OURS": "accept"})
    assert accepted["refund_done"] is True
    assert set(SubscribeConsent.objects.filter(user=member).values_list("template", flat=True)) == {"refund_done"}

    report(member, {TEMPLATES["refund_done"]: "cancel"})  # the dialog closed: no answer, nothing changes
    assert SubscribeConsent.objects.get(user=member).withdrawn_at is None
    report(member, {TEMPLATES["refund_done"]: "reject"})
    assert SubscribeConsent.objects.get(user=member).withdrawn_reason == "rejected"


def test_a_template_with_other_keywords_gets_each_field_fitted_to_its_type(member, wechat_subscribe, commit, settings):
    # The account picked a template whose keywords are a phrase (title), a thing (note) and a time.
    wechat_subscribe.subscribe_templates[TEMPLATES["order_paid"]] = {"phrase3", "thing7", "time2"}
    settings.WECHAT_SUBSCRIBE_TEMPLATES = dict(
        TEMPLATES,
        order_paid={"id": TEMPLATES["order_paid"], "fields": {"title": "phrase3", "note": "thing7", "time": "time2"}},
    )
    accept(member, "order_paid")

    with time_machine.travel(datetime(2026, 3, 2, 1, 5, tzinfo=UTC), tick=False):
        pay(member, commit)

    (sent,) = wechat_subscribe.sent
    assert set(sent["data"]) == {"phrase3", "thing7", "time2"}
    assert sent["data"]["phrase3"]["value"] == "支付成功"  # 4 characters: within a phrase's 5
    assert len(sent["data"]["thing7"]["value"]) <= 20
    assert sent["data"]["time2"]["value"] == "2026年3月2日 09:05"  # Shanghai time


def test_a_keyword_the_template_does_not_have_is_refused_and_retried(member, wechat_subscribe, commit):
    # The account's template has other keywords than the default mapping (thing1, thing2) fills.
    wechat_subscribe.subscribe_templates[TEMPLATES["order_paid"]] = {"thing1", "character_string2"}
    accept(member, "order_paid")

    pay(member, commit)

    assert wechat_subscribe.sent == []
    message = SubscribeMessage.objects.get(user=member)
    assert (message.status, message.errcode) == (SubscribeMessageStatus.PENDING, 47003)
    assert "thing2" in message.error


def test_the_message_is_in_the_members_language(member, wechat_subscribe, commit):
    member.language = "en"
    member.save(update_fields=["language"])
    accept(member, "order_paid")

    pay(member, commit)

    (sent,) = wechat_subscribe.sent
    assert sent["data"]["thing1"]["value"] == "Payment received"
