"""The deploy check speaks up when WeChat is switched on without its AppSecret, or against the fake."""

from shequn.wechat.checks import FAKE_IN_USE, INCOMPLETE_CREDENTIALS, check_wechat_settings


def _ids() -> set[str]:
    return {message.id for message in check_wechat_settings() if message.id}


def test_off_by_default_and_silent(settings):
    assert settings.WECHAT_APP_ID == ""
    assert _ids() == set()


def test_app_id_without_secret_warns(settings):
    settings.WECHAT_APP_ID = "wx5b7c682cca621df2"
    settings.WECHAT_APP_SECRET = ""
    assert _ids() == {INCOMPLETE_CREDENTIALS}
    settings.WECHAT_APP_SECRET = "set"
    assert _ids() == set()
    settings.WECHAT_FAKE = True
    assert _ids() == {FAKE_IN_USE}
