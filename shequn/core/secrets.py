"""Secrets at rest (merchant private keys, APIv3 keys): Fernet tokens under keys of their own.

The Fernet keys are derived (HKDF-SHA256) from ``settings.SHEQUN_SECRETS_KEYS``, set from the
``SHEQUN_SECRETS_KEY`` environment variable: a dedicated secret, so a leaked ``SECRET_KEY``
(sessions, signed links) does not open the merchants' keys too. It may list several keys,
comma-separated, newest first: tokens are written under the first and read under any
(``MultiFernet``), and ``reencrypt`` moves an old token onto the newest key. Plaintext never
goes to a log, an exception message or a page; pages show ``mask`` of it.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A token that none of the configured keys opens (wrong or retired SHEQUN_SECRETS_KEY)."""


def _derive(key: str) -> Fernet:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"shequn.core.secrets", info=b"fernet v1")
    return Fernet(base64.urlsafe_b64encode(material.derive(key.encode())))


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("SHEQUN_SECRETS_KEY is not set: secrets cannot be stored.")
    return MultiFernet([_derive(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SHEQUN_SECRETS_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("stored secret does not decrypt with SHEQUN_SECRETS_KEY") from None


def reencrypt(token: str) -> str:
    """The same secret under the newest key (after a new key was put first in SHEQUN_SECRETS_KEY)."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("stored secret does not decrypt with SHEQUN_SECRETS_KEY") from None


def mask(plaintext: str, visible: int = 4) -> str:
    """``••••••••1a2b``: enough to recognise which secret is stored, never enough to use it."""
    if not plaintext:
        return ""
    tail = plaintext[-visible:] if len(plaintext) > visible * 3 else ""
    return "••••••••" + tail
