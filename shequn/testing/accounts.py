"""Test helpers for signing people in: members by OTP through the outbox SMS backend, staff by password."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from shequn.accounts.actions import do_issue_token
from shequn.accounts.sms import OutboxSmsBackend

OUTBOX_BACKEND = "shequn.accounts.sms.OutboxSmsBackend"
STAFF_PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def sms_outbox(settings: Any) -> Iterator[type[OutboxSmsBackend]]:
    """Send sign-in codes to memory; read one with ``sms_outbox.last_code(phone)``."""
    settings.SMS_BACKEND = OUTBOX_BACKEND
    OutboxSmsBackend.outbox.clear()
    yield OutboxSmsBackend
    OutboxSmsBackend.outbox.clear()


def bearer(user: Any) -> dict[str, str]:
    """Headers for an API call as ``user`` (a fresh token each call)."""
    return {"Authorization": f"Bearer {do_issue_token(user, name='test').token}"}


def member_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_client(user: Any, password: str = STAFF_PASSWORD) -> Client:
    """A client signed in through the real console login page."""
    client = Client()
    response = client.post("/console/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client
