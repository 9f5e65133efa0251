"""Races that only a real engine shows (SQLite ignores select_for_update): run in the PostgreSQL pass."""

import threading
from collections.abc import Callable

import pytest
from django.db import connections

from shequn.accounts.actions import AddressInput, do_create_address, do_send_otp, do_verify_otp
from shequn.accounts.models import Address, OtpCode, User
from shequn.core.errors import DomainError
from shequn.testing.factories import UserFactory

PHONE = "13812341234"
RACERS = 12


def _race(work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    start = threading.Barrier(RACERS)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            start.wait(timeout=30)
            outcome = work(index)
            with lock:
                results.append(outcome)
        except BaseException as error:  # collected and checked in the main thread
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_code_signs_in_exactly_once_under_concurrency(sms_outbox, settings):
    settings.OTP_VERIFY_LIMIT_PER_PHONE_AND_IP = (1000, 3600)
    do_send_otp(PHONE, ip=None)
    code = sms_outbox.last_code(PHONE)
    results, errors = _race(lambda _: do_verify_otp(PHONE, code, ip=None).pk)
    assert len(results) == 1
    assert len(errors) == RACERS - 1
    assert all(isinstance(error, DomainError) and error.code == "otp_invalid" for error in errors)
    assert User.objects.filter(phone=PHONE).count() == 1
    assert OtpCode.objects.filter(phone=PHONE, used_at__isnull=False).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_default_addresses_leave_exactly_one_default():
    user = UserFactory.create()
    data = AddressInput(
        recipient="王小明",
        phone="13912345678",
        province_code="310000",
        city_code="310100",
        district_code="310115",
        detail="张江路 100 弄 5 号 601",
        is_default=True,
    )
    results, errors = _race(lambda _: do_create_address(user, data).pk)
    assert not errors, errors
    assert len(results) == RACERS
    assert Address.objects.filter(user=user).count() == RACERS
    assert Address.objects.filter(user=user, is_default=True).count() == 1
