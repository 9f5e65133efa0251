"""Key material for the sandbox, generated on first use under ``settings.SANDBOX_PAY_KEY_DIR``.

Real WeChat Pay splits these between the merchant (merchant private key, APIv3 key) and
WeChat (platform private keys). The sandbox plays both parts, so it keeps both; the
merchant-side client only ever sees what a real merchant would have. Nothing here is
ever committed: the directory lives under ``var/``.
"""

import datetime
import fcntl
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

ACTIVE_FILE = "platform_active"
API_V3_KEY_FILE = "apiv3_key"


@dataclass(frozen=True)
class PlatformKey:
    serial: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate


@dataclass(frozen=True)
class SandboxKeys:
    merchant_serial: str
    merchant_private_key: rsa.RSAPrivateKey
    platform_keys: dict[str, PlatformKey]  # every platform key still valid (rotation keeps several)
    active_platform_serial: str  # the one WeChat signs with now
    api_v3_key: bytes  # 32 bytes: the AES-256-GCM key for notification resources

    @property
    def merchant_public_key(self) -> rsa.RSAPublicKey:
        return self.merchant_private_key.public_key()

    @property
    def active_platform_key(self) -> PlatformKey:
        return self.platform_keys[self.active_platform_serial]


def key_dir() -> Path:
    return Path(settings.SANDBOX_PAY_KEY_DIR)


def _new_serial() -> str:
    # 40 hex digits like WeChat's; the first in 1-7 so it is a positive ASN.1 integer below 2**159
    # and survives the round trip through int and hex without losing a leading zero.
    return f"{secrets.choice('1234567')}{secrets.token_hex(20)[1:]}".upper()


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(key: rsa.RSAPrivateKey, serial: str) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "shequn sandbox pay"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Sandbox Pay Platform Certificate"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int(serial, 16))
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=5 * 365))
        .sign(key, hashes.SHA256())
    )


def _add_platform_key(directory: Path) -> str:
    serial = _new_serial()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_private(directory / f"platform_{serial}.pem", _pem(key))
    (directory / f"platform_{serial}.crt").write_bytes(
        _certificate(key, serial).public_bytes(serialization.Encoding.PEM)
    )
    return serial


def _set_active(directory: Path, serial: str) -> None:
    temporary = directory / f"{ACTIVE_FILE}.tmp"
    temporary.write_text(serial)
    os.replace(temporary, directory / ACTIVE_FILE)


class _DirectoryLock:
    """An exclusive lock across processes (web server and Huey consumer may start together)."""

    def __init__(self, directory: Path):
        self.path = directory / ".lock"

    def __enter__(self) -> None:
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def ensure_keys(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (directory / ACTIVE_FILE).exists():
        return
    with _DirectoryLock(directory):
        if (directory / ACTIVE_FILE).exists():
            return
        merchant_serial = _new_serial()
        merchant_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(directory / f"merchant_{merchant_serial}.pem", _pem(merchant_key))
        _write_private(directory / API_V3_KEY_FILE, secrets.token_hex(16).encode())  # 32 characters
        _set_active(directory, _add_platform_key(directory))


def rotate_platform_key() -> str:
    """Issue a new platform key and sign with it from now on; older keys stay valid (as in a rotation)."""
    directory = key_dir()
    ensure_keys(directory)
    with _DirectoryLock(directory):
        serial = _add_platform_key(directory)
        _set_active(directory, serial)
    return serial


def retire_platform_key(serial: str) -> None:
    """End a platform key's life (the end of a rotation)."""
    directory = key_dir()
    with _DirectoryLock(directory):
        if (directory / ACTIVE_FILE).read_text().strip() == serial:
            raise ValueError("cannot retire the active platform key")
        (directory / f"platform_{serial}.pem").unlink(missing_ok=True)
        (directory / f"platform_{serial}.crt").unlink(missing_ok=True)
        # Touch the active file so every process reloads.
        _set_active(directory, (directory / ACTIVE_FILE).read_text().strip())


@lru_cache(maxsize=8)
def _load(directory: str, _version: int) -> SandboxKeys:
    path = Path(directory)
    (merchant_file,) = path.glob("merchant_*.pem")
    merchant_key = serialization.load_pem_private_key(merchant_file.read_bytes(), password=None)
    assert isinstance(merchant_key, rsa.RSAPrivateKey)
    platform: dict[str, PlatformKey] = {}
    for key_file in sorted(path.glob("platform_*.pem")):
        serial = key_file.stem.removeprefix("platform_")
        private_key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(private_key, rsa.RSAPrivateKey)
        certificate = x509.load_pem_x509_certificate((path / f"platform_{serial}.crt").read_bytes())
        platform[serial] = PlatformKey(serial=serial, private_key=private_key, certificate=certificate)
    return SandboxKeys(
        merchant_serial=merchant_file.stem.removeprefix("merchant_"),
        merchant_private_key=merchant_key,
        platform_keys=platform,
        active_platform_serial=(path / ACTIVE_FILE).read_text().strip(),
        api_v3_key=(path / API_V3_KEY_FILE).read_bytes().strip(),
    )


def load_keys() -> SandboxKeys:
    """The current key material, generating it on first use; reloads after a rotation in any process."""
    directory = key_dir()
    ensure_keys(directory)
    version = (directory / ACTIVE_FILE).stat().st_mtime_ns
    return _load(str(directory), version)
